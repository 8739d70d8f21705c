"""download(): one Matroska recording that players read whole, or no file at all."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from kvarchive import ArchivedMediaClient, KVArchiveError, TrackListChangedError
from kvarchive._matroska.frames import iter_frames
from kvarchive._matroska.recording import RecordingWriter
from kvarchive._matroska.scanner import FragmentScanner
from kvarchive.testing import Emulator, synthetic_fragment

T0 = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
needs_ffprobe = pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe not installed")


def ffprobe(path: Path) -> dict[str, Any]:
    """ffprobe's JSON report of a file, counting decoded frames per stream."""
    result = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-count_frames",
            "-show_format",
            "-show_streams",
            "-of",
            "json",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.fixture
def sample(emulator: Emulator) -> Any:
    """The bundled real H.264 + AAC sample, twice over (20 fragments, 20 s)."""
    return emulator.add_sample_stream("demo", start=T0, repeat=2)


@needs_ffprobe
def test_every_frame_decodes_and_the_duration_is_the_total(
    kv: ArchivedMediaClient, sample: Any, tmp_path: Path
) -> None:
    """ffprobe reads one recording: every video frame of the range, lasting the fragments' total."""
    path = tmp_path / "recording.mkv"
    result = kv.download(stream_name="demo", start=T0, end=T0 + timedelta(minutes=5), path=path)
    assert result.fragment_count == len(sample.fragments)
    assert result.bytes_written == path.stat().st_size
    report = ffprobe(path)
    video = next(s for s in report["streams"] if s["codec_type"] == "video")
    audio = next(s for s in report["streams"] if s["codec_type"] == "audio")
    expected_frames = sum(
        1 for f in sample.fragments for frame in iter_frames(f.data()) if frame.track == 1
    )
    assert int(video["nb_read_frames"]) == expected_frames
    assert video["codec_name"] == "h264"
    assert audio["codec_name"] == "aac"
    total = sum(f.duration_ms for f in sample.fragments) / 1000
    assert float(report["format"]["duration"]) == pytest.approx(total, abs=0.1)


@needs_ffprobe
def test_the_recording_decodes_without_errors(
    kv: ArchivedMediaClient, sample: Any, tmp_path: Path
) -> None:
    """ffmpeg decodes the whole recording and reports no error."""
    path = tmp_path / "recording.mkv"
    kv.download(stream_name="demo", start=T0, end=T0 + timedelta(minutes=5), path=path)
    result = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "null", "-"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0
    assert result.stderr == ""


def test_the_recording_has_one_header_and_every_cluster(
    kv: ArchivedMediaClient, emulator: Emulator, tmp_path: Path
) -> None:
    """The file is one Matroska document holding every fragment's frames, in order."""
    stream = emulator.add_stream(
        "cam", fragment_count=5, start=T0, payload_size=3000, magic="always"
    )
    path = tmp_path / "r.mkv"
    kv.download(stream_name="cam", start=T0, end=T0 + timedelta(minutes=1), path=path)
    data = path.read_bytes()
    scanner = FragmentScanner()
    documents = scanner.feed(data) + scanner.finish()
    assert len(documents) == 1
    joined = [frame.data for frame in iter_frames(data)]
    source = [frame.data for f in stream.fragments for frame in iter_frames(f.data())]
    assert joined == source
    assert documents[0].tags["AWS_KINESISVIDEO_FRAGMENT_NUMBER"] == stream.fragments[-1].number


def test_frame_times_start_at_zero_and_keep_their_spacing(
    kv: ArchivedMediaClient, emulator: Emulator, tmp_path: Path
) -> None:
    """Cluster timecodes are rebased to the first one; the gaps between frames are unchanged."""
    stream = emulator.add_stream("cam", fragment_count=3, start=T0, payload_size=600)
    path = tmp_path / "r.mkv"
    kv.download(stream_name="cam", start=T0, end=T0 + timedelta(minutes=1), path=path)
    joined = [frame.timestamp for frame in iter_frames(path.read_bytes())]
    source = [frame.timestamp for f in stream.fragments for frame in iter_frames(f.data())]
    assert joined[0] == timedelta(0)
    assert [t - joined[0] for t in joined] == [t - source[0] for t in source]


def test_a_changed_track_list_stops_the_recording() -> None:
    """A fragment whose tracks differ from the first's raises TrackListChangedError naming it."""
    first = synthetic_fragment("100", T0, T0, payload_size=500)
    second = synthetic_fragment(
        "101", T0 + timedelta(seconds=2), T0 + timedelta(seconds=2), payload_size=500, audio=True
    )
    writer = RecordingWriter(io.BytesIO())
    writer.add(first, "100")
    with pytest.raises(TrackListChangedError) as caught:
        writer.add(second, "101")
    assert caught.value.number == "101"
    assert isinstance(caught.value, KVArchiveError)


def test_an_empty_range_writes_nothing(
    kv: ArchivedMediaClient, emulator: Emulator, tmp_path: Path
) -> None:
    """A range without fragments raises and leaves no file."""
    emulator.add_stream("cam", fragment_count=2, start=T0, payload_size=64)
    with pytest.raises(KVArchiveError, match="no fragments"):
        kv.download(
            stream_name="cam",
            start=T0 - timedelta(days=1),
            end=T0 - timedelta(hours=1),
            path=tmp_path / "x.mkv",
        )
    assert list(tmp_path.iterdir()) == []


def test_the_file_honours_the_umask(
    kv: ArchivedMediaClient, emulator: Emulator, tmp_path: Path
) -> None:
    """The recording gets the usual permissions, not the 0600 of a temporary file."""
    import os

    emulator.add_stream("cam", fragment_count=2, start=T0, payload_size=64)
    path = tmp_path / "x.mkv"
    kv.download(stream_name="cam", start=T0, end=T0 + timedelta(minutes=1), path=path)
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask


@pytest.mark.parametrize("concurrency", [2, 4])
def test_parallel_download_writes_the_same_file(
    kv: ArchivedMediaClient, emulator: Emulator, tmp_path: Path, concurrency: int
) -> None:
    """Fetching over several connections gives byte for byte the sequential file."""
    emulator.add_stream("cam", fragment_count=37, start=T0, payload_size=900)
    sequential, parallel = tmp_path / "one.mkv", tmp_path / "many.mkv"
    end = T0 + timedelta(minutes=5)
    kv.download(stream_name="cam", start=T0, end=end, path=sequential)
    result = kv.download(
        stream_name="cam", start=T0, end=end, path=parallel, concurrency=concurrency
    )
    assert parallel.read_bytes() == sequential.read_bytes()
    assert result.fragment_count == 37
    order = [f.number for f in emulator.stream("cam").fragments]
    requests = [r for r in emulator.requests if r.operation == "GetMediaForFragmentList"]
    batches = sorted((r.params["Fragments"] for r in requests[1:]), key=lambda b: order.index(b[0]))
    assert len(batches) > 1  # they arrive in any order, and cover the range once
    assert [n for batch in batches for n in batch] == order
    assert sorted(p.name for p in tmp_path.iterdir()) == ["many.mkv", "one.mkv"]


def test_parallel_download_failure_leaves_nothing(
    kv: ArchivedMediaClient, emulator: Emulator, tmp_path: Path
) -> None:
    """If one batch fails for good, the download raises and leaves no file."""
    from kvarchive import MediaIncompleteError

    emulator.add_stream("cam", fragment_count=20, start=T0, payload_size=900)
    emulator.cut_next("GetMediaForFragmentList", 50, count=100)
    with pytest.raises(MediaIncompleteError):
        kv.download(
            stream_name="cam",
            start=T0,
            end=T0 + timedelta(minutes=5),
            path=tmp_path / "x.mkv",
            concurrency=3,
        )
    assert list(tmp_path.iterdir()) == []
