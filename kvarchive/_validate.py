"""Local checks of every argument the service would reject.

botocore checks only required fields and minimums; maximums, patterns and
enum spellings would otherwise cost a round trip and come back as
``InvalidArgumentException``. Each check raises ValidationError naming the
argument.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Optional, Union

from ._errors import ValidationError
from ._service import STREAM_ARN, STREAM_NAME
from ._times import parse_time
from ._types import StreamRef, TimeLike

__all__ = [
    "check_choice",
    "check_fragment_number",
    "check_int",
    "check_range",
    "check_seconds",
    "check_stream",
    "milliseconds",
    "stream_key",
]

# FragmentNumberString, from the service model.
_FRAGMENT_NUMBER = re.compile(r"[0-9]{1,128}")


def check_stream(stream_name: Optional[str], stream_arn: Optional[str]) -> StreamRef:
    """The stream a call names: exactly one of a valid name or ARN."""
    if (stream_name is None) == (stream_arn is None):
        raise ValidationError("give exactly one of stream_name= or stream_arn=")
    if stream_name is not None:
        if not isinstance(stream_name, str) or not STREAM_NAME.fullmatch(stream_name):
            raise ValidationError(
                f"stream_name must be 1-256 characters of letters, digits, '_', '.' or '-': "
                f"{stream_name!r}"
            )
        return ("StreamName", stream_name)
    if (
        not isinstance(stream_arn, str)
        or len(stream_arn) > 1024
        or not STREAM_ARN.fullmatch(stream_arn)
    ):
        raise ValidationError(
            "stream_arn must look like "
            f"'arn:aws:kinesisvideo:REGION:ACCOUNT:stream/NAME/CREATION_TIME': {stream_arn!r}"
        )
    return ("StreamARN", stream_arn)


def stream_key(stream: StreamRef) -> str:
    """The stream's name, however it was named: one stream, one rate budget, one cache entry.

    A stream ARN's resource part holds the name
    (``arn:aws:kinesisvideo:REGION:ACCOUNT:stream/NAME/CREATION_TIME``), and a
    client talks to one account and region, where names are unique.
    """
    field, value = stream
    if field == "StreamARN":
        match = STREAM_ARN.fullmatch(value)
        if match:
            return match.group(1)
    return value


def check_choice(value: Any, name: str, choices: Iterable[str]) -> str:
    """``value`` as one of the service's enum spellings (case-insensitive in, exact out)."""
    allowed = tuple(choices)
    if isinstance(value, str):
        for choice in allowed:
            if value.upper() == choice:
                return choice
    raise ValidationError(f"{name} must be one of {', '.join(allowed)}: {value!r}")


def check_int(value: Any, name: str, low: int, high: Optional[int] = None) -> int:
    """``value`` as an int within ``low..high`` (inclusive); bools are refused."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{name} must be an integer, not {type(value).__name__}")
    if value < low or (high is not None and value > high):
        bounds = f"{low}..{high}" if high is not None else f"at least {low}"
        raise ValidationError(f"{name} must be {bounds}: {value}")
    return value


def check_seconds(value: Any, name: str) -> float:
    """``value`` as a number of seconds, not negative; bools are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError(f"{name} must be a number of seconds")
    if value < 0:
        raise ValidationError(f"{name} must not be negative: {value}")
    return value


def check_range(
    start: TimeLike,
    end: TimeLike,
    *,
    longest: Optional[timedelta] = None,
    empty: bool = True,
) -> tuple[datetime, datetime]:
    """``start`` and ``end`` as aware UTC datetimes, ``end`` not before ``start`` (nor equal
    to it unless ``empty``: GetClip and sessions refuse an end equal to the start)."""
    first = parse_time(start, "start")
    last = parse_time(end, "end")
    if last < first:
        raise ValidationError(f"end ({last.isoformat()}) is before start ({first.isoformat()})")
    if last == first and not empty:
        raise ValidationError(f"end must be after start ({first.isoformat()}), not equal to it")
    if longest is not None and last - first > longest:
        raise ValidationError(f"end - start must be at most {longest}: it is {last - first}")
    return first, last


def check_fragment_number(value: Any) -> str:
    """A fragment number: a decimal string of 1-128 digits."""
    number = getattr(value, "number", value)
    if not isinstance(number, str) or not _FRAGMENT_NUMBER.fullmatch(number):
        raise ValidationError(
            f"fragments must be Fragment objects or decimal strings of 1-128 digits: {value!r}"
        )
    return number


def milliseconds(value: Union[int, timedelta], name: str, low: int) -> int:
    """A duration given as int milliseconds or a timedelta, as whole milliseconds."""
    if isinstance(value, timedelta):
        value = round(value.total_seconds() * 1000)
    return check_int(value, name, low)
