"""Times in, times out: everything becomes an aware UTC ``datetime``.

botocore takes naive datetimes as UTC and hands back response timestamps in
the machine's local zone; kvarchive keeps the first rule and undoes the second.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ._errors import ValidationError
from ._types import TimeLike

__all__ = [
    "EPOCH",
    "compact_seconds",
    "compact_time",
    "from_epoch",
    "from_epoch_ms",
    "from_iso",
    "iso",
    "parse_time",
    "to_epoch_ms",
    "to_utc",
]

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
"""The Unix epoch, an aware UTC datetime: what every epoch time counts from."""


def to_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime; a naive one is taken as UTC, as botocore does."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def from_epoch(seconds: float) -> datetime:
    """An aware UTC datetime from epoch seconds, exact to the microsecond."""
    return EPOCH + timedelta(microseconds=round(seconds * 1_000_000))


def from_epoch_ms(ms: int) -> datetime:
    """An aware UTC datetime from epoch milliseconds (exact)."""
    return EPOCH + timedelta(milliseconds=ms)


def to_epoch_ms(value: datetime) -> int:
    """Epoch milliseconds of ``value`` (naive means UTC), the microseconds cut off."""
    delta = to_utc(value) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def from_iso(text: str) -> datetime:
    """An ISO 8601 time as an aware UTC datetime (no zone means UTC); ValueError if not one."""
    text = text.strip()
    if text.endswith(("Z", "z")):
        # datetime.fromisoformat accepts a 'Z' suffix only from Python 3.11.
        text = text[:-1] + "+00:00"
    return to_utc(datetime.fromisoformat(text))


def compact_time(value: datetime) -> str:
    """``value`` as tables print it: UTC to the millisecond, ``2026-11-29 23:23:28.365Z``.

    The one format of times in the notebook's tables, the timeline and the
    command line's table (JSON and CSV keep ISO 8601 with a ``T``).
    """
    return iso(value).replace("T", " ")


def compact_seconds(value: timedelta) -> str:
    """A duration as tables print it: seconds to the millisecond, ``2.000s``."""
    ms = value // timedelta(milliseconds=1)
    sign = "-" if ms < 0 else ""
    return f"{sign}{abs(ms) // 1000}.{abs(ms) % 1000:03d}s"


def iso(value: datetime, timespec: str = "milliseconds") -> str:
    """``value`` in UTC as ISO 8601 with a ``Z``: ``2026-01-31T12:00:00.250Z`` (``timespec``
    as :meth:`datetime.isoformat` takes it)."""
    text = to_utc(value).isoformat(timespec=timespec)
    return text.replace("+00:00", "Z")


def parse_time(value: TimeLike, name: str) -> datetime:
    """Read a user's time argument ``name`` as an aware UTC datetime.

    Raises ValidationError for anything that is not a datetime, an ISO 8601
    string or epoch seconds.
    """
    if isinstance(value, datetime):
        return to_utc(value)
    if isinstance(value, bool):
        raise ValidationError(f"{name} must be a datetime, ISO 8601 string or epoch seconds")
    if isinstance(value, (int, float)):
        if not 0 <= value < 253402300800:  # up to year 9999
            raise ValidationError(f"{name} is out of range: {value!r}")
        return from_epoch(float(value))
    if isinstance(value, str):
        try:
            return from_iso(value)
        except ValueError:
            raise ValidationError(
                f"{name} is not an ISO 8601 time: {value!r} (e.g. '2026-01-31T12:00:00Z')"
            ) from None
    raise ValidationError(
        f"{name} must be a datetime, ISO 8601 string or epoch seconds, not {type(value).__name__}"
    )
