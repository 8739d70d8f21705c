"""``kvarchive follow``: each new fragment once, as a line or an MKV file, until told to stop.

Ctrl-C (SIGINT) stops it cleanly: the fragment being printed or written is
finished and counted, the checkpoint is saved, and the exit status is 130, as
for any interrupted command; a second Ctrl-C interrupts at once (the fragment
in hand is then delivered again next time), and still says where the
checkpoint is.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Callable, Optional

from kvarchive import ArchivedMediaClient, FileCheckpoint, MediaFragment
from kvarchive._destinations import check_folder
from kvarchive.cli._output import fragment_line, save_fragment

__all__ = ["follow"]


def follow(kv: ArchivedMediaClient, args: argparse.Namespace) -> None:
    """Follow the stream; print a line per fragment, or write it into ``args.outfile``."""
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
    interrupted = threading.Event()
    try:
        _follow(kv, args, options, interrupted)
    except KeyboardInterrupt:  # a second Ctrl-C: the fragment in hand is not counted
        raise KeyboardInterrupt(f"interrupted{_saved(args.checkpoint)}") from None
    if interrupted.is_set():
        raise KeyboardInterrupt(f"interrupted at a fragment boundary{_saved(args.checkpoint)}")


def _follow(
    kv: ArchivedMediaClient,
    args: argparse.Namespace,
    options: dict[str, Any],
    interrupted: threading.Event,
) -> None:
    """Print or write each fragment until the follower ends; the first Ctrl-C ends it."""
    if args.outfile:
        folder = check_folder(args.outfile, kv._s3)
        with kv.follow_media(**options) as media, _stop_on_interrupt(media.stop, interrupted):
            for item in media:
                number, server, producer = _stamped(item)
                path = save_fragment(item.data, number, server, folder, kv._s3)
                size = str(len(item.data))
                print(fragment_line(number, server, producer, size, path), flush=True)
    else:
        with kv.follow(**options) as fragments, _stop_on_interrupt(fragments.stop, interrupted):
            for f in fragments:
                times = (f.server_timestamp, f.producer_timestamp)
                duration = f"{f.duration.total_seconds():.3f}s"
                print(fragment_line(f.number, *times, duration, str(f.size)), flush=True)


def _saved(checkpoint: Optional[str]) -> str:
    """Where the position was kept, if anywhere, to end the "interrupted" line with."""
    if checkpoint is None or not os.path.exists(checkpoint):
        return ""
    return f"; checkpoint saved in {checkpoint}"


def _stamped(fragment: MediaFragment) -> tuple[str, datetime, datetime]:
    """The number and server and producer times of a fragment from the service.

    A local file's fragments may lack them; the service's always carry them
    (MediaStream refuses a fragment of the service without its timestamps).
    """
    number, server, producer = (
        fragment.number,
        fragment.server_timestamp,
        fragment.producer_timestamp,
    )
    assert number is not None and server is not None and producer is not None
    return number, server, producer


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
