"""Frames of Matroska bodies: times, keyframes, Block groups, lacing, track lists, and what is
refused."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from mkvbuild import (
    CLUSTER_TIME,
    MAGIC,
    B,
)
from realdata import REAL_FILES, SAMPLE

from kvarchive._errors import MediaParseError
from kvarchive._matroska import ids as E
from kvarchive._matroska.frames import (
    Frame,
    iter_frames,
    iter_tracks_and_frames,
    read_tracks_and_frames,
)
from kvarchive._matroska.scanner import scan_elements
from kvarchive._matroska.tracks import read_tracks

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


# --- track lists with the frames ------------------------------------------------------------


def test_each_documents_track_list_comes_before_its_first_frame() -> None:
    """Each document's Tracks is read and given just before its frames, in any chunking."""
    body = B.fragment("1") + B.fragment("2", codec=b"V_MPEGH/ISO/HEVC", known_cluster=True)
    frames = list(iter_frames(body))
    for size in (1, 7, 64, len(body)):
        chunks = [body[i : i + size] for i in range(0, len(body), size)]
        items = list(read_tracks_and_frames(chunks))
        assert [item for item in items if isinstance(item, Frame)] == frames
        lists = [(i, item) for i, item in enumerate(items) if not isinstance(item, Frame)]
        assert [(i, [(e.number, e.codec_id) for e in t]) for i, t in lists] == [
            (0, [(1, "V_MPEG4/ISO/AVC")]),
            (3, [(1, "V_MPEGH/ISO/HEVC")]),
        ]


@pytest.mark.parametrize("path", [*REAL_FILES, SAMPLE], ids=lambda p: p.name)
def test_real_files_give_their_track_lists_as_the_scanner_reads_them(path: Path) -> None:
    """A real file's documents each give the track list the scanner finds, then its frames."""
    data = path.read_bytes()
    expected = [read_tracks(info.tracks or b"") for info in scan_elements(data)[1]]
    items = list(iter_tracks_and_frames(data))
    assert [item for item in items if not isinstance(item, Frame)] == expected
    assert [item for item in items if isinstance(item, Frame)] == list(iter_frames(data))
    assert not isinstance(items[0], Frame)


def test_a_document_without_tracks_before_its_clusters_gives_an_empty_list() -> None:
    """Tracks after the first Cluster come too late for the frames: the list given is empty."""
    cluster = B.cluster([B.block(0, True, b"x")], known=False)
    body = B.header() + B.master(E.SEGMENT, B.info() + cluster + B.tracks(), known=True)
    assert list(iter_tracks_and_frames(body))[0] == ()


def test_a_malformed_track_list_raises_at_its_offset() -> None:
    """A TrackEntry without a TrackNumber is MediaParseError at the entry's body offset."""
    entry = B.el(E.TRACK_ENTRY, B.el(E.CODEC_ID, b"V_MPEG4/ISO/AVC"))
    body = B.header() + B.master(E.SEGMENT, B.el(E.TRACKS, entry) + B.cluster([], False), False)
    with pytest.raises(MediaParseError, match="TrackNumber") as caught:
        list(read_tracks_and_frames([body]))
    assert caught.value.offset == body.index(entry)
