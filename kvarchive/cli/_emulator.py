"""``kvarchive emulator``: the local emulator on its own, for other shells and programs.

It serves until Ctrl-C (or SIGTERM), then exits 0.

It prints first the ``export`` lines that point the AWS SDKs at it
(``AWS_ENDPOINT_URL_KINESIS_VIDEO``, honoured by boto3 1.28 and later and the
AWS CLI, whose service id for ``kinesisvideo`` is "Kinesis Video"), its region
and dummy keys; then, as shell comments, the streams it serves. Everything it
prints on stdout can be pasted into a shell as it is.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import signal
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any, NamedTuple, Optional

from kvarchive import KVArchiveError
from kvarchive._service import STREAM_NAME
from kvarchive._times import compact_time, iso

if TYPE_CHECKING:
    from kvarchive.testing import EmulatedStream, Emulator

__all__ = [
    "DEFAULT_PORT",
    "StreamSpec",
    "emulator",
    "environment_lines",
    "sleep_forever",
    "stream_spec",
    "until_stopped",
]

DEFAULT_PORT = 4567
"""The control plane's port by default: the printed lines stay valid from one run to the next."""

_COUNTED = re.compile(r"(synthetic|call):(\d+)")


class StreamSpec(NamedTuple):
    """One ``--stream``: a name, and the bundled sample (``fragments`` None), that many
    synthetic fragments, or (``call``) that many seconds of a call in Amazon Connect's layout."""

    name: str
    fragments: Optional[int] = None
    call: bool = False


def stream_spec(text: str) -> StreamSpec:
    """An argparse ``type=``: ``NAME``, ``NAME=sample``, ``NAME=synthetic:N`` or ``NAME=call:N``."""
    name, _, kind = text.partition("=")
    if not STREAM_NAME.fullmatch(name):
        raise argparse.ArgumentTypeError(
            f"not a stream name: {name!r} (1-256 letters, digits, '_', '.' or '-')"
        )
    if kind in ("", "sample"):
        return StreamSpec(name)
    counted = _COUNTED.fullmatch(kind)
    if counted is None or int(counted.group(2)) < 1:
        raise argparse.ArgumentTypeError(
            f"not a kind of stream: {kind!r} (sample, synthetic:N for N fragments, "
            "or call:N for N seconds of a call)"
        )
    return StreamSpec(name, int(counted.group(2)), counted.group(1) == "call")


def environment_lines(emu: Emulator) -> list[str]:
    """The ``export`` lines that make kvarchive, boto3 and the AWS CLI talk to ``emu``."""
    keys = emu.session().get_credentials()
    assert keys is not None  # the session is made with keys
    return [
        f"export AWS_ENDPOINT_URL_KINESIS_VIDEO={emu.endpoint_url}",
        f"export AWS_DEFAULT_REGION={emu.region}",
        f"export AWS_ACCESS_KEY_ID={keys.access_key}",
        f"export AWS_SECRET_ACCESS_KEY={keys.secret_key}",
    ]


def emulator(args: argparse.Namespace) -> None:
    """Serve the streams ``args.stream`` names until Ctrl-C, having printed how to reach them."""
    from kvarchive.testing import Emulator

    specs: list[StreamSpec] = args.stream or [StreamSpec("demo")]
    try:
        started = Emulator(region=args.region or "us-east-1", port=args.port)
    except OSError as exc:
        raise KVArchiveError(
            f"cannot serve on 127.0.0.1:{args.port}: {exc.strerror or exc} "
            "(--port 0 picks a free port)"
        ) from exc
    with started as emu, until_stopped():
        print("\n".join(environment_lines(emu)), flush=True)  # first: what another shell needs
        streams = [_add(emu, spec) for spec in specs]
        print("# The lines above point kvarchive, boto3 and the AWS CLI at this emulator.")
        for stream in streams:
            print(_stream_comment(stream))
        print("# Serving until Ctrl-C.", flush=True)
        sleep_forever()
    print("Stopped: the emulator is closed.", file=sys.stderr)


def _add(emu: Emulator, spec: StreamSpec) -> EmulatedStream:
    """The stream ``spec`` describes, added to ``emu``."""
    if spec.fragments is None:
        return emu.add_sample_stream(spec.name)
    if spec.call:
        return emu.add_call_stream(spec.name, fragment_count=spec.fragments)
    return emu.add_stream(spec.name, fragment_count=spec.fragments)


@contextlib.contextmanager
def until_stopped() -> Iterator[None]:
    """Run the ``with`` block until Ctrl-C (SIGINT) or SIGTERM, the ways to stop a server,
    then go on as if it had ended; :func:`sleep_forever` in it waits for them."""
    main = threading.current_thread() is threading.main_thread()  # which alone takes signals
    previous = signal.signal(signal.SIGTERM, _interrupt) if main else None
    try:
        yield
    except KeyboardInterrupt:
        pass
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def sleep_forever() -> None:
    """Sleep until a signal interrupts."""
    while True:
        time.sleep(3600)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _stream_comment(stream: EmulatedStream) -> str:
    """A stream's fragments and range, and a command that lists them, as shell comments."""
    first, last = stream.fragments[0], stream.fragments[-1]
    start = first.server_timestamp
    end = last.server_timestamp + timedelta(milliseconds=last.duration_ms)
    return (
        f"# Stream {stream.name}: {len(stream.fragments)} fragments from {compact_time(start)} "
        f"to {compact_time(end)}; try:\n"
        f"#   kvarchive fragments --stream-name {stream.name} --start {iso(start)} --end {iso(end)}"
    )
