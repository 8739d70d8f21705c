"""Hostile Matroska: only MediaParseError or a clean end, in bounded time and memory."""

from __future__ import annotations

import contextlib
import time
import tracemalloc
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvarchive import MediaParseError
from kvarchive._ebml import (
    CLUSTER,
    EBML,
    SEGMENT,
    SIMPLE_BLOCK,
    SIMPLE_TAG,
    TAG,
    TAG_NAME,
    TAG_STRING,
    TAGS,
    UNKNOWN_SIZE,
    VOID,
    encode_element,
    encode_id,
    encode_size,
)
from kvarchive._mkv import FragmentScanner
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
    """Random bytes after a valid EBML header give MediaParseError or fragments, never else."""
    with contextlib.suppress(MediaParseError):
        scan(HEADER + data, chunk)


@settings(max_examples=200, deadline=2000)
@given(
    sizes=st.lists(st.integers(0, 2**56 - 2), min_size=1, max_size=6),
    ids=st.lists(st.sampled_from([CLUSTER, TAGS, VOID, SEGMENT, EBML]), min_size=1, max_size=6),
)
def test_hostile_sizes_and_ids(sizes: list[int], ids: list[int]) -> None:
    """Elements with any declared sizes and misplaced IDs never raise anything but MediaParseError."""
    body = (
        HEADER + SEGMENT_START + b"".join(encode_id(i) + encode_size(s) for i, s in zip(ids, sizes))
    )
    with contextlib.suppress(MediaParseError):
        scan(body, 13)
