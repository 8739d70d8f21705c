"""The options of each command, each with help text that gives its default.

``--stream-name`` / ``--stream-arn`` are a required choice of each command
that reads a stream (``frames`` adds ``--file`` to it); given before the
command, they are moved after it first (:func:`stream_options_after_command`),
so that the command's own parser checks the choice.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from kvarchive._service import (
    ALWAYS_NEVER,
    CONTAINER_FORMATS,
    DISCONTINUITY_MODES,
    EXPIRES_RANGE,
    IMAGE_FORMATS,
    IMAGES_MIN_INTERVAL_MS,
    PLAYBACK_MODES,
    TIMESTAMP_TYPES,
)
from kvarchive.cli._demo import DEMO_FOLDER
from kvarchive.cli._emulator import DEFAULT_PORT, stream_spec
from kvarchive.cli._times import DEADLINE_HELP, DeadlineParser, TimeParser, duration
from kvarchive.cli._times import HELP as TIME_HELP

__all__ = [
    "STREAM_FLAGS",
    "audio_options",
    "choice",
    "demo_options",
    "emulator_options",
    "follow_options",
    "frames_options",
    "global_options",
    "hls_dash_options",
    "images_options",
    "stream_options",
    "stream_options_after_command",
]

STREAM_FLAGS = ("--stream-name", "--stream-arn")
# The options accepted before the command that take a value (as AWS CLI global options do).
_VALUED = ("--region", "--profile", "--endpoint-url", *STREAM_FLAGS)
_SERVICE_LIMIT = "the service's: 5 for LIVE, 1000 otherwise"


def global_options() -> argparse.ArgumentParser:
    """The AWS CLI's options, accepted before or after the command."""
    common = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    # SUPPRESS: an option given before the command is not reset by the command's parser.
    quiet = argparse.SUPPRESS
    common.add_argument(
        "--region", default=quiet, help="AWS region (default: the profile's, or AWS_DEFAULT_REGION)"
    )
    common.add_argument(
        "--profile",
        default=quiet,
        help="named profile of the AWS config (default: AWS_PROFILE, or 'default')",
    )
    common.add_argument(
        "--endpoint-url",
        default=quiet,
        help="Kinesis Video control plane URL (default: AWS_ENDPOINT_URL_KINESIS_VIDEO, or the "
        "region's)",
    )
    common.add_argument(
        "--debug",
        action="store_true",
        default=quiet,
        help="show tracebacks and DEBUG logs, secrets masked",
    )
    return common


def stream_options(sub: argparse.ArgumentParser, *, many: bool = False, file: bool = False) -> None:
    """The stream a command reads, a required choice: by name or ARN (repeated, with ``many``),
    or (with ``file``) a local Matroska file."""
    group = sub.add_mutually_exclusive_group(required=True)
    repeat = "append" if many else "store"
    more = "; repeat it for more streams" if many else ""
    group.add_argument(
        "--stream-name", action=repeat, metavar="NAME", help=f"the stream's name{more}"
    )
    group.add_argument("--stream-arn", action=repeat, metavar="ARN", help=f"the stream's ARN{more}")
    if file:
        group.add_argument("--file", help="a local Matroska file to read instead (no AWS)")


def stream_options_after_command(argv: Sequence[str]) -> list[str]:
    """``argv`` with the ``--stream-name`` / ``--stream-arn`` given before the command moved
    right after it, where the command's parser reads them."""
    moved: list[str] = []
    before: list[str] = []
    index = 0
    while index < len(argv) and argv[index].startswith("-") and argv[index] != "--":
        arg = argv[index]
        taken = [arg] if "=" in arg or arg not in _VALUED else list(argv[index : index + 2])
        (moved if arg.split("=", 1)[0] in STREAM_FLAGS else before).extend(taken)
        index += len(taken)
    if index == len(argv) or argv[index] == "--":
        return list(argv)  # no command: argparse says so
    return [*before, argv[index], *moved, *argv[index + 1 :]]


def choice(
    parser: argparse.ArgumentParser, flag: str, choices: Sequence[str], default: str, what: str
) -> None:
    """An option that takes one of the service's spellings (any case), ``what`` it sets."""
    parser.add_argument(
        flag,
        type=str.upper,
        choices=choices,
        default=default,
        help=f"{what} (default: %(default)s)",
    )


def hls_dash_options(sub: argparse.ArgumentParser, when: TimeParser, kind: str) -> None:
    """The options of ``hls-url`` (``kind`` HLS) and ``dash-url`` (DASH)."""
    sub.add_argument(
        "--start", type=when, help=f"the first time to play (default: none); {TIME_HELP}"
    )
    sub.add_argument("--end", type=when, help=f"the last time to play (default: none); {TIME_HELP}")
    choice(sub, "--timestamp-type", TIMESTAMP_TYPES, "SERVER_TIMESTAMP", "which timestamp selects")
    sub.add_argument(
        "--playback-mode",
        type=str.upper,
        choices=PLAYBACK_MODES,
        help="default: LIVE without --start, LIVE_REPLAY with --start, ON_DEMAND with both",
    )
    listing = "playlist" if kind == "HLS" else "manifest"
    choice(
        sub,
        "--display-fragment-timestamp",
        ALWAYS_NEVER,
        "NEVER",
        f"fragment times in the {listing}",
    )
    low, high = EXPIRES_RANGE
    sub.add_argument(
        "--expires",
        type=int,
        default=low,
        metavar="SECONDS",
        help=f"how long the URL plays, {low}-{high} seconds (default: %(default)s)",
    )
    if kind == "HLS":
        choice(sub, "--container-format", CONTAINER_FORMATS, "FRAGMENTED_MP4", "segment format")
        choice(sub, "--discontinuity-mode", DISCONTINUITY_MODES, "ALWAYS", "where gaps are marked")
        flag, what = "--max-media-playlist-fragment-results", "media playlist"
    else:
        choice(sub, "--display-fragment-number", ALWAYS_NEVER, "NEVER", "fragment numbers in it")
        flag, what = "--max-manifest-fragment-results", "manifest"
    sub.add_argument(
        flag,
        type=int,
        metavar="N",
        help=f"most fragments in the {what} (default: {_SERVICE_LIMIT})",
    )


def images_options(sub: argparse.ArgumentParser) -> None:
    """The options of ``images``, besides its stream, range and folder."""
    sub.add_argument(
        "--interval",
        type=int,
        default=1000,
        metavar="MS",
        help=f"milliseconds between images, {IMAGES_MIN_INTERVAL_MS} or more "
        "(default: %(default)s)",
    )
    choice(sub, "--format", IMAGE_FORMATS, "JPEG", "image format")
    size = "pixels, given with --{other} (default: the video's)"
    sub.add_argument("--width", type=int, help=f"width in {size.format(other='height')}")
    sub.add_argument("--height", type=int, help=f"height in {size.format(other='width')}")
    sub.add_argument("--quality", type=int, help="JPEG quality, 1-100 (default: the service's)")


def frames_options(sub: argparse.ArgumentParser) -> None:
    """The options of ``frames``, besides its stream (or file), range and folder."""
    every = "keep the first frame of each interval: 500ms, 1s, 2m (default: every frame)"
    sub.add_argument("--every", type=duration, metavar="INTERVAL", help=every)
    sub.add_argument(
        "--keyframes-only", action="store_true", help="decode keyframes alone (default: all frames)"
    )
    choice(sub, "--format", IMAGE_FORMATS, "JPEG", "image format")
    sub.add_argument(
        "--quality", type=int, default=90, help="JPEG quality, 1-100 (default: %(default)s)"
    )


def audio_options(sub: argparse.ArgumentParser) -> None:
    """The options of ``audio``, besides its stream (or file), range and file."""
    sub.add_argument(
        "--track",
        action="append",
        metavar="NAME",
        help="a track to write, by name (AUDIO_FROM_CUSTOMER) or number, in channel order; "
        "repeat it for more (default: every audio track, in track order)",
    )


def follow_options(sub: argparse.ArgumentParser, when: TimeParser) -> None:
    """The options of ``follow``, besides its stream."""
    sub.add_argument("--start", type=when, help=f"first time to follow (default: now); {TIME_HELP}")
    sub.add_argument(
        "--until",
        type=DeadlineParser(when.now),
        help=f"stop after this (default: never); {DEADLINE_HELP}",
    )
    sub.add_argument(
        "--checkpoint",
        metavar="FILE",
        help="keep the position here and go on from it next time (default: none)",
    )
    sub.add_argument(
        "--poll",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="time between two ListFragments (default: %(default)s)",
    )
    sub.add_argument(
        "--settle",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="how long to wait for fragments listed late (default: %(default)s)",
    )
    choice(sub, "--timestamp-type", TIMESTAMP_TYPES, "SERVER_TIMESTAMP", "which timestamp orders")
    sub.add_argument(
        "-o",
        "--outfile",
        metavar="DIR",
        help="write each fragment as an MKV file into DIR, made if missing (default: print a line)",
    )


def demo_options(sub: argparse.ArgumentParser) -> None:
    """The options of ``demo``."""
    sub.add_argument(
        "-o",
        "--outfile",
        metavar="DIR",
        default=DEMO_FOLDER,
        help="the folder to write into (default: %(default)s)",
    )
    sub.add_argument(
        "--serve", action="store_true", help="then keep its HLS and DASH URLs playing until Ctrl-C"
    )


def emulator_options(sub: argparse.ArgumentParser) -> None:
    """The options of ``emulator``."""
    sub.add_argument(
        "--stream",
        action="append",
        type=stream_spec,
        metavar="NAME[=sample|=synthetic:N|=call:N]",
        help="a stream to serve: the bundled sample (10 s of H.264 and AAC), N synthetic "
        "fragments of 2 s, or N seconds of a phone call in Amazon Connect's layout, ending now; "
        "repeat it for more (default: demo=sample)",
    )
    sub.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help="the control plane's port on 127.0.0.1; 0 picks a free one (default: %(default)s)",
    )
