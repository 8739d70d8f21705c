"""The commands: each runs one operation of the client with the parsed arguments and prints it."""

from __future__ import annotations

import argparse
import sys
import warnings
from typing import Any, Callable

from kvarchive import ArchivedMediaClient, ClipTruncationWarning
from kvarchive._files import output_file, output_folder
from kvarchive._progress import progress_bar
from kvarchive.cli._output import (
    ImageTally,
    download_line,
    download_record,
    print_fragments,
    print_result,
    save_image,
    save_media,
    warn,
)

__all__ = [
    "Command",
    "clip",
    "clips",
    "dash_url",
    "download",
    "endpoint",
    "fragments",
    "hls_url",
    "images",
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
        print(pager.timeline())
    else:
        print_fragments(pager, args.output)


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
    records = [download_record(result) for result in results]
    print_result(args.output, records, [download_line(result) for result in results])


def images(kv: ArchivedMediaClient, args: argparse.Namespace) -> None:
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
