"""The ``kvarchive`` command line: the archive of a Kinesis video stream from a shell.

Exit status: 0 success; 1 a service or runtime error, told on one line of
stderr; 2 bad usage or a ValidationError. ``--debug`` adds tracebacks and
DEBUG logs of kvarchive and botocore, with credentials and session tokens
masked. Uses only kvarchive's public API.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import shutil
import sys
import tempfile
import traceback
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Optional

from kvarchive import (
    ArchivedMediaClient,
    CredentialsError,
    Fragment,
    KVArchiveError,
    MediaStream,
    ServiceError,
    ValidationError,
    __version__,
)
from kvarchive._cli_follow import add_follow_options, run_follow
from kvarchive._cli_times import HELP as TIME_HELP
from kvarchive._cli_times import TimeParser, join_time_options
from kvarchive._hints import no_credentials_message, no_region_message
from kvarchive._progress import progress_bar
from kvarchive._redact import Redactor, debug_logging

__all__ = ["main"]

PROG = "kvarchive"
DEMO_FOLDER = "kvarchive-demo"
DEMO_STREAM = "kvarchive-demo"
OUTPUT_FORMATS = ("table", "json", "csv")
TIMESTAMP_TYPES = ("SERVER_TIMESTAMP", "PRODUCER_TIMESTAMP")
PLAYBACK_MODES = ("LIVE", "LIVE_REPLAY", "ON_DEMAND")
ALWAYS_NEVER = ("ALWAYS", "NEVER")

Command = Callable[[ArchivedMediaClient, argparse.Namespace], None]


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    now = datetime.now(timezone.utc)
    try:
        args = _parse(sys.argv[1:] if argv is None else argv, now)
    except SystemExit as exc:  # argparse: --help, --version or a usage error
        return 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 2
    redactor = Redactor.from_environment()
    with contextlib.ExitStack() as stack:
        if args.debug:
            stack.enter_context(debug_logging(redactor))
        try:
            return _run(args, redactor)
        except Exception as exc:
            status = _exit_status(exc)
            if status is None:
                raise
            if args.debug:
                sys.stderr.write(redactor(traceback.format_exc()))
            _error(redactor(_describe(exc)))
            return status
        except KeyboardInterrupt:
            _error("interrupted")
            return 130


# -- parsing -------------------------------------------------------------------------


def build_parser(now: Optional[datetime] = None) -> argparse.ArgumentParser:
    """The argument parser; relative times count back from ``now`` (default: now)."""
    when = TimeParser(now or datetime.now(timezone.utc))
    common = _global_options()
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="The archive of Amazon Kinesis Video Streams: list, play, clip, download.",
        epilog="Try it without an AWS account: kvarchive demo",
        parents=[common],
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command_name", metavar="COMMAND", required=True)

    def command(name: str, handler: Optional[Command], help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name, parents=[common], help=help_text, description=help_text, allow_abbrev=False
        )
        sub.set_defaults(handler=handler, parser=sub)
        return sub

    def time_range(sub: argparse.ArgumentParser, required: bool = True) -> None:
        sub.add_argument("--start", type=when, required=required, help=TIME_HELP)
        sub.add_argument("--end", type=when, required=required, help=TIME_HELP)
        _choice(sub, "--timestamp-type", TIMESTAMP_TYPES, "SERVER_TIMESTAMP")

    def outfile(sub: argparse.ArgumentParser, metavar: str, help_text: str) -> None:
        sub.add_argument("-o", "--outfile", metavar=metavar, required=True, help=help_text)

    sub = command("endpoint", _endpoint, "Print the data endpoint of one API (GetDataEndpoint).")
    sub.add_argument("api_name", metavar="API_NAME", help="e.g. LIST_FRAGMENTS, GET_CLIP")

    sub = command("fragments", _fragments, "List the fragments of a time range (ListFragments).")
    time_range(sub)
    sub.add_argument(
        "--output", choices=OUTPUT_FORMATS, default="table", help="format (default: table)"
    )

    sub = command("hls-url", _hls_url, "Print an HLS playback URL (GetHLSStreamingSessionURL).")
    _session_options(sub, time_range)
    _choice(sub, "--container-format", ("FRAGMENTED_MP4", "MPEG_TS"), "FRAGMENTED_MP4")
    _choice(sub, "--discontinuity-mode", ("ALWAYS", "NEVER", "ON_DISCONTINUITY"), "ALWAYS")
    sub.add_argument("--max-media-playlist-fragment-results", type=int, metavar="N")

    sub = command("dash-url", _dash_url, "Print a DASH playback URL (GetDASHStreamingSessionURL).")
    _session_options(sub, time_range)
    _choice(sub, "--display-fragment-number", ALWAYS_NEVER, "NEVER")
    sub.add_argument("--max-manifest-fragment-results", type=int, metavar="N")

    sub = command("clip", _clip, "Save an MP4 clip of a time range (GetClip).")
    time_range(sub)
    outfile(sub, "FILE", "the MP4 file to write")

    sub = command("images", _images, "Save images sampled over a time range (GetImages).")
    time_range(sub)
    outfile(sub, "DIR", "the folder to write the images into (created if missing)")
    sub.add_argument("--interval", type=int, default=1000, metavar="MS", help="sampling interval")
    _choice(sub, "--format", ("JPEG", "PNG"), "JPEG")
    sub.add_argument("--width", type=int, help="width in pixels")
    sub.add_argument("--height", type=int, help="height in pixels")
    sub.add_argument("--quality", type=int, help="JPEG quality, 1-100")

    sub = command("download", _download, "Save the fragments of a time range as one MKV file.")
    time_range(sub)
    outfile(sub, "FILE", "the MKV file to write")
    sub.add_argument(
        "--concurrency", type=int, default=1, help="connections to fetch over at once (1-32)"
    )

    sub = command("follow", run_follow, "Print (or save) each new fragment once, as it arrives.")
    add_follow_options(sub, when)

    sub = command("demo", None, "Run every command against a local emulator: no AWS needed.")
    sub.add_argument("-o", "--outfile", metavar="DIR", default=DEMO_FOLDER, help="output folder")
    return parser


def _global_options() -> argparse.ArgumentParser:
    """The AWS CLI's options, accepted before or after the command."""
    common = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    # SUPPRESS: an option given before the command is not reset by the command's parser.
    quiet = argparse.SUPPRESS
    common.add_argument("--region", default=quiet, help="AWS region")
    common.add_argument("--profile", default=quiet, help="named profile of the AWS config")
    common.add_argument("--endpoint-url", default=quiet, help="Kinesis Video control plane URL")
    common.add_argument("--debug", action="store_true", default=quiet, help="tracebacks and logs")
    stream = common.add_mutually_exclusive_group()
    stream.add_argument("--stream-name", default=quiet, metavar="NAME")
    stream.add_argument("--stream-arn", default=quiet, metavar="ARN")
    return common


def _choice(
    parser: argparse.ArgumentParser, flag: str, choices: Sequence[str], default: str
) -> None:
    parser.add_argument(
        flag, type=str.upper, choices=choices, default=default, help=f"(default: {default})"
    )


def _session_options(parser: argparse.ArgumentParser, time_range: Callable[..., None]) -> None:
    time_range(parser, required=False)
    parser.add_argument(
        "--playback-mode",
        type=str.upper,
        choices=PLAYBACK_MODES,
        help="default: LIVE without --start, LIVE_REPLAY with --start, ON_DEMAND with both",
    )
    _choice(parser, "--display-fragment-timestamp", ALWAYS_NEVER, "NEVER")
    parser.add_argument("--expires", type=int, default=300, metavar="SECONDS", help="300-43200")


def _parse(argv: Sequence[str], now: datetime) -> argparse.Namespace:
    parser = build_parser(now)
    args = parser.parse_args(join_time_options(argv))
    for name in ("region", "profile", "endpoint_url", "stream_name", "stream_arn"):
        setattr(args, name, getattr(args, name, None))
    args.debug = getattr(args, "debug", False)
    sub: argparse.ArgumentParser = args.parser
    if args.command_name != "demo":
        if args.stream_name is None and args.stream_arn is None:
            sub.error("give --stream-name or --stream-arn")
        if args.stream_name is not None and args.stream_arn is not None:
            sub.error("give only one of --stream-name and --stream-arn")
    if args.command_name in ("hls-url", "dash-url") and args.playback_mode is None:
        if args.start is None and args.end is not None:
            sub.error("--end needs --start (or give --playback-mode)")
        args.playback_mode = _playback_mode(args.start, args.end)
    return args


def _playback_mode(start: Optional[datetime], end: Optional[datetime]) -> str:
    if start is None:
        return "LIVE"
    return "LIVE_REPLAY" if end is None else "ON_DEMAND"


# -- running -------------------------------------------------------------------------


def _run(args: argparse.Namespace, redactor: Redactor) -> int:
    if args.command_name == "demo":
        return _demo(args.outfile, redactor)
    import boto3

    session = boto3.Session(profile_name=args.profile, region_name=args.region)
    if session.region_name is None:
        raise ValidationError(no_region_message("give --region"))
    if args.debug:
        redactor.add_credentials(session)
    with ArchivedMediaClient(session=session, endpoint_url=args.endpoint_url) as kv:
        handler: Command = args.handler
        handler(kv, args)
    return 0


def _stream(args: argparse.Namespace) -> dict[str, Any]:
    return {"stream_name": args.stream_name, "stream_arn": args.stream_arn}


def _endpoint(kv: ArchivedMediaClient, args: argparse.Namespace) -> None:
    print(kv.data_endpoint(args.api_name, **_stream(args)))


def _fragments(kv: ArchivedMediaClient, args: argparse.Namespace) -> None:
    pager = kv.list_fragments(
        **_stream(args), start=args.start, end=args.end, timestamp_type=args.timestamp_type
    )
    print_fragments(pager, args.output)


def _hls_url(kv: ArchivedMediaClient, args: argparse.Namespace) -> None:
    print(
        kv.get_hls_streaming_session_url(
            **_stream(args),
            **_session_arguments(args),
            container_format=args.container_format,
            discontinuity_mode=args.discontinuity_mode,
            max_media_playlist_fragment_results=args.max_media_playlist_fragment_results,
        )
    )


def _dash_url(kv: ArchivedMediaClient, args: argparse.Namespace) -> None:
    print(
        kv.get_dash_streaming_session_url(
            **_stream(args),
            **_session_arguments(args),
            display_fragment_number=args.display_fragment_number,
            max_manifest_fragment_results=args.max_manifest_fragment_results,
        )
    )


def _session_arguments(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "playback_mode": args.playback_mode,
        "start": args.start,
        "end": args.end,
        "timestamp_type": args.timestamp_type,
        "display_fragment_timestamp": args.display_fragment_timestamp,
        "expires": args.expires,
    }


def _clip(kv: ArchivedMediaClient, args: argparse.Namespace) -> None:
    media = kv.get_clip(
        **_stream(args), start=args.start, end=args.end, timestamp_type=args.timestamp_type
    )
    save_media(media, args.outfile)
    print(args.outfile)


def _images(kv: ArchivedMediaClient, args: argparse.Namespace) -> None:
    images = kv.get_images(
        **_stream(args),
        start=args.start,
        end=args.end,
        sampling_interval=args.interval,
        format=args.format,
        timestamp_type=args.timestamp_type,
        width=args.width,
        height=args.height,
        jpeg_quality=args.quality,
    )
    expected = int((args.end - args.start).total_seconds() * 1000 // max(args.interval, 1)) + 1
    with progress_bar(True, expected, "images", unit="image") as advance:  # on a terminal only
        paths = save_images(images, args.outfile, args.format, advance)
    for path in paths:
        print(path)
    print(f"{len(paths)} image(s) written to {args.outfile}", file=sys.stderr)


def _download(kv: ArchivedMediaClient, args: argparse.Namespace) -> None:
    result = kv.download(
        **_stream(args),
        start=args.start,
        end=args.end,
        path=args.outfile,
        timestamp_type=args.timestamp_type,
        progress=True,  # drawn on a terminal only
        concurrency=args.concurrency,
    )
    print(f"{result.path}\t{result.fragment_count} fragments\t{result.bytes_written} bytes")


# -- output --------------------------------------------------------------------------

FRAGMENT_FIELDS = ("number", "server_timestamp", "producer_timestamp", "duration_ms", "size")
_TABLE_HEADERS = ("FRAGMENT NUMBER", "SERVER TIMESTAMP", "PRODUCER TIMESTAMP", "DURATION", "SIZE")


def iso(value: datetime) -> str:
    """``value`` in UTC as ISO 8601 with milliseconds and a ``Z``."""
    text = value.astimezone(timezone.utc).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def fragment_record(fragment: Fragment) -> dict[str, Any]:
    """A fragment as plain values, keyed by :data:`FRAGMENT_FIELDS`."""
    return {
        "number": fragment.number,
        "server_timestamp": iso(fragment.server_timestamp),
        "producer_timestamp": iso(fragment.producer_timestamp),
        "duration_ms": fragment.duration // timedelta(milliseconds=1),
        "size": fragment.size,
    }


def print_fragments(fragments: Iterable[Fragment], output: str) -> None:
    """Print fragments as a table, a JSON list or CSV with a header."""
    records = [fragment_record(f) for f in fragments]
    if output == "json":
        print(json.dumps(records, indent=2))
    elif output == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=FRAGMENT_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
    else:
        rows = [_TABLE_HEADERS] + [
            (
                r["number"],
                r["server_timestamp"],
                r["producer_timestamp"],
                f"{r['duration_ms'] / 1000:.3f}s",
                str(r["size"]),
            )
            for r in records
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(_TABLE_HEADERS))]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row[:3], widths)]
            cells += [cell.rjust(width) for cell, width in zip(row[3:], widths[3:])]
            print("  ".join(cells).rstrip())


def save_media(media: MediaStream, path: str) -> int:
    """Copy ``media`` to ``path`` through a temporary file renamed at the end; return its size.

    A failure part-way leaves nothing at ``path``.
    """
    with media:
        folder = os.path.dirname(os.path.abspath(path))
        try:
            fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.")
        except OSError as exc:
            raise OSError(exc.errno, f"cannot write {path}: {exc.strerror}") from exc
        try:
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(media, out, 1 << 20)
                size = out.tell()
            # mkstemp makes the file private; give it the permissions open() would.
            os.chmod(temp, 0o666 & ~_umask())
            os.replace(temp, path)
        except BaseException:
            os.unlink(temp)
            raise
    return size


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def save_images(
    images: Iterable[Any],
    folder: str,
    image_format: str,
    advance: Callable[[int], None] = lambda _: None,
) -> list[str]:
    """Write each image to ``folder`` named by its timestamp; report the missing on stderr."""
    os.makedirs(folder, exist_ok=True)
    suffix = ".png" if image_format == "PNG" else ".jpg"
    paths = []
    for image in images:
        advance(1)
        stamp = iso(image.timestamp).replace("-", "").replace(":", "")
        if image.data is None:
            print(f"no image at {iso(image.timestamp)}: {image.error}", file=sys.stderr)
            continue
        path = os.path.join(folder, stamp + suffix)
        with open(path, "wb") as out:
            out.write(image.data)
        paths.append(path)
    return paths


# -- demo ----------------------------------------------------------------------------


def _demo(folder: str, redactor: Redactor) -> int:
    """Run the main job against the bundled emulator, writing into ``folder``."""
    from kvarchive.testing import Emulator

    os.makedirs(folder, exist_ok=True)
    with Emulator() as emu:
        stream = emu.add_sample_stream(DEMO_STREAM)
        first, last = stream.fragments[0], stream.fragments[-1]
        start = first.server_timestamp
        end = last.server_timestamp + timedelta(milliseconds=last.duration_ms)
        print(f"Local emulator at {emu.endpoint_url}, stream {stream.name!r}:")
        print(f"{len(stream.fragments)} fragments from {iso(start)} to {iso(end)}\n")
        with emu.client() as kv:  # dummy credentials: the user may have none
            ref: dict[str, Any] = {"stream_name": stream.name}
            print_fragments(kv.list_fragments(**ref, start=start, end=end), "table")
            for kind, url in (
                ("HLS", kv.get_hls_streaming_session_url),
                ("DASH", kv.get_dash_streaming_session_url),
            ):
                playback = url(**ref, playback_mode="ON_DEMAND", start=start, end=end)
                print(f"\n{kind} URL (ON_DEMAND, token hidden): {redactor(playback)}")
            print()
            written = []
            recording = os.path.join(folder, "recording.mkv")
            result = kv.download(**ref, start=start, end=end, path=recording)
            print(f"Downloaded {result.fragment_count} fragments ({result.bytes_written} bytes)")
            written.append(recording)
            clip = os.path.join(folder, "clip.mp4")
            size = save_media(kv.get_clip(**ref, start=start, end=end), clip)
            print(f"Saved an MP4 clip of the range ({size} bytes)")
            written.append(clip)
            interval = max(1000, (end - start) // timedelta(seconds=4) * 1000)
            frames = save_images(
                kv.get_images(**ref, start=start, end=end, sampling_interval=interval),
                folder,
                "JPEG",
            )
            print(f"Saved {len(frames)} JPEG frames, one every {interval} ms\n")
            written += frames
        for path in written:
            print(f"wrote {path}")
    return 0


# -- errors --------------------------------------------------------------------------


def _exit_status(exc: BaseException) -> Optional[int]:
    """1 or 2 for the failures a user can meet, None for a bug (let it raise)."""
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, ValidationError):
        return 2
    if isinstance(exc, (KVArchiveError, BotoCoreError, ClientError, OSError)):
        return 1
    return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ServiceError):
        text = f"{exc.code}"
        if exc.operation:
            text += f" when calling {exc.operation}"
        text += f": {exc.message}"
        if exc.request_id:
            text += f" (request id: {exc.request_id})"
        return text
    if isinstance(exc, CredentialsError):
        return no_credentials_message(
            "pass --profile", "to try kvarchive without AWS: kvarchive demo"
        )
    return str(exc) or type(exc).__name__


def _error(message: str) -> None:
    line = " ".join(message.split())
    print(f"{PROG}: error: {line}", file=sys.stderr)
