"""Hostile Matroska: only MediaParseError (MediaIncompleteError when cut) or a clean end,
in bounded time and memory."""

from __future__ import annotations

import io
import time
import tracemalloc
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mkvbuild import checked_scan

from kvarchive import MediaIncompleteError, MediaParseError, MediaStream
from kvarchive._matroska.ids import (
    CLUSTER,
    EBML,
    INFO,
    SEGMENT,
    SIMPLE_BLOCK,
    SIMPLE_TAG,
    TAG,
    TAG_NAME,
    TAG_STRING,
    TAGS,
    TIMECODE,
    TIMECODE_SCALE,
    VOID,
)
from kvarchive._matroska.scanner import FragmentScanner
from kvarchive._matroska.vint import UNKNOWN_SIZE, encode_element, encode_id, encode_size
from kvarchive.testing import synthetic_fragment

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
GOOD = synthetic_fragment("100", T0, T0, payload_size=2000, frame_count=6)
HEADER = GOOD[: GOOD.index(encode_id(SEGMENT))]
SEGMENT_START = encode_id(SEGMENT) + encode_size(UNKNOWN_SIZE)


def scan(data: bytes, chunk: int = 4096) -> int:
    """Feed data in chunks and finish; the number of fragments, or MediaParseError."""
    scanner = FragmentScanner()
    found = 0
    for i in range(0, len(data), chunk):
        found += len(scanner.feed(data[i : i + chunk]))
    return found + len(scanner.finish())


def test_an_element_larger_than_the_body_is_truncation() -> None:
    """A block claiming 2**50 bytes in a short body is a truncation error, found quickly."""
    block = encode_id(SIMPLE_BLOCK) + encode_size(2**50) + b"\x81\x00\x00\x80" + b"\x00" * 100
    body = HEADER + SEGMENT_START + encode_id(CLUSTER) + encode_size(UNKNOWN_SIZE) + block
    started = time.monotonic()
    with pytest.raises(MediaParseError, match="truncated"):
        scan(body)
    assert time.monotonic() - started < 1


def test_the_largest_size_field_does_not_overflow() -> None:
    """An 8-byte size of 2**56 - 2 inside the metadata is refused, not allocated."""
    body = HEADER + SEGMENT_START + encode_id(TAGS) + encode_size(2**56 - 2) + b"\x00" * 16
    tracemalloc.start()
    try:
        with pytest.raises(MediaParseError):
            scan(body)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


def test_deeply_nested_tags_are_refused() -> None:
    """Tags nested thousands deep raise MediaParseError, not RecursionError."""
    inner = encode_element(
        SIMPLE_TAG, encode_element(TAG_NAME, b"A") + encode_element(TAG_STRING, b"B")
    )
    for _ in range(3000):
        inner = encode_element(SIMPLE_TAG, inner)
    body = HEADER + SEGMENT_START + encode_element(TAGS, encode_element(TAG, inner))
    with pytest.raises(MediaParseError):
        scan(body)


def test_zero_length_elements_are_fine() -> None:
    """Empty Void, Tags and Cluster elements parse as one fragment."""
    body = (
        HEADER
        + SEGMENT_START
        + encode_element(VOID, b"")
        + encode_element(TAGS, b"")
        + encode_element(CLUSTER, b"")
    )
    assert scan(body) == 1


def test_garbage_between_fragments_is_an_error_with_its_offset() -> None:
    """Bytes that are not an element between two fragments raise at their offset."""
    body = GOOD + b"\x00\x00\x00garbage" + GOOD
    with pytest.raises(MediaParseError) as caught:
        scan(body, chunk=7)
    assert caught.value.offset is not None
    assert len(GOOD) - 16 <= caught.value.offset <= len(GOOD) + 3


def test_many_tiny_elements_take_linear_time() -> None:
    """A megabyte of one-byte Void elements scans in well under a second."""
    body = HEADER + SEGMENT_START + encode_element(VOID, b"") * 500_000
    started = time.monotonic()
    assert scan(body, chunk=1 << 16) == 1
    assert time.monotonic() - started < 5


@settings(max_examples=200, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(min_size=0, max_size=400), chunk=st.integers(1, 64))
def test_arbitrary_bytes_after_an_ebml_header(data: bytes, chunk: int) -> None:
    """Random bytes after a valid EBML header give MediaParseError at an offset in the body, or
    fragments that are the whole body, never anything else."""
    body = HEADER + data
    checked_scan(body, range(chunk, len(body), chunk))


@settings(max_examples=200, deadline=2000)
@given(
    sizes=st.lists(st.integers(0, 2**56 - 2), min_size=1, max_size=6),
    ids=st.lists(st.sampled_from([CLUSTER, TAGS, VOID, SEGMENT, EBML]), min_size=1, max_size=6),
)
def test_hostile_sizes_and_ids(sizes: list[int], ids: list[int]) -> None:
    """Elements with any declared sizes and misplaced IDs raise only MediaParseError, at an offset
    in the body after the fragments before it (or parse into fragments that are the whole body)."""
    body = (
        HEADER + SEGMENT_START + b"".join(encode_id(i) + encode_size(s) for i, s in zip(ids, sizes))
    )
    checked_scan(body, range(13, len(body), 13))


# -- through MediaStream: every malformed body ends in MediaParseError or MediaIncompleteError --

NUMBERS = ["100", "101", "102"]
BODY = b"".join(
    synthetic_fragment(n, T0 + timedelta(seconds=2 * i), T0, payload_size=900, frame_count=5)
    for i, n in enumerate(NUMBERS)
)


def service(body: bytes, numbers: Sequence[str] = NUMBERS) -> MediaStream:
    """``body`` as the answer to GetMediaForFragmentList of ``numbers``, and to every resume.

    A resumed request gets the same bytes from byte 0 again; the double stops
    a reader that keeps asking, so a test fails instead of hanging.
    """
    requests: list[list[str]] = []

    def open_batch(batch: list[str]) -> tuple[io.BytesIO, str]:
        requests.append(batch)
        assert batch
        assert len(requests) <= 4, "more than the usual attempts"
        return io.BytesIO(body), "video/webm"

    return MediaStream.for_fragments(list(numbers), open_batch, batch_size=1000)


def local_file(body: bytes) -> MediaStream:
    """``body`` as a local file."""
    return MediaStream.from_file(io.BytesIO(body))


def read_everything(media: MediaStream, how: str, chunk: int) -> list[bytes]:
    """Read with iter_fragments or iter_frames, touching every field a reader can touch.

    Returns the data of the fragments read (none for iter_frames).
    """
    got: list[bytes] = []
    touched: list[object] = []
    with media:
        if how == "fragments":
            for fragment in media.iter_fragments(chunk):
                touched += [repr(fragment), fragment.number, fragment.tags, fragment.tag_list]
                touched += [fragment.server_timestamp, fragment.producer_timestamp]
                got.append(fragment.data)
        else:
            for frame in media.iter_frames(chunk):
                touched += [repr(frame), frame.timestamp, frame.utc_time, frame.track, frame.data]
    return got


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(st.tuples(st.integers(0, len(BODY) - 1), st.integers(0, 255)), max_size=4),
    cut=st.integers(0, len(BODY)),
    chunk=st.integers(1, 3000),
    source=st.sampled_from([service, local_file]),
    how=st.sampled_from(["fragments", "frames"]),
)
def test_damaged_bodies_end_in_our_errors_after_a_prefix(
    edits: list[tuple[int, int]], cut: int, chunk: int, source: Any, how: str
) -> None:
    """Damaged or cut bodies yield fragments that are a prefix of the input, then raise
    MediaParseError (with its offset) or MediaIncompleteError, never anything else."""
    damaged = bytearray(BODY)
    for at, value in edits:
        damaged[at] = value
    body = bytes(damaged[:cut])
    got: list[bytes] = []
    try:
        got = read_everything(source(body), how, chunk)
    except MediaParseError as exc:
        assert exc.offset is not None
        assert 0 <= exc.offset <= len(body)
    except MediaIncompleteError:
        pass
    else:
        if source is service and how == "fragments":
            assert len(got) == len(NUMBERS)
    joined = b"".join(got)
    assert joined == body[: len(joined)]


def kvs_fragment(*, scale: int, timecodes: list[int], tags: bool = True) -> bytes:
    """One fragment with the given TimecodeScale and one frame per Cluster Timecode."""

    def simple(name: str, value: str) -> bytes:
        text = encode_element(TAG_NAME, name.encode()) + encode_element(TAG_STRING, value.encode())
        return encode_element(SIMPLE_TAG, text)

    service_tags = encode_element(
        TAGS,
        encode_element(
            TAG,
            simple("AWS_KINESISVIDEO_FRAGMENT_NUMBER", "100")
            + simple("AWS_KINESISVIDEO_SERVER_TIMESTAMP", "1767268800.5")
            + simple("AWS_KINESISVIDEO_PRODUCER_TIMESTAMP", "1767268800"),
        ),
    )
    clusters = b"".join(
        encode_id(CLUSTER)
        + encode_size(UNKNOWN_SIZE)
        + encode_element(TIMECODE, timecode.to_bytes(8, "big"))
        + encode_element(SIMPLE_BLOCK, b"\x81\x00\x00\x80frame")
        for timecode in timecodes
    )
    info = encode_element(INFO, encode_element(TIMECODE_SCALE, scale.to_bytes(8, "big")))
    return HEADER + SEGMENT_START + info + (service_tags if tags else b"") + clusters


@pytest.mark.parametrize(
    ("scale", "timecodes", "tags"),
    [
        (2**64 - 1, [1767268800000], True),  # no timedelta holds it
        (10**9, [10**12], False),  # read as epoch time: past the year 9999
        (10**6, [0, 2**63], True),  # the second Cluster jumps out of range
    ],
)
def test_times_out_of_range_are_parse_errors_at_their_block(
    scale: int, timecodes: list[int], tags: bool
) -> None:
    """A frame whose time no datetime holds raises MediaParseError at its block, not OverflowError."""
    body = kvs_fragment(scale=scale, timecodes=timecodes, tags=tags)
    bad_block = body.rindex(encode_id(SIMPLE_BLOCK))
    sources = [local_file, lambda body: service(body, ["100"])] if tags else [local_file]
    for source in sources:
        frames = []
        with pytest.raises(MediaParseError, match="out of range") as caught:
            with source(body) as media:
                for frame in media.iter_frames():
                    frames.append((frame.timestamp, frame.utc_time))
        assert caught.value.offset == bad_block
        # A file streams frame by frame; the service's fragments are checked whole first.
        assert len(frames) == (len(timecodes) - 1 if source is local_file else 0)
