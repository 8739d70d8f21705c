"""Real recordings from Kinesis Video Streams and its producers, read as mkvinfo and ffprobe read them.

The files in tests/data/realdata/ come from AWS's own repositories (see its
README): a GetMedia body of 2017 with stream-relative Cluster Timecodes, a file
written by the KVS producer SDK, and a producer-side MKV without AWS tags.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from realdata import (
    CLUSTERS,
    GET_MEDIA,
    GET_MEDIA_NUMBERS,
    PRODUCER_SDK,
    REAL_FILES,
    ffprobe_packets,
    mkvinfo_tags,
    needs_ffprobe,
    needs_mkvinfo,
)

from kvarchive import Frame, MediaIncompleteError, MediaStream

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def frames_of(path: Path, chunk_size: int = 1 << 20) -> list[Frame]:
    """Every frame of a file, read with MediaStream.from_file."""
    with MediaStream.from_file(path) as media:
        return list(media.iter_frames(chunk_size))


def as_service_body(path: Path) -> MediaStream:
    """A saved GetMedia body served again as a GetMediaForFragmentList answer would be."""
    data = path.read_bytes()
    return MediaStream.for_fragments(
        GET_MEDIA_NUMBERS, lambda batch: (io.BytesIO(data), "video/webm"), batch_size=1000
    )


# -- tags ---------------------------------------------------------------------------------


def test_repeated_tag_names_are_kept_in_file_order() -> None:
    """tag_list keeps both ENCODER tags of every fragment; tags keeps the last of them."""
    with as_service_body(GET_MEDIA) as media:
        fragments = list(media.iter_fragments())
    assert [f.number for f in fragments] == GET_MEDIA_NUMBERS
    for fragment in fragments:
        encoders = [value for name, value in fragment.tag_list if name == "ENCODER"]
        assert encoders == ["Lavf57.71.100", "Elemental H.264"]
        assert fragment.tags["ENCODER"] == "Elemental H.264"
        assert fragment.tags == dict(fragment.tag_list)
        assert len(fragment.tag_list) == 12


@needs_mkvinfo
def test_tag_lists_match_mkvinfo() -> None:
    """The tag lists of all fragments, end to end, are the SimpleTags mkvinfo lists."""
    with as_service_body(GET_MEDIA) as media:
        tags = [tag for fragment in media.iter_fragments() for tag in fragment.tag_list]
    assert tags == mkvinfo_tags(GET_MEDIA)


# -- whole files --------------------------------------------------------------------------


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
def test_read_gives_the_file_byte_for_byte(path: Path) -> None:
    """read() and iter_chunks() of a real file give its bytes, from a path or a file object."""
    data = path.read_bytes()
    with MediaStream.from_file(str(path)) as media:
        assert media.read() == data
    with path.open("rb") as file, MediaStream.from_file(file) as media:
        assert b"".join(media.iter_chunks(65536)) == data
        assert media.position == len(data)


@pytest.mark.parametrize("size", [1, 2, 7, 4095])
@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
def test_small_reads_give_the_same_bytes_and_frames(path: Path, size: int) -> None:
    """Reads of a few bytes give the same bytes, and the same frames, as one big read."""
    head = path.read_bytes()[:150_000]  # cut short: the end is an error after every frame
    with MediaStream.from_file(io.BytesIO(head)) as media:
        got = b""
        with pytest.raises(MediaIncompleteError):
            while piece := media.read(size):
                assert len(piece) <= size
                got += piece
    assert got == head
    frames: list[Frame] = []
    with MediaStream.from_file(io.BytesIO(head)) as media:
        with pytest.raises(MediaIncompleteError):
            frames.extend(media.iter_frames(size))
    assert frames == frames_of(path)[: len(frames)]
    assert frames


@pytest.mark.parametrize(
    ("path", "numbers", "frames"),
    [(GET_MEDIA, GET_MEDIA_NUMBERS, 300), (PRODUCER_SDK, [None], 1640), (CLUSTERS, [None], 444)],
    ids=lambda value: value.name if isinstance(value, Path) else "",
)
def test_fragments_are_the_files_matroska_documents(
    path: Path, numbers: list[object], frames: int
) -> None:
    """One fragment per EBML document; files without AWS tags have None number and times."""
    with MediaStream.from_file(path) as media:
        fragments = list(media.iter_fragments())
    assert [f.number for f in fragments] == numbers
    assert b"".join(f.data for f in fragments) == path.read_bytes()
    if numbers == [None]:
        assert fragments[0].server_timestamp is None
        assert fragments[0].producer_timestamp is None
    assert len(frames_of(path)) == frames


@needs_ffprobe
@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
def test_frames_are_the_packets_ffprobe_reads(path: Path) -> None:
    """Every frame has the time, size and keyframe flag ffprobe gives its packet."""
    frames = [(f.time_ns, len(f.data), f.keyframe) for f in frames_of(path)]
    assert frames == ffprobe_packets(path)


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
def test_iter_frames_agrees_with_iter_fragments(path: Path) -> None:
    """The frames of iter_frames() are exactly the frames of each fragment, in order."""
    with MediaStream.from_file(path) as media:
        fragments = list(media.iter_fragments())
    per_fragment = []
    for fragment in fragments:
        with MediaStream.from_file(io.BytesIO(fragment.data)) as alone:
            per_fragment.extend(alone.iter_frames())
    assert frames_of(path) == per_fragment


def test_a_saved_body_gives_the_same_frames_as_the_service_body() -> None:
    """A GetMedia body read from a file and from the service gives equal frames and times."""
    with as_service_body(GET_MEDIA) as media:
        from_service = list(media.iter_frames())
    assert from_service == frames_of(GET_MEDIA)


# -- wall-clock times ---------------------------------------------------------------------


def test_stream_relative_timecodes_are_placed_by_the_producer_timestamp() -> None:
    """Frames of the 2017 GetMedia body are in 2017: producer timestamp + offset in the fragment."""
    with MediaStream.from_file(GET_MEDIA) as media:
        fragments = list(media.iter_fragments())
    frames = frames_of(GET_MEDIA)
    assert frames[0].time_ns == 0
    assert frames[0].utc_time == datetime(2017, 11, 28, 6, 55, 8, 513000, timezone.utc)
    for index, fragment in enumerate(fragments):  # 60 frames each; each Cluster starts at 0
        in_fragment = frames[60 * index : 60 * index + 60]
        producer = fragment.producer_timestamp
        assert producer is not None
        first = in_fragment[0].time_ns
        assert [f.utc_time for f in in_fragment] == [
            producer + timedelta(microseconds=(f.time_ns - first) // 1000) for f in in_fragment
        ]
    assert frames[-1].utc_time == datetime(2017, 11, 28, 6, 55, 18, 480000, timezone.utc)


@needs_ffprobe
def test_epoch_timecodes_without_a_producer_tag_are_epoch_times() -> None:
    """The producer SDK's file has no timestamp tag: frames are at their epoch Cluster times."""
    frames = frames_of(PRODUCER_SDK)
    assert frames[0].utc_time == datetime(2023, 12, 21, 1, 6, 30, 149000, timezone.utc)
    packets = ffprobe_packets(PRODUCER_SDK)
    assert [f.utc_time for f in frames] == [
        EPOCH + timedelta(microseconds=ns // 1000) for ns, _, _ in packets
    ]
