"""``kvarchive follow``: each new fragment once, as a line or an MKV file, until told to stop.

Ctrl-C (SIGINT) stops it cleanly: the fragment being printed or written is
finished and counted, the checkpoint is saved, and the exit status is 130, as
for any interrupted command; a second Ctrl-C interrupts at once.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, Callable, Optional

from kvarchive import ArchivedMediaClient, FileCheckpoint, Fragment, MediaFragment
from kvarchive._cli_times import HELP as TIME_HELP
from kvarchive._cli_times import TimeParser
from kvarchive._download import atomic_file

__all__ = ["add_follow_options", "run_follow"]

UNTIL_HELP = "a duration from now (10m, 90s, 2h, 1d) or a time: " + TIME_HELP
_DURATION = re.compile(r"\+?(\d+(?:\.\d*)?|\.\d+)([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class UntilParser:
    """An argparse ``type=`` for ``--until``: ``10m`` is ten minutes after ``now``."""

    def __init__(self, times: TimeParser) -> None:
        self._times = times

    def __call__(self, text: str) -> datetime:
        duration = _DURATION.fullmatch(text.strip())
        if duration:
            amount, unit = duration.groups()
            return self._times.now + timedelta(**{_UNITS[unit]: float(amount)})
        return self._times(text)


def add_follow_options(parser: argparse.ArgumentParser, times: TimeParser) -> None:
    """The options of ``follow``."""
    parser.add_argument(
        "--start", type=times, help=f"first time to follow (default: now); {TIME_HELP}"
    )
    parser.add_argument("--until", type=UntilParser(times), help=f"stop after this; {UNTIL_HELP}")
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
    parser.add_argument(
        "--timestamp-type",
        type=str.upper,
        choices=("SERVER_TIMESTAMP", "PRODUCER_TIMESTAMP"),
        default="SERVER_TIMESTAMP",
    )
    parser.add_argument(
        "-o", "--outfile", metavar="DIR", help="write each fragment as an MKV file into DIR"
    )


def run_follow(kv: ArchivedMediaClient, args: argparse.Namespace) -> None:
    """Follow the stream; print a line per fragment, or write it into ``args.outfile``."""
    from kvarchive.cli import PROG, iso

    options: dict[str, Any] = {
        "stream_name": args.stream_name,
        "stream_arn": args.stream_arn,
        "start": args.start,
        "until": args.until,
        "poll": args.poll,
        "settle": args.settle,
        "timestamp_type": args.timestamp_type,
        "checkpoint": FileCheckpoint(args.checkpoint) if args.checkpoint else None,
    }
    if args.outfile:
        os.makedirs(args.outfile, exist_ok=True)
        follower: Any = kv.follow_media(**options)
    else:
        follower = kv.follow(**options)
    interrupted = threading.Event()
    with follower, _stop_on_interrupt(follower.stop, interrupted):
        for fragment in follower:
            if args.outfile:
                path = _save(fragment, args.outfile, iso)
                print(_line(fragment, iso, path), flush=True)
            else:
                print(_line(fragment, iso), flush=True)
    if interrupted.is_set():
        saved = f"; checkpoint saved in {args.checkpoint}" if args.checkpoint else ""
        print(f"{PROG}: stopped{saved}", file=sys.stderr)
        raise KeyboardInterrupt


def _line(fragment: Any, iso: Callable[[datetime], str], path: Optional[str] = None) -> str:
    """NUMBER SERVER_TIME PRODUCER_TIME [DURATION] SIZE [PATH], tab-separated."""
    fields = [fragment.number, iso(fragment.server_timestamp), iso(fragment.producer_timestamp)]
    if isinstance(fragment, Fragment):
        fields.append(f"{fragment.duration.total_seconds():.3f}s")
        fields.append(str(fragment.size))
    else:
        fields.append(str(len(fragment.data)))
    if path is not None:
        fields.append(path)
    return "\t".join(fields)


def _save(fragment: MediaFragment, folder: str, iso: Callable[[datetime], str]) -> str:
    """Write one fragment's MKV document, named by its time and number, atomically."""
    stamp = iso(fragment.server_timestamp).replace("-", "").replace(":", "")
    path = os.path.join(folder, f"{stamp}-{fragment.number}.mkv")
    with atomic_file(path) as out:
        out.write(fragment.data)
    return path


@contextlib.contextmanager
def _stop_on_interrupt(stop: Callable[[], None], flag: threading.Event) -> Iterator[None]:
    """While active, the first SIGINT calls ``stop`` and sets ``flag``; a second one interrupts."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread
        return
    previous = signal.getsignal(signal.SIGINT)

    def handle(signum: int, frame: Any) -> None:
        flag.set()
        stop()
        signal.signal(signal.SIGINT, previous)

    signal.signal(signal.SIGINT, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
