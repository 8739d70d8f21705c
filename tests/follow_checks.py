"""What a follower had to yield, and what it may have left for the next run."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Optional

from kvarchive.testing import FragmentRecord, Producer


def assert_followed(
    numbers: list[str],
    fragments: Iterable[FragmentRecord],
    *,
    start: datetime,
    until: datetime,
    producer: Optional[Producer] = None,
    listed_by: Optional[float] = None,
) -> None:
    """``numbers`` are the fragments stamped in ``[start, until)``, once each, in order.

    With ``listed_by`` (epoch seconds, see :func:`listing_deadline`), a fragment
    the producer made listable only after that may be missing: the contract
    leaves it to the next run. Every other fragment of the range must be there.
    """
    expected = [
        f.number
        for f in sorted(fragments, key=lambda f: (f.server_ms, int(f.number)))
        if start <= f.server_timestamp < until
    ]
    taken = set(numbers)
    assert len(taken) == len(numbers), "a fragment was yielded twice"
    assert numbers == [n for n in expected if n in taken], "out of order, or outside the range"
    listed_at = {record.number: at for record, at in producer.visible} if producer else {}
    missing = [n for n in expected if n not in taken]
    late = [n for n in missing if listed_by is not None and listed_at.get(n, 0.0) > listed_by]
    assert missing == late, f"{len(missing) - len(late)} fragment(s) lost"


def listing_deadline(until: datetime, *, settle: float, poll: float) -> float:
    """When (epoch seconds) a fragment stamped before ``until`` must be listed at the latest
    to be yielded by a follower that ``until`` ends.

    The follower polls at ``until + settle`` and ends two polls later at the latest; a
    fragment is seen at the first poll after it is listed and yielded ``settle`` after
    that, or left for the next run. A little is kept for polls made late under load.
    """
    seen_by = settle if settle <= 2 * poll else poll
    return until.timestamp() + seen_by - 0.1


def within_rate(times: list[float], limit: int = 5) -> bool:
    """No second holds more than ``limit`` of ``times`` (when requests reached the emulator).

    The client paces by its own clock; requests reach the emulator, which shares the
    test's process and cores, up to about 0.2 s late under load, so arrivals are
    allowed that much closer together.
    """
    times = sorted(times)
    return all(b - a >= 0.8 for a, b in zip(times, times[limit:]))
