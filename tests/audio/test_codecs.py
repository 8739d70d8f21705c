"""iter_audio decodes every codec to the samples FFmpeg decodes of the same file.

The files are made by ffmpeg (its Matroska muxer writes PCM as A_PCM/* and
G.711 as A_MS/ACM with a WAVEFORMATEX), and ffmpeg's own decode to s16le is
the reference: PCM and G.711 must match sample for sample, AAC and Opus
within one step of 16 bits (FFmpeg's float-to-int conversion rounds a few
samples the other way).
"""

from __future__ import annotations

import array
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from calls import ffmpeg, ffmpeg_s16, needs_ffmpeg
from realdata import REALDATA, SAMPLE

from kvarchive import AudioChunk, MediaStream

pytestmark = needs_ffmpeg

# Two tones on two channels, loud enough (x12 for floats) that float samples pass 1.0 and clip.
TONES = "[0][1]amerge=inputs=2,volume={volume}"
PLAIN = {
    "pcm_s16le": "A_PCM/INT/LIT",
    "pcm_s16be": "A_PCM/INT/BIG",
    "pcm_s24le": "A_PCM/INT/LIT",
    "pcm_s24be": "A_PCM/INT/BIG",
    "pcm_s32le": "A_PCM/INT/LIT",
    "pcm_s32be": "A_PCM/INT/BIG",
    "pcm_u8": "A_PCM/INT/LIT",
    "pcm_f32le": "A_PCM/FLOAT/IEEE",
    "pcm_f64le": "A_PCM/FLOAT/IEEE",
    "pcm_alaw": "A_MS/ACM",
    "pcm_mulaw": "A_MS/ACM",
}


def tones(path: Path, codec: str, *, rate: int = 8000, volume: float = 1.9) -> Path:
    """Two seconds of two tones, stereo, encoded with ``codec`` into ``path``."""
    ffmpeg(
        *("-f", "lavfi", "-i", f"sine=frequency=440:sample_rate={rate}:duration=2"),
        *("-f", "lavfi", "-i", f"sine=frequency=1000:sample_rate={rate}:duration=2"),
        *("-filter_complex", TONES.format(volume=volume), "-c:a", codec, str(path)),
    )
    return path


def decoded(path: Path) -> list[AudioChunk]:
    with MediaStream.from_file(path) as media:
        return list(media.iter_audio())


def codec_id(path: Path) -> str:
    """The CodecID mkvinfo reads in ``path``."""
    report = subprocess.run(["mkvinfo", str(path)], capture_output=True, text=True, check=True)
    return next(
        line.split(":", 1)[1].strip() for line in report.stdout.splitlines() if "Codec ID" in line
    )


@pytest.mark.parametrize("codec", sorted(PLAIN))
def test_pcm_and_g711_match_ffmpeg_sample_for_sample(codec: str, tmp_path: Path) -> None:
    """Every PCM bit depth and byte order, and G.711 A-law and mu-law, decode exactly as FFmpeg's."""
    volume = 12.0 if "f" in codec.split("_")[1] else 1.9
    path = tones(tmp_path / f"{codec}.mkv", codec, volume=volume)
    assert codec_id(path) == PLAIN[codec]
    chunks = decoded(path)
    assert {(c.sample_rate, c.channels) for c in chunks} == {(8000, 2)}
    assert b"".join(c.data for c in chunks) == ffmpeg_s16(path)


def test_float_samples_beyond_full_scale_clip(tmp_path: Path) -> None:
    """Float samples past 1.0 become 32767 and -32768, as FFmpeg clips them."""
    samples = array.array(
        "h", b"".join(c.data for c in decoded(tones(tmp_path / "f.mkv", "pcm_f32le", volume=12.0)))
    )
    assert max(samples) == 32767 and min(samples) == -32768


def test_chunks_carry_each_block_with_its_time_and_duration(tmp_path: Path) -> None:
    """A chunk per block: durations add up to the file's length, times follow one another."""
    chunks = decoded(tones(tmp_path / "s16.mkv", "pcm_s16le"))
    assert sum((c.duration for c in chunks), timedelta(0)) == timedelta(seconds=2)
    for before, after in zip(chunks, chunks[1:]):
        assert after.utc_time - before.utc_time == before.duration


def test_to_numpy_gives_samples_by_channels(tmp_path: Path) -> None:
    """to_numpy is an int16 array of samples x channels holding the chunk's bytes."""
    chunk = decoded(tones(tmp_path / "s16.mkv", "pcm_s16le"))[0]
    samples = chunk.to_numpy()
    assert samples.shape == (chunk.samples, 2) and str(samples.dtype) == "int16"
    assert samples.tobytes() == chunk.data


def within_one_step(ours: bytes, theirs: bytes) -> int:
    """The largest difference between two s16le sample runs over their common length."""
    a, b = array.array("h", ours), array.array("h", theirs)
    return max(abs(x - y) for x, y in zip(a, b))


@pytest.mark.parametrize(
    "path", [REALDATA / "sample-mkv-file.mkv", SAMPLE], ids=["greengrass-camera", "bundled-sample"]
)
def test_aac_of_real_recordings_matches_ffmpeg_within_one_step(path: Path) -> None:
    """The AAC tracks of real recordings decode to FFmpeg's samples, all of them, within 1 of 32768."""
    ours = b"".join(c.data for c in decoded(path))
    theirs = ffmpeg_s16(path)
    assert len(ours) == len(theirs)
    assert within_one_step(ours, theirs) <= 1


def test_opus_matches_ffmpeg_within_one_step(tmp_path: Path) -> None:
    """Opus decodes to FFmpeg's samples within 1 of 32768; the last block's padding is kept
    (Matroska's DiscardPadding is not applied), at most one 20 ms frame."""
    path = tmp_path / "opus.mkv"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000:duration=2",
        "-c:a",
        "libopus",
        str(path),
    )
    chunks = decoded(path)
    ours, theirs = b"".join(c.data for c in chunks), ffmpeg_s16(path)
    assert {(c.sample_rate, c.channels) for c in chunks} == {(48000, 1)}
    assert 0 <= len(ours) - len(theirs) <= 960 * 2
    assert within_one_step(ours, theirs) <= 1


def run_without(module: str, code: str) -> str:
    """What ``code`` prints in a fresh interpreter where ``module`` cannot be imported."""
    answer = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.modules[{module!r}] = None\n{code}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return answer.stdout


def test_aac_without_pyav_raises_an_import_error_naming_the_extra() -> None:
    """Without PyAV, decoding an AAC track raises an ImportError that names kvarchive[decode]."""
    code = (
        "from kvarchive import MediaStream\n"
        f"with MediaStream.from_file({str(SAMPLE)!r}) as media:\n"
        "    try:\n        list(media.iter_audio())\n"
        "    except ImportError as exc:\n        print(exc)\n"
    )
    assert 'needs PyAV: pip install "kvarchive[decode]"' in run_without("av", code)


def test_to_numpy_without_numpy_raises_an_import_error_naming_the_extra() -> None:
    """Without numpy, AudioChunk.to_numpy raises an ImportError that names kvarchive[decode]."""
    code = (
        "from datetime import datetime, timezone\n"
        "from kvarchive import AudioChunk\n"
        "chunk = AudioChunk(1, None, datetime.now(timezone.utc), 8000, 1, bytes(4))\n"
        "try:\n    chunk.to_numpy()\nexcept ImportError as exc:\n    print(exc)\n"
    )
    assert 'needs numpy: pip install "kvarchive[decode]"' in run_without("numpy", code)
