"""FragmentScanner: where each fragment of a KVS media body begins and ends, and what is not Matroska."""

from __future__ import annotations

import contextlib
import tracemalloc
from collections.abc import Sequence
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mkvbuild import (
    MAGIC,
    NUMBER,
    SERVER,
    B,
    Builder,
    bounds,
    parse_error,
    scan,
)
from mkvbuild import checked_scan as run_or_parse_error

from kvarchive._errors import MediaParseError
from kvarchive._matroska import ids as E
from kvarchive._matroska.fragment_info import FragmentInfo
from kvarchive._matroska.frames import iter_frames
from kvarchive._matroska.parts import split_fragment
from kvarchive._matroska.scanner import METADATA, FragmentScanner
from kvarchive._matroska.vint import UNKNOWN_SIZE, encode_id, encode_size

# --- fragment boundaries --------------------------------------------------------------


def test_single_fragment_spans_the_body_with_its_tags() -> None:
    """One fragment: offsets 0..len, service tags and number read."""
    body = B.fragment()
    (found,) = scan(body)
    assert (found.start, found.end, found.size) == (0, len(body), len(body))
    assert found.number == NUMBER
    assert found.tags["AWS_KINESISVIDEO_SERVER_TIMESTAMP"] == SERVER
    assert found.clusters == 1
    assert not found.is_error


def test_multiple_fragments_are_contiguous_and_ordered() -> None:
    """Each fragment ends where the next EBML header starts."""
    parts = [B.fragment(str(n)) for n in range(1, 4)]
    found = scan(b"".join(parts))
    assert [f.number for f in found] == ["1", "2", "3"]
    starts = [0, len(parts[0]), len(parts[0]) + len(parts[1])]
    assert [f.start for f in found] == starts
    assert [f.end for f in found] == [*starts[1:], sum(map(len, parts))]


def test_feed_returns_a_fragment_once_the_next_header_is_read() -> None:
    """feed() reports a fragment only when the next EBML header completes it."""
    first, second = B.fragment("1"), B.fragment("2")
    scanner = FragmentScanner()
    assert scanner.feed(first) == []
    assert scanner.fragment_start == 0
    (done,) = scanner.feed(second)
    assert (done.number, done.end) == ("1", len(first))
    assert scanner.fragment_start == len(first)
    assert scanner.offset == len(first) + len(second)
    assert [f.number for f in scanner.finish()] == ["2"]
    assert scanner.completed == 2
    assert scanner.fragment_start is None


def test_every_chunk_size_gives_the_same_fragments() -> None:
    """Records are identical whatever the chunking, from 1 byte to the whole body."""
    body = (
        B.fragment("1", after={"AWS_KINESISVIDEO_MILLIS_BEHIND_NOW": "12"})
        + B.fragment("2", known_cluster=True, known_segment=True)
        + B.fragment("3", clusters=2)
    )
    expected = bounds(scan(body))
    assert len(expected) == 3
    for chunk in range(1, len(body) + 2):
        assert bounds(scan(body, chunk)) == expected, chunk


@pytest.mark.parametrize("width", range(1, 9))
def test_size_fields_of_every_width(width: int) -> None:
    """Size fields 1 to 8 bytes wide, known and unknown, decode alike."""
    b = Builder(width)
    small = {"N": "1"}  # keeps every payload under 127 bytes, so width 1 fits
    body = b.fragment(service_tags=small, blocks=[b.block(0, True, b"x")]) + b.fragment(
        service_tags={"N": "2"}, blocks=[b.block(0, True, b"y")], known_cluster=True
    )
    found = scan(body, chunk=3)
    assert [f.tags["N"] for f in found] == ["1", "2"]
    assert found[0].end == found[1].start == len(body) // 2
    if width == 1:
        assert b"\x18\x53\x80\x67\xff" in body  # a one-byte unknown size


@pytest.mark.parametrize("known_segment", [False, True])
@pytest.mark.parametrize("known_cluster", [False, True])
def test_known_and_unknown_size_segment_and_cluster(
    known_segment: bool, known_cluster: bool
) -> None:
    """Every mix of known/unknown Segment and Cluster sizes is split the same way."""
    parts = [
        B.fragment(
            str(n),
            known_cluster=known_cluster,
            known_segment=known_segment,
            clusters=2,
            after={"P": str(n)},
        )
        for n in range(3)
    ]
    found = scan(b"".join(parts), chunk=7)
    assert [(f.number, f.tags["P"], f.size, f.clusters) for f in found] == [
        (str(n), str(n), len(p), 2) for n, p in enumerate(parts)
    ]


def test_payload_containing_the_ebml_magic_is_not_a_boundary() -> None:
    """Frame bytes 1A 45 DF A3 stay inside their fragment."""
    payload = MAGIC + B.header() + MAGIC * 4
    body = B.fragment("1", blocks=[B.block(0, True, payload)]) + B.fragment("2")
    assert body.count(MAGIC) > 2 + 5
    assert [f.number for f in scan(body, chunk=5)] == ["1", "2"]


def test_empty_body_has_no_fragments() -> None:
    """An empty body ends cleanly with no fragment."""
    scanner = FragmentScanner()
    assert scanner.feed(b"") == []
    assert scanner.clean_end
    assert scanner.finish() == []


def test_feed_accepts_bytearray_and_memoryview() -> None:
    """Any bytes-like chunk is read."""
    body = B.fragment()
    scanner = FragmentScanner()
    scanner.feed(bytearray(body[:10]))
    scanner.feed(memoryview(body)[10:])
    assert [f.number for f in scanner.finish()] == [NUMBER]


def test_large_payloads_are_skipped_without_buffering() -> None:
    """A 64 MB frame fed in 1 MB chunks costs no more than a few KB of memory."""
    chunk = bytes(1 << 20)
    head = B.fragment()
    frame_header = encode_id(E.SIMPLE_BLOCK) + encode_size((64 << 20) + 8) + b"\x81\x00\x00\x80"
    scanner = FragmentScanner()
    scanner.feed(head + frame_header)
    tracemalloc.start()
    try:
        for _ in range(64):
            scanner.feed(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 << 10
    assert not scanner.clean_end  # four bytes of the frame are still to come
    scanner.feed(b"\x00" * 4)
    (found,) = scanner.finish()
    assert found.end == len(head) + len(frame_header) + (64 << 20) + 4


# --- malformed input ---------------------------------------------------------------------


def test_invalid_id_byte_reports_its_offset() -> None:
    """A byte that cannot start an ID fails at its offset."""
    good = B.fragment()
    error = parse_error(good + b"\x00\x01")
    assert error.offset == len(good)
    assert "ID" in error.message


def test_invalid_size_reports_the_element_offset() -> None:
    """A zero first size byte fails at the element's offset."""
    good = B.fragment()
    at = good.index(encode_id(E.CLUSTER))
    bad = good[:at] + encode_id(E.CLUSTER) + b"\x00" + good[at + 5 :]
    assert parse_error(bad, chunk=3).offset == at


def test_first_element_must_be_an_ebml_header() -> None:
    """A body that starts with anything else fails at offset 0."""
    body = B.fragment()
    segment = body[len(B.header()) :]
    error = parse_error(segment)
    assert error.offset == 0
    assert "EBML header" in error.message


def test_garbage_after_a_known_size_segment_fails() -> None:
    """An element at the top level that is not an EBML header fails at its offset."""
    good = B.fragment(known_segment=True)
    error = parse_error(good + B.el(E.VOID, b"pad"))
    assert error.offset == len(good)


def test_segment_must_follow_the_ebml_header() -> None:
    """An EBML header followed by something else fails at that element."""
    error = parse_error(B.header() + B.info())
    assert error.offset == len(B.header())


def test_child_overrunning_a_known_size_cluster_fails() -> None:
    """A block that runs past the end of its known-size Cluster fails at the block."""
    block = B.block(0, True, b"0123456789")
    cluster_body = B.el(E.TIMECODE, b"\x01") + block
    # The Cluster claims 5 bytes fewer than its child needs.
    cluster = encode_id(E.CLUSTER) + encode_size(len(cluster_body) - 5) + cluster_body
    prefix = B.header() + B.master(E.SEGMENT, b"", known=False) + B.info()
    body = prefix + cluster
    error = parse_error(body)
    assert error.offset == len(prefix) + 5 + 3  # Cluster header, then the Timecode
    assert "overruns" in error.message


def test_child_overrunning_a_known_size_segment_fails() -> None:
    """An element that runs past the end of its known-size Segment fails at that element."""
    info = B.info()
    body = B.header() + encode_id(E.SEGMENT) + encode_size(len(info) - 1) + info
    assert parse_error(body).offset == len(B.header()) + 5


def test_oversized_metadata_element_fails() -> None:
    """A Tags element bigger than the metadata limit fails before it is buffered."""
    tags = encode_id(E.TAGS) + encode_size(1 << 40)
    prefix = B.header() + B.master(E.SEGMENT, B.info(), known=False)
    scanner = FragmentScanner()
    with pytest.raises(MediaParseError) as info:
        scanner.feed(prefix + tags)
    assert info.value.offset == len(prefix)


def test_metadata_limit_is_configurable() -> None:
    """max_metadata_size bounds the metadata of one fragment."""
    body = B.fragment(after={"BIG": "x" * 500})
    with pytest.raises(MediaParseError, match="metadata"):
        scanner = FragmentScanner(max_metadata_size=400)
        scanner.feed(body)
    assert scan(body)[0].tags["BIG"] == "x" * 500


def test_unknown_size_is_refused_outside_segment_and_cluster() -> None:
    """A Tags element of unknown size fails at its offset."""
    prefix = B.header() + B.master(E.SEGMENT, B.info(), known=False)
    error = parse_error(prefix + encode_id(E.TAGS) + encode_size(UNKNOWN_SIZE) + b"\x00" * 8)
    assert error.offset == len(prefix)


def test_ebml_header_inside_a_known_size_cluster_fails() -> None:
    """An EBML header cannot end a Cluster that says it is longer."""
    cluster_body = B.el(E.TIMECODE, b"\x01") + B.header()
    prefix = B.header() + B.master(E.SEGMENT, b"", known=False)
    body = prefix + B.el(E.CLUSTER, cluster_body)
    error = parse_error(body)
    assert error.offset == len(prefix) + 5 + 3


def test_malformed_tags_report_the_offset_inside_the_body() -> None:
    """A broken SimpleTag inside Tags fails at the SimpleTag's body offset."""
    bad_simple = encode_id(E.SIMPLE_TAG) + encode_size(50) + b"\x45\xa3\x81N"
    tag = B.el(E.TAG, bad_simple)
    prefix = B.header() + B.master(E.SEGMENT, B.info(), known=False)
    body = prefix + B.el(E.TAGS, tag)
    error = parse_error(body, chunk=1)
    assert error.offset == len(prefix) + 5 + 3  # Tags header, Tag header


def test_errors_are_sticky() -> None:
    """After a parse error every later call raises the same error."""
    scanner = FragmentScanner()
    with pytest.raises(MediaParseError) as first:
        scanner.feed(b"\x00")
    with pytest.raises(MediaParseError) as again:
        scanner.feed(B.fragment())
    assert again.value is first.value
    assert not scanner.clean_end


def test_feed_after_finish_is_refused() -> None:
    """A finished scanner refuses more bytes."""
    scanner = FragmentScanner()
    scanner.feed(B.fragment())
    scanner.finish()
    with pytest.raises(ValueError, match="finished"):
        scanner.feed(b"")


# --- truncation ---------------------------------------------------------------------------


def test_truncation_inside_a_frame_fails_at_the_frame() -> None:
    """A body cut inside a SimpleBlock fails at the block's offset."""
    block = B.block(0, True, b"x" * 100)
    body = B.fragment(blocks=[block])
    block_at = body.index(block)
    error = parse_error(body[: block_at + 50])
    assert error.offset == block_at
    assert error.message.startswith("truncated")


def test_truncation_inside_an_element_header_fails_at_the_header() -> None:
    """A body cut inside an ID or size field fails at the element's offset."""
    body = B.fragment()
    cluster_at = body.index(encode_id(E.CLUSTER))
    for cut in range(cluster_at + 1, cluster_at + 12):
        error = parse_error(body[:cut], chunk=1)
        assert error.offset == cluster_at
        assert error.message == "truncated element header"


def test_truncation_inside_tags_fails_at_the_tags() -> None:
    """A body cut inside a buffered Tags element fails at the Tags."""
    body = B.fragment()
    tags_at = body.index(encode_id(E.TAGS))
    error = parse_error(body[: tags_at + 20], chunk=4)
    assert (error.offset, error.message) == (tags_at, "truncated Tags")


def test_truncation_inside_a_known_size_cluster_fails() -> None:
    """A body cut between the blocks of a known-size Cluster is truncated."""
    blocks = [B.block(0, True, b"first"), B.block(1, False, b"second")]
    body = B.fragment(blocks=blocks, known_cluster=True)
    cluster_at = body.index(encode_id(E.CLUSTER))
    cut = body.index(blocks[1])
    scanner = FragmentScanner()
    scanner.feed(body[:cut])
    assert not scanner.clean_end
    with pytest.raises(MediaParseError) as info:
        scanner.finish()
    assert (info.value.offset, info.value.message) == (cluster_at, "truncated Cluster")


def test_truncation_after_the_ebml_header_fails() -> None:
    """A fragment with no Segment is truncated."""
    body = B.fragment() + B.header()
    error = parse_error(body)
    assert error.offset == len(B.fragment())
    assert "no Segment" in error.message


def test_truncation_at_a_fragment_boundary_is_clean() -> None:
    """A body that ends where a fragment ends finishes cleanly."""
    first = B.fragment("1", known_segment=True, known_cluster=True)
    body = first + B.fragment("2")
    scanner = FragmentScanner()
    scanner.feed(body[: len(first)])
    assert scanner.clean_end
    (found,) = scanner.finish()
    assert (found.number, found.end) == ("1", len(first))


def test_unknown_size_cluster_may_end_between_blocks() -> None:
    """A body cut between the blocks of an unknown-size Cluster ends cleanly."""
    blocks = [B.block(0, True, b"first"), B.block(1, False, b"second")]
    body = B.fragment(blocks=blocks)
    cut = body.index(blocks[1])
    scanner = FragmentScanner()
    scanner.feed(body[:cut])
    assert scanner.clean_end
    assert scanner.finish()[0].end == cut


# --- properties ------------------------------------------------------------------------------

STREAM = (
    B.fragment("1", before={"P": "p"}, after={"AWS_KINESISVIDEO_MILLIS_BEHIND_NOW": "3"})
    + B.fragment("2", known_cluster=True, known_segment=True)
    + B.fragment("3", blocks=[B.block(0, True, MAGIC * 3)], clusters=2)
)
STREAM_FRAGMENTS = bounds(scan(STREAM))
FAST = settings(
    max_examples=150, deadline=timedelta(seconds=2), suppress_health_check=[HealthCheck.too_slow]
)


def feed_in_pieces(
    scanner: FragmentScanner, body: bytes, cuts: Sequence[int]
) -> list[FragmentInfo]:
    """Every fragment of ``body`` fed to ``scanner`` in pieces cut at ``cuts``."""
    found: list[FragmentInfo] = []
    edges = [0, *sorted(c for c in cuts if 0 < c < len(body)), len(body)]
    for a, b in zip(edges, edges[1:]):
        found += scanner.feed(body[a:b])
    return found + scanner.finish()


@FAST
@given(cuts=st.lists(st.integers(0, len(STREAM)), max_size=40))
def test_any_chunking_gives_the_same_fragments(cuts: list[int]) -> None:
    """Random chunk boundaries never change the records."""
    found = run_or_parse_error(STREAM, cuts)
    assert found is not None
    assert bounds(found) == STREAM_FRAGMENTS


@FAST
@given(length=st.integers(0, len(STREAM)), cuts=st.lists(st.integers(0, len(STREAM)), max_size=8))
def test_truncation_gives_a_parse_error_or_a_clean_prefix(length: int, cuts: list[int]) -> None:
    """A cut body raises MediaParseError or yields a prefix of the true fragments."""
    found = run_or_parse_error(STREAM[:length], cuts)
    if found is None:
        return
    complete = [f for f in STREAM_FRAGMENTS if f[1] <= length]
    assert bounds(found)[: len(complete)] == complete
    assert all(f.end <= length for f in found)
    if found:
        assert found[-1].end == length


@FAST
@given(
    edits=st.lists(st.tuples(st.integers(0, len(STREAM) - 1), st.integers(0, 255)), max_size=6),
    cuts=st.lists(st.integers(0, len(STREAM)), max_size=8),
)
def test_corruption_gives_a_parse_error_or_fragments(
    edits: list[tuple[int, int]], cuts: list[int]
) -> None:
    """Corrupted bytes raise MediaParseError or parse; nothing else, and no hang."""
    body = bytearray(STREAM)
    for at, value in edits:
        body[at] = value
    run_or_parse_error(bytes(body), cuts)  # checks what must hold of either outcome


# Size fields 8, 5 and 3 bytes wide, known and unknown sizes: the fast path's decoders.
WIDE_STREAM = (
    Builder(8).fragment("4", known_cluster=True)
    + Builder(5).fragment("5", after={"Q": "q"})
    + Builder(3).fragment("6", known_segment=True, clusters=2)
)
METADATA_CHOICES = [E.INFO, E.TRACKS, E.TAGS]


def outcome(body: bytes, cuts: Sequence[int], *, general: bool, metadata: frozenset[int]) -> object:
    """What scanning ``body`` in pieces gives: its fragments, or its error and offset."""
    # A listener turns the fast path off.
    scanner = FragmentScanner(listener=(lambda *event: None) if general else None)
    scanner.metadata = metadata
    try:
        return feed_in_pieces(scanner, body, cuts)
    except MediaParseError as exc:
        return ("error", str(exc), exc.offset)


@FAST
@given(data=st.data())
def test_the_fast_path_agrees_with_the_general_path(data: st.DataObject) -> None:
    """Frames and skipped metadata take tight loops; on any bytes they must find what the
    general path, element by element, finds: the same fragments or the same error."""
    body = bytearray(data.draw(st.sampled_from([STREAM, WIDE_STREAM])))
    for _ in range(data.draw(st.integers(0, 4))):
        body[data.draw(st.integers(0, len(body) - 1))] = data.draw(st.integers(0, 255))
    cuts = data.draw(st.lists(st.integers(0, len(body)), max_size=8))
    metadata = frozenset(data.draw(st.lists(st.sampled_from(METADATA_CHOICES), max_size=3)))
    fast = outcome(bytes(body), cuts, general=False, metadata=metadata)
    assert fast == outcome(bytes(body), cuts, general=True, metadata=metadata)


def outer_element_starts(body: bytes) -> list[int]:
    """Where each EBML header, Segment and Segment child of a valid ``body`` starts, and its end."""
    starts = [len(body)]
    scanner = FragmentScanner(
        listener=lambda depth, _id, start, _header, _size: (
            starts.append(start) if depth <= 1 else None
        )
    )
    scanner.feed(body)
    scanner.finish()
    return sorted(starts)


@pytest.mark.parametrize("valid", [STREAM, WIDE_STREAM], ids=["usual", "wide"])
def test_the_fast_path_agrees_on_whole_elements_removed_or_repeated(valid: bytes) -> None:
    """Fragment starts take the fast path too: with any run of whole elements removed or
    repeated (a fragment without its Segment, two Segments, a Cluster before Info...),
    it finds what the general path finds."""
    starts = outer_element_starts(valid)
    bodies = [
        valid[:low] + valid[high:] if remove else valid[:high] + valid[low:]
        for low in starts
        for high in starts
        if low < high
        for remove in (True, False)
    ]
    # No splice of these streams makes these: a Segment after a known-size one has
    # closed, an EBML header of unknown size, and frames of unknown size.
    unknown = encode_size(UNKNOWN_SIZE)
    bodies.append(Builder(3).fragment("7", known_segment=True) + encode_id(E.SEGMENT) + unknown)
    bodies.append(B.fragment("8") + encode_id(E.EBML) + unknown + B.fragment("9"))
    # And a frame of unknown size, in each size width, inside an unknown-size Cluster.
    bodies += [
        B.fragment("10") + encode_id(E.SIMPLE_BLOCK) + encode_size(UNKNOWN_SIZE, width) + bytes(20)
        for width in range(1, 9)
    ]
    for body in bodies:
        for metadata in (frozenset(), METADATA):
            fast = outcome(body, [], general=False, metadata=metadata)
            assert fast == outcome(body, [], general=True, metadata=metadata), body


ONE = B.fragment(before={"P": "p"}, after={"Q": "q"}, blocks=[B.block(0, True, MAGIC)])


@FAST
@given(edits=st.lists(st.tuples(st.integers(0, len(ONE) - 1), st.integers(0, 255)), max_size=4))
def test_corrupt_fragment_in_memory_gives_a_parse_error_or_parts(
    edits: list[tuple[int, int]],
) -> None:
    """iter_frames and split_fragment on corrupted bytes raise only MediaParseError."""
    body = bytearray(ONE)
    for at, value in edits:
        body[at] = value
    with contextlib.suppress(MediaParseError):
        list(iter_frames(bytes(body)))
    with contextlib.suppress(MediaParseError):
        assert split_fragment(bytes(body)).to_bytes() == body


@FAST
@given(data=st.binary(max_size=200))
def test_random_bytes_after_a_valid_prefix(data: bytes) -> None:
    """Arbitrary bytes after valid fragments raise MediaParseError at an offset after the
    valid ones, or parse into fragments that are the whole body."""
    body = B.fragment() + data
    found = run_or_parse_error(body, [len(data) // 2])
    if found is None:
        return
    assert found[0].end >= len(B.fragment())
