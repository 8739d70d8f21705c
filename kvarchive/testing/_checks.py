"""Reading an emulated request as the service does: parameter checks and the NextToken codec.

Every check raises :class:`ApiError` with ``InvalidArgumentException`` and a
message naming the parameter, as the service answers a request it refuses.
Numbers arrive as :class:`~decimal.Decimal` (the server parses JSON that way),
so that a fractional timestamp keeps every digit.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Optional

from kvarchive._service import MAX_SPAN, TIMESTAMP_TYPES
from kvarchive.testing._faults import ERROR_STATUS

__all__ = [
    "MAX_SPAN_US",
    "ApiError",
    "check_range",
    "decode_token",
    "encode_token",
    "enum_param",
    "epoch_seconds",
    "fragment_selector",
    "int_param",
    "invalid",
    "request_key",
    "struct_param",
    "time_range",
    "time_us",
]

MAX_SPAN_US = MAX_SPAN // timedelta(microseconds=1)
"""The longest range of GetClip and of an ON_DEMAND session, in microseconds."""


class ApiError(Exception):
    """An error answer: code, message and HTTP status (from the code by default)."""

    def __init__(self, code: str, message: str, status: Optional[int] = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status if status is not None else ERROR_STATUS.get(code, 400)


def invalid(message: str) -> ApiError:
    """The service's answer to a request it refuses: InvalidArgumentException."""
    return ApiError("InvalidArgumentException", message)


def time_us(value: Any, name: str) -> int:
    """A request timestamp (epoch number, possibly fractional, or ISO 8601) in microseconds."""
    if isinstance(value, bool) or value is None:
        raise invalid(f"{name} is not a timestamp")
    if isinstance(value, str):
        try:
            value = Decimal(value)
        except InvalidOperation:
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise invalid(f"{name} is not a timestamp: {value!r}") from None
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=timezone.utc)
            value = Decimal(str(parsed.timestamp()))
    if not isinstance(value, (int, Decimal)):
        raise invalid(f"{name} is not a timestamp")
    return int(Decimal(value) * 1_000_000)


def int_param(params: dict[str, Any], name: str, low: int, high: Optional[int]) -> Optional[int]:
    """``params[name]`` as an int within ``low..high``, or None if absent."""
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)) or value != int(value):
        raise invalid(f"{name} must be an integer")
    value = int(value)
    if value < low or (high is not None and value > high):
        bound = f"{low}..{high}" if high is not None else f">= {low}"
        raise invalid(f"{name} must be {bound}, got {value}")
    return value


def enum_param(params: dict[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    """``params[name]`` (or ``default``), which must be one of ``allowed``."""
    value = params.get(name, default)
    if value not in allowed:
        raise invalid(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return str(value)


def struct_param(params: dict[str, Any], name: str) -> dict[str, Any]:
    """``params[name]`` as a structure (empty if absent)."""
    value = params.get(name) or {}
    if not isinstance(value, dict):
        raise invalid(f"{name} must be a structure")
    return value


def time_range(
    selector: dict[str, Any], name: str, *, required: bool = True
) -> tuple[Optional[int], Optional[int]]:
    """(start, end) in microseconds from a ``TimestampRange``; end before start is invalid."""
    timestamps = struct_param(selector, "TimestampRange")
    raw_start = timestamps.get("StartTimestamp")
    raw_end = timestamps.get("EndTimestamp")
    if required and (raw_start is None or raw_end is None):
        raise invalid(f"{name}.TimestampRange needs StartTimestamp and EndTimestamp")
    start = None if raw_start is None else time_us(raw_start, "StartTimestamp")
    end = None if raw_end is None else time_us(raw_end, "EndTimestamp")
    if start is not None and end is not None and end < start:
        raise invalid("EndTimestamp must not be before StartTimestamp")
    return start, end


def check_range(kind: str, start_us: int, end_us: Optional[int], now: float) -> None:
    """Refuse a clip's or session's range as the API reference does: EndTimestamp later than
    StartTimestamp, within 24 hours of it, and in the past (``now``, epoch s) for server
    timestamps. A range without an end (LIVE_REPLAY) is not checked here."""
    if end_us is None:
        return
    if end_us <= start_us:
        raise invalid("EndTimestamp must be later than StartTimestamp")
    if end_us - start_us > MAX_SPAN_US:
        raise invalid("EndTimestamp must be within 24 hours of StartTimestamp")
    if kind == "SERVER_TIMESTAMP" and end_us > now * 1_000_000:
        raise invalid("EndTimestamp must be in the past for SERVER_TIMESTAMP")


def epoch_seconds(ms: int) -> float:
    """Epoch seconds with milliseconds, as the service writes timestamps."""
    return round(ms / 1000, 3)


def fragment_selector(params: dict[str, Any], name: str) -> tuple[str, int, int]:
    """The selector type and ``[start, end]`` (microseconds) of a required ``name`` selector."""
    selector = struct_param(params, name)
    kind = enum_param(selector, "FragmentSelectorType", TIMESTAMP_TYPES, "")
    start, end = time_range(selector, name)
    assert start is not None and end is not None  # required=True
    return kind, start, end


def request_key(params: dict[str, Any], *names: str) -> str:
    """What ``names`` of ``params`` hold, as text: a NextToken carries it, so that a token
    sent with other parameters than those it was issued for is refused."""
    chosen = {name: params.get(name) for name in names}
    return json.dumps(chosen, sort_keys=True, separators=(",", ":"), default=str)


def encode_token(value: dict[str, Any]) -> str:
    """A NextToken that carries ``value``: where the next page starts."""
    return base64.b64encode(json.dumps(value, separators=(",", ":")).encode()).decode()


def decode_token(token: Any) -> dict[str, Any]:
    """What a NextToken carries; InvalidArgumentException for one the emulator did not make."""
    try:
        value = json.loads(base64.b64decode(str(token), validate=True))
    except (binascii.Error, ValueError):
        raise invalid("NextToken is invalid") from None
    if not isinstance(value, dict):
        raise invalid("NextToken is invalid")
    return value
