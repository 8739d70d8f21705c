"""The commands: each runs one operation of the client with the parsed arguments and prints it."""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from typing import Any, Callable, Optional

from kvarchive import (
    ArchivedMediaClient,
    ClipTruncationWarning,
    KVArchiveError,
    MediaStream,
    ValidationError,
)
from kvarchive._audio.reader import TrackSpec, check_tracks
from kvarchive._decode.decoded_frame import require_images
from kvarchive._decode.decoder import require_decoder
from kvarchive._destinations import S3Factory, check_file, check_folder, is_s3
from kvarchive._download import write_wav
from kvarchive._links import presigned_link
from kvarchive._progress import progress_bar
from kvarchive.cli._output import (
    FrameWriter,
    ImageTally,
    audio_line,
    audio_record,
    download_line,
    download_record,
    no_fragments,
    print_fragments,
    print_result,
    save_image,
    save_media,
    tell,
    warn,
)

__all__ = [
    "Command",
    "audio",
    "audio_of_file",
    "clip",
    "clips",
    "dash_url",
    "download",
    "endpoint",
    "fragments",
    "frames",
    "frames_of_file",
    "hls_url",
    "images",
    "inspect",
    "require_extras",
]

Command = Callable[[ArchivedMediaClient, argparse.Namespace], None]
"""What a command runs: the client, and the parsed arguments."""


def _stream(args: argparse.Namespace) -> dict[str, Any]:
    return {"stream_name": args.stream_name, "stream_arn": args.stream_arn}


def _span(args: argparse.Namespace) -> dict[str, Any]:
    """The stream, time range and timestamp type a command names."""
    span = {"start": args.start, "end": args.end, "timestamp_type": args.timestamp_type}
    return {**_stream(args), **span}


def endpoint(kv: ArchivedMediaClient, args: argparse.Namespace) -> None:
    url = kv.data_endpoint(args.api_name, **_stream(args))
    print_result(args.output, {"api_name": args.api_name.upper(), "data_endpoint": url}, [url])


def inspect(kv: ArchivedMediaClient, args: argparse.Namespace) -> None:
    report = kv.inspect(**_stream(args))
    print_result(args.output, report.to_dict(), [str(report)])


def fragments(kv: ArchivedMediaClient, args: argparse.Namespace) -> None:
    pager = kv.list_fragments(**_span(args))
    if args.output == "timeline":
        print(pager.timeline())  # which says how many fragments it holds
    elif not print_fragments(pager, args.output):
        tell(no_fragments(args.start, args.end))


def hls_url(kv: ArchivedMediaClient, args: argparse.Namespace) -> None:
    url = kv.get_hls_streaming_session_url(
        **_stream(args),
        **_session_arguments(args),
        container_format=args.container_format,
        discontinuity_mode=args.discontinuity_mode,
        max_media_playlist_fragment_results=args.max_media_playlist_fragment_results,
    )
    print_result(args.output, {"url": url, "playback_mode": args.playback_mode}, [url])


def dash_url(kv: ArchivedMediaClient, args: argparse.Namespace) -> None:
    url = kv.get_dash_streaming_session_url(
        **_stream(args),
        **_session_arguments(args),
        display_fragment_number=args.display_fragment_number,
        max_manifest_fragment_results=args.max_manifest_fragment_results,
    )
    print_result(args.output, {"url": url, "playback_mode": args.playback_mode}, [url])


def _session_arguments(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "playback_mode": args.playback_mode,
        "start": args.start,
        "end": args.end,
        "timestamp_type": args.timestamp_type,
        "display_fragment_timestamp": args.display_fragment_timestamp,
        "expires": args.expires,
    }


def clip(kv: ArchivedMediaClient, args: argparse.Namespace) -> None:
    check_presign(args)
    check_file(args.outfile, kv._s3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        media = kv.get_clip(**_span(args))
    for warning in caught:
        if isinstance(warning.message, ClipTruncationWarning):
            warn(
                f"this range holds {warning.message.fragment_count} fragments "
                f"({warning.message.size} bytes) and GetClip stops at 200 fragments or 100 MB: "
                "for the whole range use 'kvarchive clips -o DIR' (several MP4 files) "
                "or 'kvarchive download -o FILE.mkv'"
            )
        else:
            warnings.showwarning(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    size = save_media(media, args.outfile, kv._s3)
    record = linked({"path": args.outfile, "bytes_written": size}, kv, args)
    print_result(args.output, record, [args.outfile, *record_link(record)])


def clips(kv: ArchivedMediaClient, args: argparse.Namespace) -> None:
    check_presign(args)
    results = kv.download_clips(**_span(args), directory=args.outfile)
    if not results:
        tell(f"{no_fragments(args.start, args.end)}: no clip written")
    records = [linked(download_record(result), kv, args) for result in results]
    lines = [
        line
        for result, record in zip(results, records)
        for line in (download_line(result), *record_link(record))
    ]
    print_result(args.output, records, lines)


def check_presign(args: argparse.Namespace) -> None:
    """``--presign`` needs ``-o s3://...``: a ValidationError (exit status 2) before any request."""
    if args.presign is not None and not is_s3(args.outfile):
        raise ValidationError("--presign needs -o s3://...: a local file has no link")


def linked(record: dict[str, Any], kv: ArchivedMediaClient, args: argparse.Namespace) -> Any:
    """``record`` of a written file, with its ``presigned_url`` when ``--presign`` asks for it."""
    if args.presign is None:
        return record
    return {**record, "presigned_url": presigned_link(record["path"], kv._s3, args.presign)}


def record_link(record: dict[str, Any]) -> list[str]:
    """The text lines of a record's link: the URL alone on a line, or nothing."""
    return [record["presigned_url"]] if "presigned_url" in record else []


def images(kv: ArchivedMediaClient, args: argparse.Namespace) -> None:
    if (args.width is None) != (args.height is None):
        raise ValidationError("--width and --height go together: give both or neither")
    check_folder(args.outfile, kv._s3)
    images = kv.get_images(
        **_span(args),
        sampling_interval=args.interval,
        format=args.format,
        width=args.width,
        height=args.height,
        jpeg_quality=args.quality,
    )
    tally = ImageTally(args.outfile, images.instant_count, keep_paths=args.output == "json")
    passed = 0
    with progress_bar(True, tally.instants, "images", unit="instant") as advance:  # on a terminal
        for image in images:
            reached = (image.timestamp - images.start) // images.sampling_interval + 1
            advance(reached - passed)
            passed = reached
            if image.data is None:
                tally.fail(image)
                continue
            path = save_image(image.timestamp, image.data, args.outfile, args.format, kv._s3)
            tally.add(image, path)
            if args.output != "json":
                print(path)
        advance(tally.instants - passed)
    if args.output == "json":
        print_result(args.output, tally.record(), [])
    print(tally.summary(), file=sys.stderr)


def download(kv: ArchivedMediaClient, args: argparse.Namespace) -> None:
    check_presign(args)
    result = kv.download(
        **_span(args),
        path=args.outfile,
        progress=True,  # drawn on a terminal only
        concurrency=args.concurrency,
    )
    record = linked(download_record(result), kv, args)
    print_result(args.output, record, [download_line(result), *record_link(record)])


def audio(kv: ArchivedMediaClient, args: argparse.Namespace) -> None:
    result = kv.download_audio(
        **_span(args),
        path=args.outfile,
        tracks=_tracks(args.track),
        progress=True,  # drawn on a terminal only
    )
    print_result(args.output, audio_record(result), [audio_line(result)])


def audio_of_file(args: argparse.Namespace) -> None:
    """``audio --file``: the same WAV writer on a local Matroska file, no client, no AWS."""
    chosen = check_tracks(_tracks(args.track))
    check_file(args.outfile, _no_s3)
    media = MediaStream.from_file(args.file)
    size = os.path.getsize(args.file)
    result = write_wav(media, size, args.outfile, _no_s3, tracks=chosen, progress=True, fragments=0)
    print_result(args.output, audio_record(result), [audio_line(result)])


def _tracks(given: Optional[list[str]]) -> Optional[list[TrackSpec]]:
    """``--track`` values: digits are a track number, anything else a track name."""
    if given is None:
        return None
    return [int(spec) if spec.isdigit() else spec for spec in given]


def frames(kv: ArchivedMediaClient, args: argparse.Namespace) -> None:
    check_folder(args.outfile, kv._s3)
    listed = list(kv.list_fragments(**_span(args)))
    if not listed:
        tell(no_fragments(args.start, args.end))
    media = kv.get_media_for_fragment_list(**_stream(args), fragments=listed) if listed else None
    _save_frames(media, sum(f.size for f in listed), args, kv._s3)


def frames_of_file(args: argparse.Namespace) -> None:
    """``frames --file``: no client, no AWS."""
    media = MediaStream.from_file(args.file)
    check_folder(args.outfile, _no_s3)
    _save_frames(media, os.path.getsize(args.file), args, _no_s3)


def require_extras() -> None:
    """KVArchiveError (exit status 1) naming what to install if PyAV, numpy or Pillow is missing."""
    missing = []
    for require in (require_decoder, require_images):
        try:
            require()
        except ImportError as exc:
            missing.append(str(exc))
    if missing:
        raise KVArchiveError("; ".join(missing))


def _no_s3() -> Any:
    """What ``--file`` commands have for S3: none (they use no AWS), a ValidationError."""
    raise ValidationError("with --file, -o is a local path: no AWS is used")


def _save_frames(
    media: Optional[MediaStream], size: int, args: argparse.Namespace, s3: S3Factory
) -> None:
    """Decode ``media`` (``size`` bytes, about) into images, with a progress bar on a terminal."""
    json_out = args.output == "json"
    writer = FrameWriter(args.outfile, args.format, args.quality, keep_paths=json_out, s3=s3)
    if media is not None:
        with media, progress_bar(True, size, "frames") as advance:
            decoded = media.iter_frames(
                decode=True, every=args.every, keyframes_only=args.keyframes_only
            )
            read = 0
            for frame in decoded:
                path = writer.write(frame)
                if args.output != "json":
                    print(path)
                advance(media.position - read)
                read = media.position
            advance(media.position - read)
            writer.frames_decoded = decoded.frames_decoded
    if args.output == "json":
        print_result(args.output, writer.record(), [])
    print(writer.summary(), file=sys.stderr)
