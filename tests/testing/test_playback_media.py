"""The emulator's muxers: fragmented MP4 and MPEG-TS made from the real sample's frames."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from kvarchive.testing._mp4 import codecs
from kvarchive.testing._playback.fmp4 import init_segment, media_segment
from kvarchive.testing._playback.mpegts import AvcConfig, adts_header, annex_b, ts_segment
from kvarchive.testing._playback.timeline import VIDEO_TIMESCALE, timed_frames, timescale
from kvarchive.testing._sample import load_sample

needs_ffprobe = pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe not installed")


def streams(path: Path) -> dict[str, dict[str, str]]:
    """ffprobe's streams of a file, by type, with decoded frame counts."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {s["codec_type"]: s for s in json.loads(out)["streams"]}


@needs_ffprobe
@pytest.mark.parametrize("kind", ["video", "audio"])
def test_fmp4_init_and_segments_make_a_whole_track(tmp_path: Path, kind: str) -> None:
    """An init segment followed by one media segment per sample fragment decodes every frame
    of the track, with the codec and size of the sample."""
    sample = load_sample()
    track = next(t for t in sample.tracks if t.kind == kind)
    parts = [init_segment(track)]
    for sequence, fragment in enumerate(sample.fragments):
        frames = timed_frames(
            fragment.frames,
            track,
            position_ms=fragment.offset_ms,
            duration_ms=fragment.duration_ms,
            ticks=timescale(track),
        )
        parts += media_segment(sequence, track, frames)
    path = tmp_path / f"{kind}.mp4"
    path.write_bytes(b"".join(parts))
    found = streams(path)
    assert list(found) == [kind]
    expected = sum(1 for f in sample.fragments for frame in f.frames if frame.track == track.number)
    assert int(found[kind]["nb_read_frames"]) == expected
    if kind == "video":
        assert (found[kind]["width"], found[kind]["height"]) == (320, 240)
        assert found[kind]["codec_name"] == "h264"
    else:
        assert found[kind]["sample_rate"] == "16000"


@needs_ffprobe
def test_ts_segments_make_a_whole_stream(tmp_path: Path) -> None:
    """TS segments of every sample fragment, concatenated, decode every video and audio frame."""
    sample = load_sample()
    tracks = list(sample.tracks)
    data = []
    for sequence, fragment in enumerate(sample.fragments):
        timed = {
            t.number: iter(
                timed_frames(
                    fragment.frames,
                    t,
                    position_ms=fragment.offset_ms,
                    duration_ms=fragment.duration_ms,
                    ticks=VIDEO_TIMESCALE,
                )
            )
            for t in tracks
        }
        ordered = [(tracks[f.track - 1], next(timed[f.track])) for f in fragment.frames]
        data.append(ts_segment(sequence, tracks, ordered))
    path = tmp_path / "all.ts"
    path.write_bytes(b"".join(data))
    found = streams(path)
    counts = {
        kind: sum(1 for f in sample.fragments for frame in f.frames if frame.track == track.number)
        for kind, track in (("video", tracks[0]), ("audio", tracks[1]))
    }
    assert {kind: int(s["nb_read_frames"]) for kind, s in found.items()} == counts
    assert float(found["video"]["duration"]) == pytest.approx(10.0, abs=0.1)


def test_annex_b_puts_parameter_sets_before_keyframes_only() -> None:
    """Every access unit opens with an AUD; SPS and PPS come before keyframes only."""
    sample = load_sample()
    config = AvcConfig.parse(sample.tracks[0].codec_private)
    assert config.length_size == 4
    assert [unit[0] & 0x1F for unit in (*config.sps, *config.pps)] == [7, 8]
    frames = [f for f in sample.fragments[0].frames if f.track == 1]
    key, other = annex_b(frames[0].data(), True, config), annex_b(frames[1].data(), False, config)
    start = b"\x00\x00\x00\x01"
    assert key.startswith(start + b"\x09\xf0" + start + config.sps[0] + start + config.pps[0])
    assert other.startswith(start + b"\x09\xf0" + start)
    assert config.sps[0] not in other


def test_adts_header_describes_the_frame() -> None:
    """The ADTS header carries sync word, AAC-LC, the sample rate index, channels and length."""
    header = adts_header(bytes.fromhex("1408"), 100)  # AAC-LC, 16 kHz, mono
    assert header[:2] == b"\xff\xf1"
    assert header[2] >> 6 == 1  # profile: object type 2 - 1
    assert (header[2] >> 2) & 0x0F == 8  # 16000 Hz
    assert ((header[2] & 1) << 2) | (header[3] >> 6) == 1
    assert ((header[3] & 3) << 11) | (header[4] << 3) | (header[5] >> 5) == 107


def test_codecs_names_the_sample_tracks() -> None:
    """The RFC 6381 codecs strings of the sample: constrained baseline level 1.2, AAC-LC."""
    assert [codecs(t) for t in load_sample().tracks] == ["avc1.42c00c", "mp4a.40.2"]
