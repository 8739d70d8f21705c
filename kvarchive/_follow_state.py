"""Where a follower stands, as the small, versioned JSON text its checkpoint keeps.

Version 1, with every time in UTC to the microsecond::

    {
      "format": "kvarchive.follow",
      "version": 1,
      "stream": "cam",
      "timestamp_type": "SERVER_TIMESTAMP",
      "since": "2026-11-30T01:04:40.345000Z",
      "last": {"timestamp": "2026-11-30T01:05:12.345000Z", "number": "9134385233..."},
      "recent": [["2026-11-30T01:04:41.345000Z", "9134385233..."], ...]
    }

- ``since``: fragments stamped before it are never yielded. It starts at the
  follower's ``start`` and rises behind ``last`` as fragments are delivered,
  keeping the window in which late fragments are still looked for.
- ``last``: the delivered fragment with the greatest (timestamp, number), or
  null before the first one.
- ``recent``: every delivered fragment stamped from ``since`` on, ``last``
  included, oldest first: what tells a fragment that arrives late (stamped
  before ``last``) from one already delivered.

Fragment numbers are compared as integers (they have up to 128 digits).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Optional

from ._errors import CheckpointError
from ._models import Fragment
from ._times import iso, parse_time
from ._validate import check_fragment_number

__all__ = ["STATE_FORMAT", "STATE_VERSION", "FollowState", "Key"]

STATE_FORMAT = "kvarchive.follow"
STATE_VERSION = 1

Key = tuple[datetime, int]
"""How fragments are ordered: the selected timestamp, then the number as an integer."""


def _iso(value: datetime) -> str:
    return iso(value, timespec="microseconds")


class FollowState:
    """The delivered part of a stream: ``since``, ``last`` and ``recent`` (see the module)."""

    def __init__(
        self,
        stream: str,
        timestamp_type: str,
        since: datetime,
        recent: Optional[Mapping[str, datetime]] = None,
    ) -> None:
        self.stream = stream
        self.timestamp_type = timestamp_type
        self.since = since
        self._recent: dict[str, datetime] = dict(recent or {})
        self.last: Optional[tuple[datetime, str]] = None
        if self._recent:
            number, stamp = max(self._recent.items(), key=lambda item: (item[1], int(item[0])))
            self.last = (stamp, number)

    # -- reading fragments ---------------------------------------------------------------

    def timestamp(self, fragment: Fragment) -> datetime:
        """The fragment's timestamp of the followed type."""
        if self.timestamp_type == "PRODUCER_TIMESTAMP":
            return fragment.producer_timestamp
        return fragment.server_timestamp

    def key(self, fragment: Fragment) -> Key:
        """The fragment's place in the order followers yield."""
        return (self.timestamp(fragment), int(fragment.number))

    def is_new(self, fragment: Fragment) -> bool:
        """True for a fragment after the last delivered (or any from ``since`` on, at first)."""
        if self.timestamp(fragment) < self.since:
            return False
        if self.last is None:
            return True
        stamp, number = self.last
        return self.key(fragment) > (stamp, int(number))

    def is_late(self, fragment: Fragment) -> bool:
        """True for a fragment stamped before the last delivered yet never delivered itself."""
        return (
            self.timestamp(fragment) >= self.since
            and fragment.number not in self._recent
            and not self.is_new(fragment)
        )

    # -- delivering ----------------------------------------------------------------------

    def deliver(self, fragment: Fragment, lookback: timedelta) -> None:
        """Record ``fragment`` as delivered; look for late ones ``lookback`` behind ``last``."""
        stamp = self.timestamp(fragment)
        if self.is_new(fragment):
            self.last = (stamp, fragment.number)
        self._recent[fragment.number] = stamp
        assert self.last is not None
        floor = self.last[0] - lookback
        if floor > self.since:
            self.since = floor
            self._recent = {n: t for n, t in self._recent.items() if t >= floor}

    # -- JSON ----------------------------------------------------------------------------

    def to_json(self) -> str:
        """The state as compact JSON text (see the module for its fields)."""
        recent = sorted(self._recent.items(), key=lambda item: (item[1], int(item[0])))
        last = self.last
        value: dict[str, Any] = {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "stream": self.stream,
            "timestamp_type": self.timestamp_type,
            "since": _iso(self.since),
            "last": None if last is None else {"timestamp": _iso(last[0]), "number": last[1]},
            "recent": [[_iso(stamp), number] for number, stamp in recent],
        }
        return json.dumps(value, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str, *, stream: str, timestamp_type: str) -> FollowState:
        """Read a saved state, checking it belongs to ``stream`` and ``timestamp_type``.

        Raises CheckpointError for text that is not such a state.
        """
        try:
            value = json.loads(text)
            if not isinstance(value, dict) or value.get("format") != STATE_FORMAT:
                raise CheckpointError(f"the checkpoint holds no {STATE_FORMAT} state")
            if value.get("version") != STATE_VERSION:
                raise CheckpointError(
                    f"the checkpoint's state has version {value.get('version')!r}; "
                    f"this kvarchive reads version {STATE_VERSION}"
                )
            state = cls(
                str(value["stream"]),
                str(value["timestamp_type"]),
                parse_time(value["since"], "since"),
                {
                    check_fragment_number(number): parse_time(stamp, "recent")
                    for stamp, number in value["recent"]
                },
            )
            stored = value["last"]
            last = None
            if stored is not None:
                last = (parse_time(stored["timestamp"], "last"), stored["number"])
        except CheckpointError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CheckpointError(f"the checkpoint's state is unreadable: {exc!r}") from None
        if last != state.last:
            raise CheckpointError("the checkpoint's state is inconsistent: 'last' not in 'recent'")
        if state.stream != stream:
            raise CheckpointError(
                f"the checkpoint follows stream {state.stream!r}, not {stream!r}: "
                "give each stream a checkpoint of its own"
            )
        if state.timestamp_type != timestamp_type:
            raise CheckpointError(
                f"the checkpoint follows {state.timestamp_type}, not {timestamp_type}"
            )
        return state

    def __repr__(self) -> str:
        last = "none" if self.last is None else f"{_iso(self.last[0])} #{self.last[1]}"
        return f"<FollowState {self.stream!r} since {_iso(self.since)}, last {last}>"
