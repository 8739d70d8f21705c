"""Emulated streams and their fragment records."""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Callable, Optional, Protocol

import attrs

from kvarchive._times import from_epoch_ms, to_epoch_ms
from kvarchive.testing._fragments import (
    VIDEO_HEIGHT,
    VIDEO_WIDTH,
    SyntheticFragment,
    synthetic_tracks,
)
from kvarchive.testing._images import jpeg, png
from kvarchive.testing._mkv_writer import MediaFrame, Track
from kvarchive.testing._seeded import mixed_seed, rng

__all__ = [
    "EmulatedStream",
    "FragmentRecord",
    "FragmentSource",
    "MediaCache",
    "StreamDescription",
    "first_fragment_ms",
    "fragment_numbers",
]

_NUMBER_PREFIX = 91343852333181432392682062
_KEPT_LISTINGS = 4


def first_fragment_ms(start: Optional[datetime], length_ms: int) -> int:
    """Epoch ms of a stream's first fragment: ``start``, or so that the stream ends now."""
    if start is None:
        return int(time.time() * 1000) - length_ms
    return to_epoch_ms(start)


def fragment_numbers(count: int, seed: int = 0, *, mixed_lengths: bool = False) -> list[str]:
    """``count`` increasing fragment numbers, 47 digits like the service's.

    With ``mixed_lengths`` the first half has 46 digits and the rest 47, so a
    string sort differs from an integer sort.
    """
    if count == 0:
        return []
    generator = rng(seed, 10)
    steps = [generator.randrange(10**15, 2 * 10**15) for _ in range(count)]
    cumulative = [0]
    for step in steps[1:]:
        cumulative.append(cumulative[-1] + step)
    if mixed_lengths:
        start = 10**46 - cumulative[count // 2] if count > 1 else 10**46
    else:
        start = _NUMBER_PREFIX * 10**21 + generator.randrange(10**20)
    return [str(start + c) for c in cumulative]


class FragmentSource(Protocol):
    """What a fragment's bytes come from (synthetic recipe or stored sample)."""

    @property
    def size(self) -> int: ...

    def iter_chunks(self) -> Iterator[bytes]: ...

    def frames(self) -> Sequence[MediaFrame]: ...


@attrs.frozen
class FragmentRecord:
    """One fragment of an emulated stream, as ListFragments describes it.

    Timestamps are epoch milliseconds (``*_ms``) and aware UTC datetimes.
    The bytes are made on demand: :meth:`data` or :meth:`iter_chunks`.
    """

    number: str
    server_ms: int
    producer_ms: int
    duration_ms: int
    size: int
    index: int
    source: FragmentSource = attrs.field(eq=False, repr=False)

    @property
    def server_timestamp(self) -> datetime:
        """Server-side timestamp (aware UTC)."""
        return from_epoch_ms(self.server_ms)

    @property
    def producer_timestamp(self) -> datetime:
        """Producer-side timestamp (aware UTC)."""
        return from_epoch_ms(self.producer_ms)

    def timestamp_ms(self, selector: str) -> int:
        """The timestamp a ``FragmentSelectorType`` names, in epoch ms."""
        return self.producer_ms if selector == "PRODUCER_TIMESTAMP" else self.server_ms

    def iter_chunks(self) -> Iterator[bytes]:
        """The fragment's Matroska bytes, piece by piece."""
        return self.source.iter_chunks()

    def data(self) -> bytes:
        """The fragment's whole Matroska document."""
        return b"".join(self.source.iter_chunks())


@attrs.frozen
class StreamDescription:
    """What DescribeStream tells of a stream besides its name, set when it is added.

    ``kms_key_id`` None is the service's default key for Kinesis Video
    (``alias/aws/kinesisvideo``); a retention of 0 keeps no archive.
    """

    arn: str
    creation_ms: int
    retention_hours: int = 24
    kms_key_id: Optional[str] = None
    media_type: str = "video/h264"


@attrs.define(eq=False)
class EmulatedStream:
    """A stream held by the emulator: name, description and fragments in time order."""

    name: str
    description: StreamDescription
    fragments: list[FragmentRecord]
    tracks: list[Track]
    image_size: tuple[int, int] = (VIDEO_WIDTH, VIDEO_HEIGHT)
    stored_image: Optional[Callable[[FragmentRecord, str], Optional[bytes]]] = attrs.field(
        default=None, repr=False
    )
    next_fragment: Optional[Callable[[FragmentRecord], FragmentRecord]] = attrs.field(
        default=None, repr=False
    )
    _by_number: dict[str, FragmentRecord] = attrs.field(init=False, repr=False)
    _order: dict[str, tuple[list[int], list[FragmentRecord]]] = attrs.field(
        init=False, repr=False, factory=dict
    )
    # The last few ListFragments orders, each with the fragment list it was made from.
    _listings: dict[
        tuple[str, int, int, int], tuple[list[FragmentRecord], list[FragmentRecord]]
    ] = attrs.field(init=False, repr=False, factory=dict)
    _lock: threading.Lock = attrs.field(init=False, repr=False, factory=threading.Lock)

    def __attrs_post_init__(self) -> None:
        self._by_number = {f.number: f for f in self.fragments}

    def append(self, count: int) -> list[FragmentRecord]:
        """Add ``count`` fragments after the last one, as its producer would; returns them.

        ``next_fragment`` makes each from the one before (the stream's builder sets it).
        """
        if self.next_fragment is None or not self.fragments:
            raise ValueError(f"stream {self.name!r} cannot grow")
        added = [self.next_fragment(self.fragments[-1])]
        while len(added) < count:
            added.append(self.next_fragment(added[-1]))
        self._replace([*self.fragments, *added])
        return added

    def reveal(self, fragments: Sequence[FragmentRecord]) -> None:
        """Add fragments made by ``next_fragment`` that were held back, wherever they fall."""
        self._replace(sorted([*self.fragments, *fragments], key=lambda f: f.index))

    def drop_before(self, server_ms: int) -> list[FragmentRecord]:
        """Delete the fragments whose server timestamp is before ``server_ms``; returns them."""
        dropped = [f for f in self.fragments if f.server_ms < server_ms]
        self._replace([f for f in self.fragments if f.server_ms >= server_ms])
        return dropped

    def _replace(self, fragments: list[FragmentRecord]) -> None:
        # A new list, never changed in place: readers holding the old one stay consistent.
        with self._lock:
            self.fragments = fragments
            self._by_number = {f.number: f for f in fragments}
            self._order = {}

    @property
    def arn(self) -> str:
        """The stream's ARN, as the service forms it (name and creation time in ms)."""
        return self.description.arn

    @property
    def creation_ms(self) -> int:
        """When the stream was created, epoch ms."""
        return self.description.creation_ms

    @property
    def creation_time(self) -> datetime:
        """When the stream was created (aware UTC)."""
        return from_epoch_ms(self.creation_ms)

    @property
    def retention_hours(self) -> int:
        """DataRetentionInHours: 0 means the stream keeps no archive."""
        return self.description.retention_hours

    def fragment(self, number: str) -> Optional[FragmentRecord]:
        """The fragment with this number, or None."""
        return self._by_number.get(number)

    @property
    def total_size(self) -> int:
        """Sum of the fragments' sizes in bytes."""
        return sum(f.size for f in self.fragments)

    def _ordered(self, selector: str) -> tuple[list[int], list[FragmentRecord]]:
        with self._lock:
            cached = self._order.get(selector)
            if cached is None:
                ordered = sorted(self.fragments, key=lambda f: (f.timestamp_ms(selector), f.index))
                cached = ([f.timestamp_ms(selector) for f in ordered], ordered)
                self._order[selector] = cached
            return cached

    def starting_within(self, selector: str, start_us: int, end_us: int) -> list[FragmentRecord]:
        """Fragments whose selected timestamp lies in [start, end] (microseconds)."""
        starts, ordered = self._ordered(selector)
        lo = bisect.bisect_left(starts, -(-start_us // 1000))
        hi = bisect.bisect_right(starts, end_us // 1000)
        return ordered[lo:hi]

    def listed(self, selector: str, start_us: int, end_us: int, seed: int) -> list[FragmentRecord]:
        """The fragments of :meth:`starting_within`, in ListFragments' order: a seeded shuffle.

        The service lists fragments in no particular order, even across pages;
        here the same query of the same fragments gets the same order. The
        last few orders are kept, so that paging through a large range does
        not shuffle it again for each page (the same answers, sooner).
        """
        key = (selector, start_us, end_us, seed)
        fragments = self.fragments
        with self._lock:
            kept = self._listings.get(key)
        if kept is not None and kept[0] is fragments:
            return kept[1]
        listed = list(self.starting_within(selector, start_us, end_us))
        rng(seed, self.name, selector, start_us, end_us).shuffle(listed)
        with self._lock:
            if len(self._listings) >= _KEPT_LISTINGS:
                del self._listings[next(iter(self._listings))]
            self._listings[key] = (fragments, listed)
        return listed

    def overlapping(self, selector: str, start_us: int, end_us: int) -> list[FragmentRecord]:
        """Fragments whose [start, start + duration) meets [start, end] (microseconds)."""
        starts, ordered = self._ordered(selector)
        hi = bisect.bisect_right(starts, end_us // 1000)
        found = []
        for fragment in reversed(ordered[:hi]):
            if (fragment.timestamp_ms(selector) + fragment.duration_ms) * 1000 > start_us:
                found.append(fragment)
            else:
                break
        found.reverse()
        return found

    def covering(self, selector: str, at_us: int) -> Optional[FragmentRecord]:
        """The fragment whose [start, start + duration) holds ``at_us``, if any."""
        starts, ordered = self._ordered(selector)
        index = bisect.bisect_right(starts, at_us // 1000) - 1
        if index >= 0:
            fragment = ordered[index]
            if at_us < (starts[index] + fragment.duration_ms) * 1000:
                return fragment
        return None

    def image(
        self,
        fragment: FragmentRecord,
        fmt: str,
        size: Optional[tuple[int, int]],
        quality: int,
    ) -> bytes:
        """The image GetImages returns for an instant inside ``fragment``.

        A sample stream returns the stored keyframe image of the fragment when
        no other size is asked; otherwise a flat image whose shade follows the
        fragment.
        """
        if self.stored_image is not None and (size is None or size == self.image_size):
            stored = self.stored_image(fragment, fmt)
            if stored is not None:
                return stored
        width, height = size or self.image_size
        shade = 40 + (fragment.index * 37) % 180
        if fmt == "PNG":
            return png(width, height, (shade, 255 - shade, 128))
        return jpeg(width, height, shade, quality)


def synthetic_stream(
    name: str,
    description: StreamDescription,
    *,
    fragment_count: int,
    fragment_duration_ms: int,
    start_ms: int,
    payload_size: int,
    frame_count: int,
    audio: bool,
    seed: int,
    mixed_number_lengths: bool,
    gap_ms: int,
    cluster_size_known: bool,
    trailing_tags: bool,
    magic: str,
    codec: str = "h264",
    codec_private: bool = True,
) -> EmulatedStream:
    """A stream of ``fragment_count`` synthetic fragments starting at ``start_ms``."""
    # One lag for the stream keeps the producer timeline (the media's) continuous.
    lag_ms = rng(seed, 20).randrange(200, 500)
    numbers = fragment_numbers(fragment_count, seed, mixed_lengths=mixed_number_lengths)

    def record(index: int, number: str) -> FragmentRecord:
        server_ms = start_ms + index * (fragment_duration_ms + gap_ms)
        producer_ms = server_ms - lag_ms
        spec = SyntheticFragment(
            number=number,
            server_ms=server_ms,
            producer_ms=producer_ms,
            duration_ms=fragment_duration_ms,
            frame_count=frame_count,
            payload_size=payload_size,
            seed=mixed_seed(seed, 30, index),
            audio=audio,
            cluster_size_known=cluster_size_known,
            trailing_tags=trailing_tags,
            magic=magic,
            codec=codec,
            codec_private=codec_private,
        )
        return FragmentRecord(
            number, server_ms, producer_ms, fragment_duration_ms, spec.size, index, spec
        )

    return EmulatedStream(
        name,
        description,
        [record(index, number) for index, number in enumerate(numbers)],
        synthetic_tracks(audio, codec, codec_private),
        next_fragment=lambda last: record(last.index + 1, next_number(last, seed)),
    )


def next_number(last: FragmentRecord, seed: int) -> str:
    """The number of the fragment after ``last``: larger by a step like the service's."""
    return str(int(last.number) + rng(seed, 11, last.index).randrange(10**15, 2 * 10**15))


class MediaCache:
    """Fragments' Matroska bytes kept once made, up to ``limit`` bytes in all (0: none kept).

    The emulator makes a fragment's bytes on demand, piece by piece, at about a
    millisecond a fragment whatever its size: a benchmark that reads the same
    fragments again and again keeps them, so that the emulator's own work does
    not set the rate it measures.
    """

    def __init__(self, limit: int) -> None:
        if limit < 0:
            raise ValueError("media_cache_bytes must not be negative")
        self._limit = limit
        self._kept: dict[int, tuple[FragmentRecord, bytes]] = {}
        self._size = 0
        self._lock = threading.Lock()

    def chunks(self, fragment: FragmentRecord) -> Iterator[bytes]:
        """The fragment's bytes: whole if kept (or now kept, when there is room), else in pieces."""
        if not self._limit:
            return fragment.iter_chunks()
        with self._lock:
            kept = self._kept.get(id(fragment))
            room = self._size + fragment.size <= self._limit
        if kept is not None and kept[0] is fragment:
            return iter((kept[1],))
        if not room:
            return fragment.iter_chunks()
        data = fragment.data()
        with self._lock:
            if self._size + len(data) <= self._limit:
                self._kept[id(fragment)] = (fragment, data)
                self._size += len(data)
        return iter((data,))
