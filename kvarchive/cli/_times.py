"""Times as the command line reads them: ISO 8601, epoch seconds, ``now`` or ``-15m``;
and lengths of time such as ``500ms`` or ``10m``.

Relative times count back from one ``now`` taken once per invocation, so that
``--start -1h --end now`` spans exactly one hour.
"""

from __future__ import annotations

import argparse
import contextlib
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from kvarchive._times import EPOCH, from_iso

__all__ = [
    "DEADLINE_HELP",
    "DURATION_HELP",
    "TIME_OPTIONS",
    "DeadlineParser",
    "TimeParser",
    "duration",
    "join_time_options",
]

TIME_OPTIONS = ("--start", "--end")
"""The options whose value may be a relative time such as ``-1h``."""

_RELATIVE = re.compile(r"-(\d+(?:\.\d*)?|\.\d+)([smhd])")
_AHEAD = re.compile(r"\+?(\d+(?:\.\d*)?|\.\d+)([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h|d)?")
_DURATION_UNITS = {"ms": "milliseconds", **_UNITS}
_EPOCH_SECONDS = re.compile(r"\d+(?:\.\d*)?|\.\d+")
# Looks like a value rather than an option: "-1h", "-90s", "-.5d".
_DASH_VALUE = re.compile(r"-\.?\d")

HELP = "ISO 8601 (no zone means UTC), epoch seconds, 'now', or relative: -30s, -15m, -2h, -1d"
DEADLINE_HELP = "a duration from now (10m, 90s, 2h, 1d) or a time: " + HELP
DURATION_HELP = "a positive length of time: 500ms, 30s, 10m, 2h, 1d (or seconds)"


class TimeParser:
    """An argparse ``type=`` that reads a time relative to one fixed ``now``."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self, text: str) -> datetime:
        """``text`` as an aware UTC datetime; ArgumentTypeError if it is none of the forms."""
        value = text.strip()
        if value.lower() == "now":
            return self.now
        relative = _RELATIVE.fullmatch(value)
        if relative:
            amount, unit = relative.groups()
            return self.now - timedelta(**{_UNITS[unit]: float(amount)})
        if _EPOCH_SECONDS.fullmatch(value):
            return _from_epoch(value)
        try:
            return from_iso(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a time: {text!r} ({HELP})") from None


class DeadlineParser(TimeParser):
    """An argparse ``type=`` for a time to stop at: ``10m`` is ten minutes after ``now``."""

    def __call__(self, text: str) -> datetime:
        ahead = _AHEAD.fullmatch(text.strip())
        if ahead:
            amount, unit = ahead.groups()
            return self.now + timedelta(**{_UNITS[unit]: float(amount)})
        return super().__call__(text)


def duration(text: str) -> timedelta:
    """An argparse ``type=``: ``500ms``, ``1.5s``, ``10m``, ``2h``, ``1d``, or seconds (``600``)."""
    found = _DURATION.fullmatch(text.strip())
    value = None
    if found:
        amount, unit = found.groups()
        with contextlib.suppress(OverflowError):
            value = timedelta(**{_DURATION_UNITS[unit or "s"]: float(amount)})
    if value is None or value < timedelta(microseconds=1):
        raise argparse.ArgumentTypeError(f"not a length of time: {text!r} ({DURATION_HELP})")
    return value


def _from_epoch(text: str) -> datetime:
    """Epoch seconds (a decimal string) as an aware UTC datetime, exact to the microsecond."""
    try:
        micros = int((Decimal(text) * 1_000_000).to_integral_value())
        return EPOCH + timedelta(microseconds=micros)
    except (InvalidOperation, OverflowError):
        raise argparse.ArgumentTypeError(f"epoch seconds out of range: {text!r}") from None


def join_time_options(argv: Sequence[str]) -> list[str]:
    """``argv`` with ``--start -1h`` joined into ``--start=-1h``.

    argparse takes any argument that starts with '-' and is not a plain
    negative number for an option, so a relative time after ``--start`` or
    ``--end`` would read as a missing value.
    """
    joined: list[str] = []
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg == "--":
            joined.extend(argv[index:])
            break
        following = argv[index + 1] if index + 1 < len(argv) else ""
        if arg in TIME_OPTIONS and _DASH_VALUE.match(following):
            joined.append(f"{arg}={following}")
            index += 2
            continue
        joined.append(arg)
        index += 1
    return joined
