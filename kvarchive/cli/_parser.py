"""Parsing the command line: the AWS CLI's global options, the commands and their options.

Relative times (``--start -1h``) are joined to their option first, as plain
argparse takes them for options; prefix matching is off, so that ``-o`` /
``--outfile`` (a path) and ``--output`` (a format) are never confused.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Callable, Optional

from kvarchive import __version__
from kvarchive._service import (
    ALWAYS_NEVER,
    CONTAINER_FORMATS,
    DISCONTINUITY_MODES,
    IMAGE_FORMATS,
    PLAYBACK_MODES,
    TIMESTAMP_TYPES,
)
from kvarchive.cli._commands import (
    Command,
    clip,
    clips,
    dash_url,
    download,
    endpoint,
    fragments,
    frames,
    hls_url,
    images,
)
from kvarchive.cli._demo import DEMO_FOLDER
from kvarchive.cli._export import export, export_options
from kvarchive.cli._follow import follow
from kvarchive.cli._output import FRAGMENT_FORMATS, FRAME_NAMES, PROG, RESULT_FORMATS
from kvarchive.cli._times import (
    DEADLINE_HELP,
    DeadlineParser,
    TimeParser,
    duration,
    join_time_options,
)
from kvarchive.cli._times import HELP as TIME_HELP

__all__ = ["build_parser", "parse_args"]


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

    def time_range(sub: argparse.ArgumentParser, required: bool = True) -> None:
        sub.add_argument("--start", type=when, required=required, help=TIME_HELP)
        sub.add_argument("--end", type=when, required=required, help=TIME_HELP)
        _choice(sub, "--timestamp-type", TIMESTAMP_TYPES, "SERVER_TIMESTAMP")

    def command(
        name: str,
        handler: Optional[Command],
        help_text: str,
        *,
        times: bool = True,
        outfile: Optional[tuple[str, str]] = None,
        formats: Sequence[str] = RESULT_FORMATS,
        options: argparse.ArgumentParser = common,
        presign: bool = False,
    ) -> argparse.ArgumentParser:
        """A subcommand: its time range, ``-o METAVAR`` (with help), ``--output`` formats, and
        ``--presign`` if it writes files that a link can be given to."""
        sub = commands.add_parser(
            name, parents=[options], help=help_text, description=help_text, allow_abbrev=False
        )
        sub.set_defaults(handler=handler, parser=sub)
        if times:
            time_range(sub)
        if outfile is not None:
            _outfile_options(sub, *outfile, presign=presign)
        if formats:
            default = formats[0]
            help_format = f"format of the result (default: {default})"
            sub.add_argument("--output", choices=formats, default=default, help=help_format)
        return sub

    sub = command(
        "endpoint", endpoint, "Print the data endpoint of one API (GetDataEndpoint).", times=False
    )
    sub.add_argument("api_name", metavar="API_NAME", help="e.g. LIST_FRAGMENTS, GET_CLIP")
    command(
        "fragments",
        fragments,
        "List the fragments of a time range (ListFragments).",
        formats=FRAGMENT_FORMATS,
    )
    sub = command(
        "hls-url", hls_url, "Print an HLS playback URL (GetHLSStreamingSessionURL).", times=False
    )
    _session_options(sub, time_range)
    _choice(sub, "--container-format", CONTAINER_FORMATS, "FRAGMENTED_MP4")
    _choice(sub, "--discontinuity-mode", DISCONTINUITY_MODES, "ALWAYS")
    sub.add_argument("--max-media-playlist-fragment-results", type=int, metavar="N")
    sub = command(
        "dash-url",
        dash_url,
        "Print a DASH playback URL (GetDASHStreamingSessionURL).",
        times=False,
    )
    _session_options(sub, time_range)
    _choice(sub, "--display-fragment-number", ALWAYS_NEVER, "NEVER")
    sub.add_argument("--max-manifest-fragment-results", type=int, metavar="N")
    command(
        "clip",
        clip,
        "Save an MP4 clip of a time range (GetClip), which stops at 200 fragments or 100 MB.",
        outfile=("FILE", "the MP4 file to write (missing folders are made)"),
        presign=True,
    )
    command(
        "clips",
        clips,
        "Save a long range as consecutive MP4 clips, none cut short (GetClip).",
        outfile=("DIR", "the folder for clip-0001.mp4, ... (made if missing)"),
        presign=True,
    )
    sub = command(
        "images",
        images,
        "Save images sampled over a time range (GetImages).",
        outfile=("DIR", "the folder to write the images into (made if missing)"),
    )
    sub.add_argument("--interval", type=int, default=1000, metavar="MS", help="sampling interval")
    _choice(sub, "--format", IMAGE_FORMATS, "JPEG")
    sub.add_argument("--width", type=int, help="width in pixels")
    sub.add_argument("--height", type=int, help="height in pixels")
    sub.add_argument("--quality", type=int, help="JPEG quality, 1-100")
    sub = command(
        "download",
        download,
        "Save the fragments of a time range as one MKV file.",
        outfile=("FILE", "the MKV file to write (missing folders are made)"),
        presign=True,
    )
    sub.add_argument(
        "--concurrency", type=int, default=1, help="connections to fetch over at once (1-32)"
    )
    sub = command("frames", frames, FRAMES_HELP, times=False, outfile=FRAMES_OUT)
    _frames_options(sub, time_range)
    _follow_options(command("follow", follow, FOLLOW_HELP, times=False, formats=()), when)
    export_options(
        command(
            "export",
            export,
            "Save many streams as MKV files of one shard each, and a manifest, here or on Dask.",
            outfile=("DIR", "the folder for <stream>/*.mkv and manifest.jsonl (made if missing)"),
            options=_global_options(many_streams=True),
            presign=True,
        )
    )
    _demo_options(command("demo", None, DEMO_HELP, times=False))
    return parser


PRESIGN_HELP = (
    "with -o s3://...: also print a presigned link to each object written, valid this long "
    "(1h, 30m, ... up to 7d)"
)
FOLLOW_HELP = "Print (or save) each new fragment once, as it is archived, until told to stop."
DEMO_HELP = "Run every command against a local emulator: no AWS needed."


def _outfile_options(
    sub: argparse.ArgumentParser, metavar: str, what: str, *, presign: bool
) -> None:
    """``-o METAVAR`` (required), and ``--presign`` for the commands that can link to it."""
    sub.add_argument("-o", "--outfile", metavar=metavar, required=True, help=what)
    if presign:
        sub.add_argument("--presign", type=duration, metavar="DURATION", help=PRESIGN_HELP)


def _demo_options(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("-o", "--outfile", metavar="DIR", default=DEMO_FOLDER, help="output folder")
    sub.add_argument(
        "--serve", action="store_true", help="then keep its HLS and DASH URLs playing until Ctrl-C"
    )


FRAMES_HELP = "Save video frames, decoded here with PyAV, of a stream or a local Matroska file."
FRAMES_OUT = ("DIR", f"the folder for the images, named {FRAME_NAMES} (made if missing)")


def _frames_options(
    sub: argparse.ArgumentParser, time_range: Callable[[argparse.ArgumentParser, bool], None]
) -> None:
    time_range(sub, False)  # a stream's range; --file reads the whole file
    sub.add_argument("--file", help="a local Matroska file to read instead of a stream (no AWS)")
    every = "keep one frame per interval: 500ms, 1s, 2m (default: every frame)"
    sub.add_argument("--every", type=duration, metavar="INTERVAL", help=every)
    sub.add_argument("--keyframes-only", action="store_true", help="decode keyframes alone")
    _choice(sub, "--format", IMAGE_FORMATS, "JPEG")
    sub.add_argument("--quality", type=int, default=90, help="JPEG quality, 1-100 (default: 90)")


def _check_frames(sub: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """A stream and its range, or a file (whole); a JPEG quality that can be."""
    streams = [name for name in ("stream_name", "stream_arn") if getattr(args, name) is not None]
    if args.file is not None:
        if streams:
            sub.error("give --file or a stream, not both")
        if args.start is not None or args.end is not None:
            sub.error("--start and --end choose a stream's fragments: --file reads the whole file")
    elif not streams:
        sub.error("give --stream-name, --stream-arn or --file")
    elif len(streams) > 1:
        sub.error("give only one of --stream-name and --stream-arn")
    elif args.start is None or args.end is None:
        sub.error("frames of a stream need --start and --end")
    if not 1 <= args.quality <= 100:
        sub.error(f"--quality must be 1-100, not {args.quality}")


def _global_options(many_streams: bool = False) -> argparse.ArgumentParser:
    """The AWS CLI's options, accepted before or after the command (``--stream-name`` and
    ``--stream-arn`` repeated, with ``many_streams``)."""
    common = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    # SUPPRESS: an option given before the command is not reset by the command's parser.
    quiet = argparse.SUPPRESS
    common.add_argument("--region", default=quiet, help="AWS region")
    common.add_argument("--profile", default=quiet, help="named profile of the AWS config")
    common.add_argument("--endpoint-url", default=quiet, help="Kinesis Video control plane URL")
    common.add_argument("--debug", action="store_true", default=quiet, help="tracebacks and logs")
    stream = common.add_mutually_exclusive_group()
    repeat = "append" if many_streams else "store"
    stream.add_argument("--stream-name", action=repeat, default=quiet, metavar="NAME")
    stream.add_argument("--stream-arn", action=repeat, default=quiet, metavar="ARN")
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


def _follow_options(parser: argparse.ArgumentParser, when: TimeParser) -> None:
    parser.add_argument(
        "--start", type=when, help=f"first time to follow (default: now); {TIME_HELP}"
    )
    parser.add_argument(
        "--until", type=DeadlineParser(when.now), help=f"stop after this; {DEADLINE_HELP}"
    )
    parser.add_argument(
        "--checkpoint", metavar="FILE", help="keep the position here and go on from it next time"
    )
    parser.add_argument("--poll", type=float, default=2.0, metavar="SECONDS", help="(default: 2)")
    parser.add_argument(
        "--settle",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="how long to wait for fragments listed late (default: 5)",
    )
    _choice(parser, "--timestamp-type", TIMESTAMP_TYPES, "SERVER_TIMESTAMP")
    parser.add_argument(
        "-o",
        "--outfile",
        metavar="DIR",
        help="write each fragment as an MKV file into DIR (made if missing)",
    )


def parse_args(argv: Sequence[str], now: datetime) -> argparse.Namespace:
    """The arguments of ``argv``, checked; argparse exits (SystemExit) on bad usage."""
    parser = build_parser(now)
    args = parser.parse_args(join_time_options(argv))
    for name in ("region", "profile", "endpoint_url", "stream_name", "stream_arn"):
        setattr(args, name, getattr(args, name, None))
    args.debug = getattr(args, "debug", False)
    sub: argparse.ArgumentParser = args.parser
    if args.command_name == "frames":
        _check_frames(sub, args)
    elif args.command_name != "demo":
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
