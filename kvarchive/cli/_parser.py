"""Parsing the command line: the AWS CLI's global options, the commands and their options.

Relative times (``--start -1h``) are joined to their option first, as plain
argparse takes them for options, and a stream named before the command is
moved after it; prefix matching is off, so that ``-o`` / ``--outfile`` (a
path) and ``--output`` (a format) are never confused.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Optional

from kvarchive import __version__
from kvarchive._service import TIMESTAMP_TYPES
from kvarchive.cli._commands import (
    Command,
    audio,
    clip,
    clips,
    dash_url,
    download,
    endpoint,
    fragments,
    frames,
    hls_url,
    images,
    inspect,
)
from kvarchive.cli._export import export, export_options
from kvarchive.cli._follow import follow
from kvarchive.cli._options import (
    audio_options,
    choice,
    demo_options,
    emulator_options,
    follow_options,
    frames_options,
    global_options,
    hls_dash_options,
    images_options,
    stream_options,
    stream_options_after_command,
)
from kvarchive.cli._output import FRAGMENT_FORMATS, FRAME_NAMES, PROG, RESULT_FORMATS
from kvarchive.cli._times import HELP as TIME_HELP
from kvarchive.cli._times import TimeParser, duration, join_time_options

__all__ = ["build_parser", "parse_args"]


def build_parser(now: Optional[datetime] = None) -> argparse.ArgumentParser:
    """The argument parser; relative times count back from ``now`` (default: now)."""
    when = TimeParser(now or datetime.now(timezone.utc))
    common = global_options()
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="The archive of Amazon Kinesis Video Streams: list, play, clip, download.",
        epilog="The AWS options and --stream-name / --stream-arn may come before or after the "
        "command. Try it without an AWS account: kvarchive demo",
        parents=[common],
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command_name", metavar="COMMAND", required=True)

    def command(
        name: str,
        handler: Optional[Command],
        help_text: str,
        *,
        stream: bool = True,
        times: bool = True,
        outfile: Optional[tuple[str, str]] = None,
        formats: Sequence[str] = RESULT_FORMATS,
        presign: bool = False,
    ) -> argparse.ArgumentParser:
        """A subcommand: its stream, time range, ``-o METAVAR`` (with help), ``--output``, and
        ``--presign`` if it writes files that a link can be given to."""
        sub = commands.add_parser(
            name, parents=[common], help=help_text, description=help_text, allow_abbrev=False
        )
        sub.set_defaults(handler=handler, parser=sub)
        if stream:
            stream_options(sub)
        if times:
            sub.add_argument("--start", type=when, required=True, help=TIME_HELP)
            sub.add_argument("--end", type=when, required=True, help=TIME_HELP)
            choice(sub, "--timestamp-type", TIMESTAMP_TYPES, "SERVER_TIMESTAMP", SELECTOR)
        if outfile is not None:
            metavar, what = outfile
            sub.add_argument("-o", "--outfile", metavar=metavar, required=True, help=what)
            if presign:
                sub.add_argument("--presign", type=duration, metavar="DURATION", help=PRESIGN_HELP)
        if formats:
            sub.add_argument(
                "--output",
                choices=formats,
                default=formats[0],
                help="format of the result (default: %(default)s)",
            )
        return sub

    sub = command(
        "endpoint", endpoint, "Print the data endpoint of one API (GetDataEndpoint).", times=False
    )
    sub.add_argument("api_name", metavar="API_NAME", help="e.g. LIST_FRAGMENTS, GET_CLIP")
    what = "Report a stream: its tracks, newest fragment, and which APIs work on it, and why."
    command("inspect", inspect, what, times=False)
    command(
        "fragments",
        fragments,
        "List the fragments of a time range (ListFragments).",
        formats=FRAGMENT_FORMATS,
    )
    hls = "Print an HLS playback URL (GetHLSStreamingSessionURL)."
    hls_dash_options(command("hls-url", hls_url, hls, times=False), when, "HLS")
    dash = "Print a DASH playback URL (GetDASHStreamingSessionURL)."
    hls_dash_options(command("dash-url", dash_url, dash, times=False), when, "DASH")
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
    images_options(
        command(
            "images",
            images,
            "Save images sampled over a time range (GetImages).",
            outfile=("DIR", "the folder to write the images into (made if missing)"),
        )
    )
    sub = command(
        "download",
        download,
        "Save the fragments of a time range as one MKV file.",
        outfile=("FILE", "the MKV file to write (missing folders are made)"),
        presign=True,
    )
    sub.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="connections to fetch over at once, 1-32 (default: %(default)s)",
    )
    for name, handler, help_text, out in (
        ("frames", frames, FRAMES_HELP, FRAMES_OUT),
        ("audio", audio, AUDIO_HELP, AUDIO_OUT),
    ):
        sub = command(name, handler, help_text, stream=False, times=False, outfile=out)
        stream_options(sub, file=True)
        sub.add_argument("--start", type=when, help=f"required with a stream; {TIME_HELP}")
        sub.add_argument("--end", type=when, help=f"required with a stream; {TIME_HELP}")
        choice(sub, "--timestamp-type", TIMESTAMP_TYPES, "SERVER_TIMESTAMP", SELECTOR)
        (frames_options if name == "frames" else audio_options)(sub)
    follow_options(command("follow", follow, FOLLOW_HELP, times=False, formats=()), when)
    sub = command("export", export, EXPORT_HELP, stream=False, outfile=EXPORT_OUT, presign=True)
    stream_options(sub, many=True)
    export_options(sub)
    demo_options(command("demo", None, DEMO_HELP, stream=False, times=False))
    emulator_options(
        command("emulator", None, EMULATOR_HELP, stream=False, times=False, formats=())
    )
    return parser


SELECTOR = "which timestamp --start and --end select by"
PRESIGN_HELP = (
    "with -o s3://...: also print a presigned link to each object written, valid this long "
    "(1h, 30m, ... up to 7d)"
)
FOLLOW_HELP = "Print (or save) each new fragment once, as it is archived, until told to stop."
DEMO_HELP = "Run every command against a local emulator: no AWS needed."
EMULATOR_HELP = (
    "Run the local emulator until Ctrl-C, for kvarchive, boto3 or the AWS CLI in another shell: "
    "it prints first the lines to paste there. --region sets the region it answers for "
    "(default: us-east-1)."
)
EXPORT_HELP = "Save many streams as MKV files of one shard each, and a manifest, here or on Dask."
EXPORT_OUT = ("DIR", "the folder for <stream>/*.mkv and manifest.jsonl (made if missing)")
FRAMES_HELP = "Save video frames, decoded here with PyAV, of a stream or a local Matroska file."
AUDIO_HELP = (
    "Save the audio tracks of a stream or a local Matroska file as one WAV file, a channel per "
    "mono track on one clock (Amazon Connect's calls included)."
)
AUDIO_OUT = ("FILE", "the WAV file to write (missing folders are made)")
FRAMES_OUT = ("DIR", f"the folder for the images, named {FRAME_NAMES} (made if missing)")


def parse_args(argv: Sequence[str], now: datetime) -> argparse.Namespace:
    """The arguments of ``argv``, checked; argparse exits (SystemExit) on bad usage."""
    parser = build_parser(now)
    args = parser.parse_args(stream_options_after_command(join_time_options(argv)))
    for name in ("region", "profile", "endpoint_url"):
        setattr(args, name, getattr(args, name, None))
    args.debug = getattr(args, "debug", False)
    sub: argparse.ArgumentParser = args.parser
    if args.command_name in ("frames", "audio"):
        if args.file is not None and (args.start is not None or args.end is not None):
            sub.error("--start and --end choose a stream's fragments: --file reads the whole file")
        if args.file is None and (args.start is None or args.end is None):
            what = "frames of a stream need" if args.command_name == "frames" else "a stream needs"
            sub.error(f"{what} --start and --end")
    if args.command_name == "emulator":
        names = [spec.name for spec in args.stream or []]
        if len(set(names)) < len(names):
            sub.error("each --stream needs a name of its own")
    if args.command_name in ("hls-url", "dash-url") and args.playback_mode is None:
        if args.start is None and args.end is not None:
            sub.error("--end needs --start (or give --playback-mode)")
        args.playback_mode = _playback_mode(args.start, args.end)
    return args


def _playback_mode(start: Optional[datetime], end: Optional[datetime]) -> str:
    if start is None:
        return "LIVE"
    return "LIVE_REPLAY" if end is None else "ON_DEMAND"
