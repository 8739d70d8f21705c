"""MediaStream.from_file: any Matroska file, whole or cut short, read as the service's bodies are."""

from __future__ import annotations

import io
import random
import shutil
import subprocess
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from realdata import CLUSTERS, GET_MEDIA, PRODUCER_SDK, SAMPLE, ffprobe_packets

from kvarchive import (
    ArchivedMediaClient,
    Frame,
    MediaFragment,
    MediaIncompleteError,
    MediaParseError,
    MediaStream,
    ValidationError,
)
from kvarchive._matroska import ids as E
from kvarchive._matroska import vint
from kvarchive.testing import Emulator, synthetic_fragment

T0 = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)
needs_ffmpeg = pytest.mark.skipif(
    shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
    reason="ffmpeg not installed",
)


def fragments_of(source: Any) -> list[MediaFragment]:
    """Every fragment of a file (a path or a file object)."""
    with MediaStream.from_file(source) as media:
        return list(media.iter_fragments())


def frames_of(source: Any) -> list[Frame]:
    """Every frame of a file (a path or a file object)."""
    with MediaStream.from_file(source) as media:
        return list(media.iter_frames())


# -- files written by ffmpeg --------------------------------------------------------------


@needs_ffmpeg
@pytest.mark.parametrize(
    "options",
    [
        [],  # known-size Segment and Clusters, SeekHead, Cues, CRC-32 elements
        ["-cluster_time_limit", "250"],
        ["-live", "1"],  # unknown sizes, no Cues
        ["-an", "-write_crc32", "0"],
    ],
    ids=["default", "short-clusters", "live", "video-only"],
)
def test_files_written_by_ffmpeg(tmp_path: Path, options: list[str]) -> None:
    """An MKV that ffmpeg writes from the sample reads whole: its frames are ffprobe's packets."""
    path = tmp_path / "ffmpeg.mkv"
    command = ["ffmpeg", "-v", "error", "-i", str(SAMPLE), "-c", "copy", *options, str(path)]
    subprocess.run(command, check=True, timeout=60)
    (fragment,) = fragments_of(path)
    assert fragment.data == path.read_bytes()
    assert fragment.number is None
    assert fragment.server_timestamp is fragment.producer_timestamp is None
    assert [name for name, _ in fragment.tag_list].count("ENCODER") >= 1
    frames = frames_of(path)
    assert [(f.time_ns, len(f.data), f.keyframe) for f in frames] == ffprobe_packets(path)
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)  # no producer timestamp tag
    assert [f.utc_time for f in frames] == [epoch + f.timestamp for f in frames]


# -- download() recordings -----------------------------------------------------------------


@pytest.fixture
def recording(emulator: Emulator, kv: ArchivedMediaClient, tmp_path: Path) -> Path:
    """A download() recording of the bundled sample, twice over (20 fragments, one document)."""
    emulator.add_sample_stream("demo", start=T0, repeat=2)
    path = tmp_path / "recording.mkv"
    kv.download(stream_name="demo", start=T0, end=T0 + timedelta(minutes=5), path=path)
    return path


def service_frames(kv: ArchivedMediaClient, stream: str) -> tuple[list[MediaFragment], list[Frame]]:
    """The stream's fragments and frames, as GetMediaForFragmentList gives them."""
    numbers = [f.number for f in kv.list_fragments(stream_name=stream, start=T0, end=T0 + HOUR)]
    with kv.get_media_for_fragment_list(stream_name=stream, fragments=numbers) as media:
        fragments = list(media.iter_fragments())
    with kv.get_media_for_fragment_list(stream_name=stream, fragments=numbers) as media:
        return fragments, list(media.iter_frames())


def test_a_recording_is_one_fragment_that_starts_with_the_first(
    kv: ArchivedMediaClient, recording: Path
) -> None:
    """A download() recording is one document: the first fragment's number and timestamps."""
    fragments, _ = service_frames(kv, "demo")
    (whole,) = fragments_of(recording)
    assert whole.number == fragments[0].number
    assert whole.producer_timestamp == fragments[0].producer_timestamp
    assert whole.server_timestamp == fragments[0].server_timestamp
    numbers = [v for name, v in whole.tag_list if name == "AWS_KINESISVIDEO_FRAGMENT_NUMBER"]
    assert numbers == [f.number for f in fragments]


def test_a_recording_keeps_every_frame_and_its_wall_clock_time(
    kv: ArchivedMediaClient, recording: Path
) -> None:
    """The frames of a recording are the service's frames, at the same wall-clock times."""
    _, frames = service_frames(kv, "demo")
    recorded = frames_of(recording)
    assert [(f.track, f.keyframe, f.data) for f in recorded] == [
        (f.track, f.keyframe, f.data) for f in frames
    ]
    assert [f.utc_time for f in recorded] == [f.utc_time for f in frames]
    assert recorded[0].time_ns == 0  # the recording's Cluster Timecodes start at zero


def test_a_recording_with_more_than_the_scanners_metadata_limit_of_tags() -> None:
    """A long recording holds many fragments' tags; a file's document has no tag limit."""
    tags = vint.encode_element(
        E.TAGS,
        vint.encode_element(
            E.TAG,
            vint.encode_element(
                E.SIMPLE_TAG,
                vint.encode_element(E.TAG_NAME, b"N")
                + vint.encode_element(E.TAG_STRING, b"x" * 4000),
            ),
        ),
    )
    first = synthetic_fragment("100", T0, T0, payload_size=500)
    body = first + tags * 1500  # 6 MB of Tags after the first fragment's Cluster
    (fragment,) = fragments_of(io.BytesIO(body))
    assert len(fragment.tag_list) == 1500 + 3


# -- cut short ----------------------------------------------------------------------------


def check_cut(data: bytes, cut: int, frames: list[Frame]) -> bool:
    """Check what a file cut at ``cut`` gives; True if it raised MediaIncompleteError.

    Its whole fragments and whole frames, then the error; or, cut between two
    elements of an open Segment (which no reader can tell from a shorter file),
    its fragments with the last one ending at the cut.
    """
    whole = fragments_of(io.BytesIO(data))
    got: list[MediaFragment] = []
    cut_short = False
    try:
        got.extend(MediaStream.from_file(io.BytesIO(data[:cut])).iter_fragments())
    except MediaIncompleteError:
        cut_short = True
    expected = [f.data for f in whole[: len(got)]]
    if not cut_short:
        expected[-1] = expected[-1][: cut - sum(len(f) for f in expected[:-1])]
    assert [f.data for f in got] == expected
    got_frames: list[Frame] = []
    try:
        got_frames.extend(MediaStream.from_file(io.BytesIO(data[:cut])).iter_frames())
    except MediaIncompleteError:
        assert cut_short
    else:
        assert not cut_short
    assert got_frames == frames[: len(got_frames)]
    return cut_short


@pytest.mark.parametrize(
    "path", [GET_MEDIA, PRODUCER_SDK, CLUSTERS, "recording"], ids=lambda p: getattr(p, "name", p)
)
def test_files_cut_short_at_many_points(request: pytest.FixtureRequest, path: Any) -> None:
    """Cut anywhere, a file gives its whole fragments and frames, then MediaIncompleteError."""
    if path == "recording":
        path = request.getfixturevalue("recording")
    data = path.read_bytes()
    frames = frames_of(path)
    starts = [0]
    for fragment in fragments_of(path):
        starts.append(starts[-1] + len(fragment.data))
    rng = random.Random(path.name)
    points = {len(data) - 1, *(s + d for s in starts[:-1] for d in (1, 4, 13, 30))}
    points.update(rng.randrange(1, len(data)) for _ in range(40))
    cut_short = 0
    for cut in sorted(points):
        try:
            cut_short += check_cut(data, cut, frames)
        except AssertionError as exc:
            raise AssertionError(f"cut at byte {cut}") from exc
    assert cut_short >= len(points) * 3 // 4  # most cuts fall inside an element


# -- file objects and paths --------------------------------------------------------------


class ShortReads(io.RawIOBase):
    """A raw file that returns fewer bytes than asked, as pipes and sockets do."""

    def __init__(self, data: bytes, seed: int) -> None:
        super().__init__()
        self._data = data
        self._pos = 0
        self._rng = random.Random(seed)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = min(len(buffer), self._rng.randint(1, 5000), len(self._data) - self._pos)
        buffer[:size] = self._data[self._pos : self._pos + size]
        self._pos += size
        return size


def test_a_file_object_with_short_reads() -> None:
    """A file object that answers in random short pieces gives the same fragments and frames."""
    data = GET_MEDIA.read_bytes()
    assert [f.data for f in fragments_of(ShortReads(data, 1))] == [
        f.data for f in fragments_of(GET_MEDIA)
    ]
    assert frames_of(ShortReads(data, 2)) == frames_of(GET_MEDIA)


def test_a_path_is_closed_with_the_stream_and_a_file_object_is_not(tmp_path: Path) -> None:
    """from_file opens and closes a path itself; a file object it is given stays open."""
    with CLUSTERS.open("rb") as file:
        with MediaStream.from_file(file) as media:
            media.read(100)
        assert not file.closed
        assert file.tell() > 0
    with MediaStream.from_file(CLUSTERS) as media:
        assert media.read(4) == CLUSTERS.read_bytes()[:4]
        assert "clusters.mkv" in repr(media)


def test_bad_arguments_are_refused() -> None:
    """A text file is a ValidationError; a missing path is FileNotFoundError naming it."""
    with GET_MEDIA.open("r", encoding="latin-1") as text:
        with pytest.raises(ValidationError, match="binary"):
            MediaStream.from_file(text)  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError, match=r"missing\.mkv"):
        MediaStream.from_file("missing.mkv")


def test_a_file_that_is_not_matroska_is_a_parse_error(tmp_path: Path) -> None:
    """An MP4 (or any other bytes) raises MediaParseError with an offset."""
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100)
    with MediaStream.from_file(path) as media:
        with pytest.raises(MediaParseError) as caught:
            list(media.iter_frames())
    assert caught.value.offset == 0


def test_frames_of_a_large_recording_stream_in_bounded_memory(tmp_path: Path) -> None:
    """iter_frames holds a few chunks' worth, not the document: 48 MiB read in under 6 MiB."""
    first = synthetic_fragment("100", T0, T0, payload_size=1000)
    head = first[
        : first.index(vint.encode_id(E.CLUSTER))
    ]  # EBML header, Segment, Info, Tracks, Tags
    frame = b"\x81\x00\x00\x80" + bytes(256 * 1024)
    path = tmp_path / "long.mkv"
    with path.open("wb") as out:
        out.write(head)
        for second in range(192):  # one 256 KiB frame a second
            timecode = vint.encode_element(E.TIMECODE, vint.encode_uint(second * 1000))
            cluster = timecode + vint.encode_element(E.SIMPLE_BLOCK, frame)
            out.write(vint.encode_element(E.CLUSTER, cluster))
    tracemalloc.start()
    try:
        with MediaStream.from_file(path) as media:
            count = sum(1 for _ in media.iter_frames())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 192
    assert path.stat().st_size > 48 << 20
    assert peak < 6 << 20  # two 1 MiB chunks, a chunk's frames, the frame being read
