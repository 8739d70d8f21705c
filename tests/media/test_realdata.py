"""Real recordings from Kinesis Video Streams and its producers, read as mkvinfo and ffprobe read them.

The files in tests/data/realdata/ come from AWS's own repositories (see its
README): a GetMedia body of 2017 with stream-relative Cluster Timecodes, a file
written by the KVS producer SDK, and a producer-side MKV without AWS tags.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

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

from kvarchive import Frame, MediaFragment, MediaIncompleteError, MediaStream
from kvarchive._matroska.ids import CLUSTER, TAGS
from kvarchive._matroska.parts import split_fragment

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def fragments_of(source: Any) -> list[MediaFragment]:
    """Every fragment of a file (a path or a file object)."""
    with MediaStream.from_file(source) as media:
        return list(media.iter_fragments())


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


def split_get_media(folder: Path) -> list[Path]:
    """The fragments of the GetMedia body, one file each."""
    paths = []
    with MediaStream.from_file(GET_MEDIA) as media:
        for index, fragment in enumerate(media.iter_fragments()):
            paths.append(folder / f"fragment-{index}.mkv")
            paths[-1].write_bytes(fragment.data)
    return paths


def test_a_body_merged_into_one_segment_keeps_its_times(tmp_path: Path) -> None:
    """Merged into one Segment (its Tags and Clusters in place), the body's frames keep their times."""
    merged = b""
    for index, path in enumerate(split_get_media(tmp_path)):
        parts = split_fragment(path.read_bytes())
        if not index:
            merged += parts.ebml_header + parts.segment_header + (parts.info or b"")
            merged += parts.tracks or b""
        merged += b"".join(data for element, data in parts.children if element in (TAGS, CLUSTER))
    (fragment,) = fragments_of(io.BytesIO(merged))
    assert (fragment.number, fragment.producer_timestamp) == (
        GET_MEDIA_NUMBERS[0],
        datetime(2017, 11, 28, 6, 55, 8, 513000, timezone.utc),
    )
    with MediaStream.from_file(io.BytesIO(merged)) as media:
        frames = list(media.iter_frames())
    assert [(f.utc_time, f.data) for f in frames] == [
        (f.utc_time, f.data) for f in frames_of(GET_MEDIA)
    ]


@pytest.mark.skipif(shutil.which("mkvmerge") is None, reason="mkvmerge not installed")
def test_a_body_merged_by_mkvmerge_keeps_its_times(tmp_path: Path) -> None:
    """mkvmerge writes the tags after the Clusters: the SeekHead finds the producer timestamp."""
    parts = split_get_media(tmp_path)
    merged = tmp_path / "merged.mkv"
    arguments = [str(parts[0])] + [item for path in parts[1:] for item in ("+", str(path))]
    subprocess.run(["mkvmerge", "-q", "-o", str(merged), *arguments], check=True, timeout=60)
    (fragment,) = fragments_of(merged)
    assert fragment.producer_timestamp == datetime(2017, 11, 28, 6, 55, 8, 513000, timezone.utc)
    frames = frames_of(merged)
    original = frames_of(GET_MEDIA)
    assert [f.keyframe for f in frames] == [f.keyframe for f in original]  # it rewrites SEI
    # mkvmerge moves appended Clusters by up to a millisecond.
    for got, expected in zip(frames, original):
        assert abs(got.utc_time - expected.utc_time) <= timedelta(milliseconds=2)
    with MediaStream.from_file(io.BytesIO(fragment.data)) as alone:
        assert list(alone.iter_frames()) == frames
