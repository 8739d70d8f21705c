"""Tests of kvarchive._matroska.scanner: fragment boundaries, tags, frames and parts of KVS media bodies."""

from __future__ import annotations

import contextlib
import tracemalloc
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kvarchive._errors import MediaParseError, ServiceError
from kvarchive._matroska import ids as E
from kvarchive._matroska.fragment_info import FragmentInfo
from kvarchive._matroska.frames import Frame, iter_frames
from kvarchive._matroska.parts import split_fragment
from kvarchive._matroska.scanner import METADATA, FragmentScanner
from kvarchive._matroska.vint import UNKNOWN_SIZE, encode_id, encode_size, encode_uint

NUMBER = "91343852333181432392682062591174131839009706440"
SERVER = "1511852109.126"
PRODUCER = "1511852108.5"
CLUSTER_TIME = 1511852108000  # ms, as KVS writes Cluster Timecodes
MAGIC = bytes.fromhex("1A45DFA3")


# --- a small builder of KVS-like fragments -------------------------------------------


class Builder:
    """Encodes elements with every known size field ``width`` bytes wide (0: shortest)."""

    def __init__(self, width: int = 0) -> None:
        self.width = width

    def el(self, element_id: int, payload: bytes) -> bytes:
        return encode_id(element_id) + encode_size(len(payload), self.width) + payload

    def master(self, element_id: int, payload: bytes, known: bool) -> bytes:
        if known:
            return self.el(element_id, payload)
        return encode_id(element_id) + encode_size(UNKNOWN_SIZE, self.width or 8) + payload

    def simple_tag(self, name: str, value: str, nested: bytes = b"") -> bytes:
        return self.el(
            E.SIMPLE_TAG,
            self.el(E.TAG_NAME, name.encode()) + self.el(E.TAG_STRING, value.encode()) + nested,
        )

    def tags(self, tags: dict[str, str]) -> bytes:
        targets = self.el(E.TARGETS, self.el(E.TARGET_TYPE_VALUE, encode_uint(50)))
        body = b"".join(self.simple_tag(k, v) for k, v in tags.items())
        return self.el(E.TAGS, self.el(E.TAG, targets + body))

    def block(self, relative: int, keyframe: bool, payload: bytes, track: int = 1) -> bytes:
        head = encode_size(track) + relative.to_bytes(2, "big", signed=True)
        return self.el(E.SIMPLE_BLOCK, head + bytes([0x80 if keyframe else 0]) + payload)

    def cluster(self, blocks: Iterable[bytes], known: bool, timecode: int = CLUSTER_TIME) -> bytes:
        body = self.el(E.TIMECODE, encode_uint(timecode)) + b"".join(blocks)
        return self.master(E.CLUSTER, body, known)

    def header(self) -> bytes:
        return self.el(
            E.EBML,
            self.el(E.EBML_VERSION, b"\x01")
            + self.el(E.DOC_TYPE, b"matroska")
            + self.el(E.DOC_TYPE_READ_VERSION, b"\x02"),
        )

    def info(self, scale: int = 1_000_000) -> bytes:
        return self.el(E.INFO, self.el(E.TIMECODE_SCALE, encode_uint(scale)))

    def tracks(self, codec: bytes = b"V_MPEG4/ISO/AVC") -> bytes:
        entry = self.el(E.TRACK_NUMBER, b"\x01") + self.el(E.CODEC_ID, codec)
        return self.el(E.TRACKS, self.el(E.TRACK_ENTRY, entry))

    def fragment(
        self,
        number: str = NUMBER,
        *,
        service_tags: Optional[dict[str, str]] = None,
        before: Optional[dict[str, str]] = None,
        after: Optional[dict[str, str]] = None,
        blocks: Sequence[bytes] = (),
        known_cluster: bool = False,
        known_segment: bool = False,
        clusters: int = 1,
        codec: bytes = b"V_MPEG4/ISO/AVC",
    ) -> bytes:
        """EBML header, Segment: Info, Tracks, [Tags], service Tags, Cluster(s), [Tags]."""
        if service_tags is None:
            service_tags = {
                "AWS_KINESISVIDEO_FRAGMENT_NUMBER": number,
                "AWS_KINESISVIDEO_SERVER_TIMESTAMP": SERVER,
                "AWS_KINESISVIDEO_PRODUCER_TIMESTAMP": PRODUCER,
            }
        blocks = blocks or [self.block(0, True, b"key" + MAGIC), self.block(33, False, b"delta")]
        body = self.info() + self.tracks(codec)
        body += self.tags(before) if before else b""
        body += self.tags(service_tags) if service_tags else b""
        body += b"".join(self.cluster(blocks, known_cluster) for _ in range(clusters))
        body += self.tags(after) if after else b""
        return self.header() + self.master(E.SEGMENT, body, known_segment)


B = Builder()


def scan(body: bytes, chunk: int = 0) -> list[FragmentInfo]:
    """Every fragment of ``body`` fed in chunks of ``chunk`` bytes (0: all at once)."""
    scanner = FragmentScanner()
    step = chunk or max(1, len(body))
    found: list[FragmentInfo] = []
    for pos in range(0, len(body), step):
        found += scanner.feed(body[pos : pos + step])
    return found + scanner.finish()


def parse_error(body: bytes, chunk: int = 0) -> MediaParseError:
    """The MediaParseError that scanning ``body`` raises."""
    with pytest.raises(MediaParseError) as info:
        scan(body, chunk)
    return info.value


def bounds(found: Iterable[FragmentInfo]) -> list[tuple[int, int, dict[str, str]]]:
    return [(f.start, f.end, f.tags) for f in found]


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


# --- tags ---------------------------------------------------------------------------------


def test_tags_before_and_after_the_cluster_and_producer_tags() -> None:
    """SimpleTags of every Tags element of the fragment are gathered."""
    body = B.fragment(
        before={"PRODUCER_TAG": "camera-1"},
        after={"AWS_KINESISVIDEO_MILLIS_BEHIND_NOW": "250", "LATE": "yes"},
    )
    (found,) = scan(body)
    assert found.tags == {
        "PRODUCER_TAG": "camera-1",
        "AWS_KINESISVIDEO_FRAGMENT_NUMBER": NUMBER,
        "AWS_KINESISVIDEO_SERVER_TIMESTAMP": SERVER,
        "AWS_KINESISVIDEO_PRODUCER_TIMESTAMP": PRODUCER,
        "AWS_KINESISVIDEO_MILLIS_BEHIND_NOW": "250",
        "LATE": "yes",
    }


def test_nested_simple_tags_are_gathered() -> None:
    """A SimpleTag inside a SimpleTag is read too."""
    inner = B.simple_tag("INNER", "2", B.simple_tag("INNERMOST", "3"))
    tags = B.el(E.TAGS, B.el(E.TAG, B.simple_tag("OUTER", "1", inner)))
    body = B.header() + B.master(E.SEGMENT, B.info() + tags, known=False)
    (found,) = scan(body)
    assert found.tags == {"OUTER": "1", "INNER": "2", "INNERMOST": "3"}


def test_tag_list_keeps_every_tag_in_file_order() -> None:
    """Repeated names stay in tag_list, a SimpleTag before those nested in it; tags keeps the last."""
    inner = B.simple_tag("INNER", "2", B.simple_tag("INNERMOST", "3"))
    tags = B.el(
        E.TAGS,
        B.el(E.TAG, B.simple_tag("ENCODER", "a") + B.simple_tag("OUTER", "1", inner))
        + B.el(E.TAG, B.simple_tag("ENCODER", "b")),
    )
    body = B.header() + B.master(E.SEGMENT, B.info() + tags, known=False)
    (found,) = scan(body, chunk=5)
    assert found.tag_list == [
        ("ENCODER", "a"),
        ("OUTER", "1"),
        ("INNER", "2"),
        ("INNERMOST", "3"),
        ("ENCODER", "b"),
    ]
    assert found.tags["ENCODER"] == "b"


def test_tags_of_one_fragment_do_not_leak_into_the_next() -> None:
    """Each record holds only its own fragment's tags."""
    body = B.fragment("1", after={"ONLY_FIRST": "x"}) + B.fragment("2")
    first, second = scan(body)
    assert "ONLY_FIRST" in first.tags
    assert "ONLY_FIRST" not in second.tags


def test_current_fragment_shows_the_fragment_in_progress() -> None:
    """The number of a fragment still arriving is known once its Tags are read."""
    body = B.fragment()
    cluster_at = body.index(encode_id(E.CLUSTER))
    scanner = FragmentScanner()
    assert scanner.current_fragment is None
    scanner.feed(body[: cluster_at + 2])
    current = scanner.current_fragment
    assert current is not None
    assert (current.start, current.end, current.clusters) == (0, cluster_at + 2, 0)
    assert current.number == NUMBER


def test_timestamps_are_aware_utc_datetimes() -> None:
    """Server and producer timestamps parse to UTC datetimes with milliseconds."""
    (found,) = scan(B.fragment())
    assert found.server_timestamp == datetime(2017, 11, 28, 6, 55, 9, 126000, timezone.utc)
    assert found.producer_timestamp == datetime(2017, 11, 28, 6, 55, 8, 500000, timezone.utc)


def test_side_timestamp_spelling_is_accepted() -> None:
    """The GetMediaForFragmentList docs' ..._SIDE_TIMESTAMP tags are read too."""
    body = B.fragment(
        service_tags={
            "AWS_KINESISVIDEO_FRAGMENT_NUMBER": "7",
            "AWS_KINESISVIDEO_SERVER_SIDE_TIMESTAMP": "1600000000",
            "AWS_KINESISVIDEO_PRODUCER_SIDE_TIMESTAMP": "1599999999.9",
        }
    )
    (found,) = scan(body)
    assert found.server_timestamp == datetime(2020, 9, 13, 12, 26, 40, tzinfo=timezone.utc)
    assert found.producer_timestamp == datetime(2020, 9, 13, 12, 26, 39, 900000, timezone.utc)
    assert not found.is_error


def test_unreadable_or_missing_timestamps_are_none() -> None:
    """A timestamp tag that is not epoch seconds, or none at all, gives None."""
    body = B.fragment(service_tags={"AWS_KINESISVIDEO_SERVER_TIMESTAMP": "yesterday"})
    (found,) = scan(body)
    assert found.server_timestamp is None
    assert found.producer_timestamp is None
    assert found.number is None


@pytest.mark.parametrize(
    "text",
    ["253402300800", "99999999999999999999", "9" * 4301, "1.٣", "٣", "-5", "1e9", "", "."],
)
def test_timestamps_past_year_9999_or_not_plain_digits_are_none(text: str) -> None:
    """Epoch seconds that no datetime holds are unreadable, not an OverflowError."""
    body = B.fragment(
        service_tags={
            "AWS_KINESISVIDEO_SERVER_TIMESTAMP": text,
            "AWS_KINESISVIDEO_PRODUCER_TIMESTAMP": " 253402300799.9999999 ",
        }
    )
    (found,) = scan(body)
    assert found.server_timestamp is None
    assert found.producer_timestamp == datetime(9999, 12, 31, 23, 59, 59, 999999, timezone.utc)


def test_leading_zeros_do_not_count_as_digits() -> None:
    """Thousands of leading zeros still read as the number they pad."""
    body = B.fragment(service_tags={"AWS_KINESISVIDEO_SERVER_TIMESTAMP": "0" * 5000 + "1.5"})
    (found,) = scan(body)
    assert found.server_timestamp == datetime(1970, 1, 1, 0, 0, 1, 500000, timezone.utc)


# --- error chunks -------------------------------------------------------------------------


def test_error_chunk_with_exception_tags() -> None:
    """EXCEPTION_ERROR_CODE / EXCEPTION_MESSAGE mark an error chunk."""
    body = B.fragment(
        service_tags={
            "AWS_KINESISVIDEO_FRAGMENT_NUMBER": NUMBER,
            "AWS_KINESISVIDEO_EXCEPTION_ERROR_CODE": "4000",
            "AWS_KINESISVIDEO_EXCEPTION_MESSAGE": "Requested fragment is not found",
        }
    )
    (found,) = scan(body)
    assert found.is_error
    assert (found.error_code, found.error_message) == ("4000", "Requested fragment is not found")
    error = found.error()
    assert isinstance(error, ServiceError)
    assert (error.code, error.message) == ("4000", "Requested fragment is not found")


def test_error_chunk_with_getmedia_tags() -> None:
    """GetMedia's ERROR_ID (integer code) and ERROR_CODE (text) mark an error chunk."""
    tags = {"AWS_KINESISVIDEO_ERROR_CODE": "Internal error", "AWS_KINESISVIDEO_ERROR_ID": "5000"}
    header_and_tags = B.header() + B.master(E.SEGMENT, B.tags(tags), known=False)
    (found,) = scan(header_and_tags)
    assert found.is_error
    assert (found.error_code, found.error_message) == ("5000", "Internal error")
    assert found.clusters == 0


def test_number_without_server_timestamp_is_not_an_error_chunk() -> None:
    """Only error tags make an error chunk: a fragment that merely lacks its timestamp does not."""
    body = B.fragment(service_tags={"AWS_KINESISVIDEO_FRAGMENT_NUMBER": "9"})
    (found,) = scan(body)
    assert not found.is_error
    assert found.error() is None


def test_media_fragment_is_not_an_error() -> None:
    """An ordinary fragment has no error."""
    (found,) = scan(B.fragment())
    assert found.error() is None


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


# --- frames -------------------------------------------------------------------------------


def test_iter_frames_timestamps_and_keyframes() -> None:
    """SimpleBlocks give track, Cluster + relative time, keyframe flag and payload."""
    body = B.fragment(
        blocks=[
            B.block(0, True, b"I" + MAGIC),
            B.block(33, False, b"P"),
            B.block(-5, False, b"B", track=2),
        ]
    )
    frames = list(iter_frames(body))
    assert [(f.track, f.keyframe, f.data) for f in frames] == [
        (1, True, b"I" + MAGIC),
        (1, False, b"P"),
        (2, False, b"B"),
    ]
    assert [f.time_ns for f in frames] == [
        CLUSTER_TIME * 1_000_000,
        (CLUSTER_TIME + 33) * 1_000_000,
        (CLUSTER_TIME - 5) * 1_000_000,
    ]
    assert frames[1].timestamp == timedelta(milliseconds=CLUSTER_TIME + 33)
    # The producer timestamp tag (08.500) plus 33 ms after the first Cluster Timecode.
    assert frames[1].utc_time == datetime(2017, 11, 28, 6, 55, 8, 533000, timezone.utc)


def producer_fragment(tags: dict[str, str], *, after: bool = False) -> bytes:
    """Two Clusters 2 s apart on a stream-relative timeline, tags before them (or after)."""
    first = B.cluster([B.block(0, True, b"a"), B.block(40, False, b"b")], False, timecode=0)
    second = B.cluster([B.block(0, True, b"c")], known=False, timecode=2000)
    before = b"" if after else B.tags(tags)
    late = B.tags(tags) if after else b""
    segment = B.info() + B.tracks() + before + first + second + late
    return B.header() + B.master(E.SEGMENT, segment, known=False)


def test_utc_time_is_the_producer_timestamp_plus_the_offset_from_the_first_cluster() -> None:
    """Stream-relative Cluster Timecodes are placed by the fragment's producer timestamp tag."""
    body = producer_fragment({"AWS_KINESISVIDEO_PRODUCER_TIMESTAMP": "1511852108.513"})
    frames = list(iter_frames(body))
    assert [f.time_ns for f in frames] == [0, 40_000_000, 2_000_000_000]
    assert [f.utc_time for f in frames] == [
        datetime(2017, 11, 28, 6, 55, 8, 513000, timezone.utc),
        datetime(2017, 11, 28, 6, 55, 8, 553000, timezone.utc),
        datetime(2017, 11, 28, 6, 55, 10, 513000, timezone.utc),
    ]


def test_utc_time_without_a_producer_timestamp_is_epoch_time() -> None:
    """Without the tag (or with it only after the first Cluster), time_ns is read as epoch time."""
    for body in (
        producer_fragment({"ENCODER": "x"}),
        producer_fragment({"AWS_KINESISVIDEO_PRODUCER_TIMESTAMP": "1511852108.513"}, after=True),
    ):
        frames = list(iter_frames(body))
        assert frames[2].utc_time == datetime(1970, 1, 1, 0, 0, 2, tzinfo=timezone.utc)


def test_each_fragment_places_its_own_frames() -> None:
    """The producer timestamp of one fragment does not carry over to the next."""
    tagged = producer_fragment({"AWS_KINESISVIDEO_PRODUCER_TIMESTAMP": "1000"})
    frames = list(iter_frames(tagged + producer_fragment({})))
    assert frames[0].utc_time == datetime(1970, 1, 1, 0, 16, 40, tzinfo=timezone.utc)
    assert frames[3].utc_time == datetime(1970, 1, 1, tzinfo=timezone.utc)


def test_iter_frames_honours_timecode_scale() -> None:
    """Timecodes are scaled by the Info's TimecodeScale."""
    cluster = B.cluster([B.block(3, True, b"x")], known=False, timecode=10)
    body = B.header() + B.master(E.SEGMENT, B.info(scale=1000) + cluster, known=False)
    (frame,) = iter_frames(body)
    assert frame.time_ns == 13_000
    assert frame.timestamp == timedelta(microseconds=13)


def test_iter_frames_block_groups() -> None:
    """A BlockGroup's Block is a keyframe unless it has a ReferenceBlock."""

    def group(relative: int, reference: bool) -> bytes:
        block = B.el(E.BLOCK, b"\x81" + relative.to_bytes(2, "big") + b"\x00" + b"g")
        extra = B.el(E.REFERENCE_BLOCK, b"\xdf") if reference else b""
        return B.el(E.BLOCK_GROUP, block + B.el(E.BLOCK_DURATION, b"\x21") + extra)

    body = B.fragment(blocks=[group(0, False), group(33, True)])
    frames = list(iter_frames(body))
    assert [(f.keyframe, f.data, f.time_ns // 1_000_000) for f in frames] == [
        (True, b"g", CLUSTER_TIME),
        (False, b"g", CLUSTER_TIME + 33),
    ]


def test_iter_frames_marks_laced_blocks() -> None:
    """A laced block is one frame with laced=True and the lace bytes kept."""
    laced = B.el(E.SIMPLE_BLOCK, b"\x81\x00\x00\x86" + b"\x01\x02ab")
    (frame,) = iter_frames(B.fragment(blocks=[laced]))
    assert frame.laced
    assert frame.data == b"\x01\x02ab"


def test_iter_frames_covers_every_fragment_of_a_body() -> None:
    """Frames of several fragments come out in order."""
    body = B.fragment("1") + B.fragment("2", known_cluster=True)
    assert len(list(iter_frames(body))) == 4


def test_iter_frames_rejects_truncated_input() -> None:
    """A fragment cut inside a block raises before any frame."""
    body = B.fragment()
    with pytest.raises(MediaParseError, match="truncated"):
        next(iter_frames(body[:-2]))


def test_iter_frames_rejects_a_block_before_the_timecode() -> None:
    """A block with no Cluster Timecode before it has no time."""
    cluster = B.master(E.CLUSTER, B.block(0, True, b"x"), known=False)
    body = B.header() + B.master(E.SEGMENT, cluster, known=False)
    with pytest.raises(MediaParseError, match="Timecode"):
        list(iter_frames(body))


def test_frame_repr_hides_payload_bytes() -> None:
    """A Frame's repr shows the payload length, not the bytes."""
    assert "<3 bytes>" in repr(Frame(1, 0, True, b"abc"))


# --- parts ----------------------------------------------------------------------------------


@pytest.mark.parametrize("known", [False, True])
def test_split_fragment_parts_reassemble(known: bool) -> None:
    """The parts of a fragment join back into its exact bytes."""
    body = B.fragment(
        before={"P": "1"}, after={"Q": "2"}, known_cluster=known, known_segment=known, clusters=2
    )
    parts = split_fragment(body)
    assert parts.to_bytes() == body
    assert parts.ebml_header == B.header()
    segment_size = len(body) - len(B.header()) - len(parts.segment_header)
    assert parts.segment_header == encode_id(E.SEGMENT) + encode_size(
        segment_size if known else UNKNOWN_SIZE
    )
    assert parts.info == B.info()
    assert parts.tracks == B.tracks()
    assert [i for i, _ in parts.children] == [
        E.INFO,
        E.TRACKS,
        E.TAGS,
        E.TAGS,
        E.CLUSTER,
        E.CLUSTER,
        E.TAGS,
    ]
    body = [data for i, data in parts.children if i not in (E.INFO, E.TRACKS)]
    assert [p[:4] for p in body] == [encode_id(E.TAGS)] * 2 + [encode_id(E.CLUSTER)] * 2 + [
        encode_id(E.TAGS)
    ]


def test_split_fragment_requires_exactly_one_fragment() -> None:
    """Two fragments, or none, are refused."""
    first = B.fragment("1")
    with pytest.raises(MediaParseError) as info:
        split_fragment(first + B.fragment("2"))
    assert info.value.offset == len(first)
    with pytest.raises(MediaParseError):
        split_fragment(b"")


def test_track_list_signature_tells_fragments_apart() -> None:
    """Fragments with the same Tracks share a signature; a new codec changes it."""
    a, b, c = scan(B.fragment("1") + B.fragment("2") + B.fragment("3", codec=b"V_MPEGH/ISO/HEVC"))
    assert a.tracks is not None
    assert a.tracks == b.tracks != c.tracks


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


def run_or_parse_error(body: bytes, cuts: Sequence[int]) -> Optional[list[FragmentInfo]]:
    """Scan ``body`` fed in pieces cut at ``cuts``: the fragments, or None on MediaParseError."""
    try:
        return feed_in_pieces(FragmentScanner(), body, cuts)
    except MediaParseError as exc:
        assert exc.offset is not None
        assert 0 <= exc.offset <= len(body)
        return None


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
    found = run_or_parse_error(bytes(body), cuts)
    if found is not None:
        assert [f.start for f in found] == sorted(f.start for f in found)


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
    """Arbitrary bytes after valid fragments raise MediaParseError or parse."""
    run_or_parse_error(B.fragment() + data, [len(data) // 2])


# --- the synthetic generator of kvarchive.testing --------------------------------------------


def test_round_trip_against_the_synthetic_generator() -> None:
    """Fragments made by kvarchive.testing scan, split and decode back to their recipe."""
    generator = pytest.importorskip("kvarchive.testing._fragments")
    recipes = [
        generator.SyntheticFragment(
            number=str(91343852333181432392682062591174131839009706440 + n),
            server_ms=1511852109126 + 2000 * n,
            producer_ms=1511852108000 + 2000 * n,
            frame_count=5 + n,
            payload_size=20_000,
            seed=n,
            audio=n % 2 == 1,
            cluster_size_known=n % 3 == 2,
            trailing_tags=n % 2 == 0,
            magic="always",
        )
        for n in range(6)
    ]
    scanner = FragmentScanner()
    found: list[FragmentInfo] = []
    for recipe in recipes:
        for piece in recipe.iter_chunks():
            found += scanner.feed(piece)
    found += scanner.finish()
    assert [f.number for f in found] == [r.number for r in recipes]
    assert [f.size for f in found] == [r.size for r in recipes]
    assert [f.server_timestamp for f in found] == [
        datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=r.server_ms)
        for r in recipes
    ]
    assert [("AWS_KINESISVIDEO_MILLIS_BEHIND_NOW" in f.tags) for f in found] == [
        r.trailing_tags for r in recipes
    ]
    for recipe in recipes:
        data = recipe.data()
        assert split_fragment(data).to_bytes() == data
        frames = list(iter_frames(data))
        assert [(f.track, f.keyframe, f.data) for f in frames] == [
            (g.track, g.keyframe, g.data()) for g in recipe.frames()
        ]
        assert [f.time_ns // 1_000_000 for f in frames] == [
            recipe.producer_ms + g.offset_ms for g in recipe.frames()
        ]
