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
from kvarchive._download import write_wav
from kvarchive._files import output_file, output_folder
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
    output_file(args.outfile)
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
    size = save_media(media, args.outfile)
    print_result(args.output, {"path": args.outfile, "bytes_written": size}, [args.outfile])


def clips(kv: ArchivedMediaClient, args: argparse.Namespace) -> None:
    results = kv.download_clips(**_span(args), directory=args.outfile)
    if not results:
        tell(f"{no_fragments(args.start, args.end)}: no clip written")
    records = [download_record(result) for result in results]
    print_result(args.output, records, [download_line(result) for result in results])


def images(kv: ArchivedMediaClient, args: argparse.Namespace) -> None:
    if (args.width is None) != (args.height is None):
        raise ValidationError("--width and --height go together: give both or neither")
    output_folder(args.outfile)
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
            path = save_image(image.timestamp, image.data, args.outfile, args.format)
            tally.add(image, path)
            if args.output != "json":
                print(path)
        advance(tally.instants - passed)
    if args.output == "json":
        print_result(args.output, tally.record(), [])
    print(tally.summary(), file=sys.stderr)


def download(kv: ArchivedMediaClient, args: argparse.Namespace) -> None:
    result = kv.download(
        **_span(args),
        path=args.outfile,
        progress=True,  # drawn on a terminal only
        concurrency=args.concurrency,
    )
    print_result(args.output, download_record(result), [download_line(result)])


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
    output_file(args.outfile)
    media = MediaStream.from_file(args.file)
    size = os.path.getsize(args.file)
    result = write_wav(media, size, args.outfile, tracks=chosen, progress=True, fragments=0)
    print_result(args.output, audio_record(result), [audio_line(result)])


def _tracks(given: Optional[list[str]]) -> Optional[list[TrackSpec]]:
    """``--track`` values: digits are a track number, anything else a track name."""
    if given is None:
        return None
    return [int(spec) if spec.isdigit() else spec for spec in given]


def frames(kv: ArchivedMediaClient, args: argparse.Namespace) -> None:
    output_folder(args.outfile)
    listed = list(kv.list_fragments(**_span(args)))
    if not listed:
        tell(no_fragments(args.start, args.end))
    media = kv.get_media_for_fragment_list(**_stream(args), fragments=listed) if listed else None
    _save_frames(media, sum(f.size for f in listed), args)


def frames_of_file(args: argparse.Namespace) -> None:
    """``frames --file``: no client, no AWS."""
    media = MediaStream.from_file(args.file)
    output_folder(args.outfile)
    _save_frames(media, os.path.getsize(args.file), args)


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


def _save_frames(media: Optional[MediaStream], size: int, args: argparse.Namespace) -> None:
    """Decode ``media`` (``size`` bytes, about) into images, with a progress bar on a terminal."""
    writer = FrameWriter(args.outfile, args.format, args.quality, keep_paths=args.output == "json")
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
