"""``MediaStream.iter_frames(decode=True)``: over HTTP and from files, sampled, in bounded memory,
and refusing at the call what it cannot do."""

from __future__ import annotations

import io
import subprocess
import tracemalloc
from datetime import timedelta
from pathlib import Path

import av
import numpy as np
import pytest
from pictures import (
    assert_same_pictures,
    digests,
    encode,
    ffmpeg_pictures,
    first_per_window,
    needed_frames,
    needs_ffmpeg,
)
from realdata import PRODUCER_SDK, SAMPLE

from kvarchive import (
    ArchivedMediaClient,
    DecodedFrames,
    Frame,
    MediaStream,
    UsageError,
    ValidationError,
)
from kvarchive._decode.decoding import MAX_BATCH_BYTES
from kvarchive.testing import Emulator

SECOND = timedelta(seconds=1)


@pytest.fixture
def demo(emulator: Emulator) -> list[str]:
    """The fragment numbers of the emulator's sample stream "demo", played twice (20 s)."""
    return [fragment.number for fragment in emulator.add_sample_stream("demo", repeat=2).fragments]


def sample_media(kv: ArchivedMediaClient, numbers: list[str]) -> MediaStream:
    """GetMediaForFragmentList of the sample stream's fragments, over HTTP."""
    return kv.get_media_for_fragment_list(stream_name="demo", fragments=numbers)


def video(media: MediaStream) -> list[Frame]:
    """The video frames (track 1) of a body, as iter_frames() gives them."""
    return [frame for frame in media.iter_frames() if frame.track == 1]


# -- over HTTP, sampled -----------------------------------------------------------------


@needs_ffmpeg
def test_every_second_over_http_keeps_one_frame_a_second_decoding_only_what_it_needs(
    kv: ArchivedMediaClient, demo: list[str]
) -> None:
    """every=1s on the emulator's stream: one frame per whole second, each as ffmpeg decodes
    it, and the decoder given only the frames from each kept frame's keyframe."""
    with sample_media(kv, demo) as media:
        decoded = media.iter_frames(decode=True, every=SECOND)
        kept = list(decoded)
    with sample_media(kv, demo) as media:
        frames = video(media)
    seconds = [int(frame.utc_time.timestamp()) for frame in kept]
    assert seconds == list(range(seconds[0], seconds[0] + len(kept))) and len(kept) in (20, 21)
    assert decoded.frames_decoded == needed_frames(frames, {f.utc_time for f in kept})
    pictures = list(ffmpeg_pictures(SAMPLE))  # the stream is the sample twice
    times = sorted(frame.utc_time for frame in frames)
    for frame in kept:
        expected = pictures[times.index(frame.utc_time) % len(pictures)]
        assert np.array_equal(frame.image, expected), frame.utc_time


@needs_ffmpeg
def test_keyframes_only_over_http_decodes_the_keyframes_alone(
    kv: ArchivedMediaClient, demo: list[str]
) -> None:
    """keyframes_only gives every keyframe, as the full decode has it, and decodes nothing else."""
    with sample_media(kv, demo) as media:
        decoded = media.iter_frames(decode=True, keyframes_only=True)
        kept = list(decoded)
    with sample_media(kv, demo) as media:
        full = digests(media.iter_frames(decode=True))
    with sample_media(kv, demo) as media:
        keys = [frame.utc_time for frame in video(media) if frame.keyframe]
    assert [frame.utc_time for frame in kept] == keys and len(keys) == 20
    assert decoded.frames_decoded == 20
    assert all(full[time] == digest for time, digest in digests(kept).items())


def test_a_decode_stopped_early_stops_reading(kv: ArchivedMediaClient, demo: list[str]) -> None:
    """close() on the decoded frames leaves the rest of the body unread."""
    with sample_media(kv, demo) as media:
        decoded = media.iter_frames(4096, decode=True)
        first = next(decoded)
        decoded.close()
        assert first.keyframe and media.position < 100_000  # of 446,330 bytes
        assert next(decoded, None) is None
    assert repr(decoded).startswith("<DecodedFrames frames_decoded=")


# -- refused at the call ----------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"every": timedelta(0)},
        {"every": 1.0},
        {"keyframes_only": "yes"},
        {"threads": -1},
        {"threads": True},
    ],
)
def test_bad_options_are_validation_errors_at_the_call(options: dict[str, object]) -> None:
    """A bad every, keyframes_only or threads raises ValidationError before anything is read."""
    with MediaStream.from_file(SAMPLE) as media:
        with pytest.raises(ValidationError):
            media.iter_frames(decode=True, **options)  # type: ignore[call-overload]
        assert media.position == 0


def test_sampling_options_without_decode_are_refused() -> None:
    """every, keyframes_only and threads choose frames to decode: without decode=True they are
    a ValidationError, not silently ignored."""
    with MediaStream.from_file(SAMPLE) as media:
        with pytest.raises(ValidationError, match="decode=True"):
            media.iter_frames(every=SECOND)  # type: ignore[call-overload]


def test_decoding_an_mp4_clip_is_refused_at_the_call(
    kv: ArchivedMediaClient, emulator: Emulator
) -> None:
    """iter_frames(decode=True) on a GetClip body (MP4) raises UsageError at the call."""
    stream = emulator.add_sample_stream("demo")
    start = stream.fragments[0].server_timestamp
    with kv.get_clip(stream_name="demo", start=start, end=start + 3 * SECOND) as clip:
        with pytest.raises(UsageError, match="Matroska"):
            clip.iter_frames(decode=True)


def test_decoding_a_closed_stream_is_refused_at_the_call() -> None:
    """A closed MediaStream raises ValueError at the call, as every closed file does."""
    media = MediaStream.from_file(SAMPLE)
    media.close()
    with pytest.raises(ValueError, match="closed"):
        media.iter_frames(decode=True)


def test_threads_one_decodes_the_same_pictures() -> None:
    """threads=1 (FFmpeg on one thread) gives the pictures of the default threading."""
    with MediaStream.from_file(PRODUCER_SDK) as media:
        one = digests(media.iter_frames(decode=True, threads=1))
    with MediaStream.from_file(PRODUCER_SDK) as media:
        default = digests(media.iter_frames(decode=True))
    assert one == default and len(one) > 100


# -- memory -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One Matroska document of about 85 MB: 6 s of noisy 640x480 H.264, lossless, 2 s GOPs
    (about 28 MB each, over MAX_BATCH_BYTES)."""
    path = tmp_path_factory.mktemp("big") / "big.mkv"
    source = "testsrc2=size=640x480:rate=30,noise=alls=30:allf=t"
    return encode(path, source, "-t", "6", "-c:v", "libx264", "-preset", "ultrafast",
                  "-qp", "0", "-g", "60", "-pix_fmt", "yuv420p")  # fmt: skip


@needs_ffmpeg
@pytest.mark.parametrize(
    "options", [{}, {"every": SECOND}, {"keyframes_only": True}], ids=["all", "every", "keys"]
)
def test_a_large_one_document_file_decodes_in_bounded_memory(
    big_recording: Path, options: dict[str, object]
) -> None:
    """Decoding a one-document recording holds a GOP (at most MAX_BATCH_BYTES of it) at a
    time, never the file: Python's peak stays under a third of the file's size."""
    size = big_recording.stat().st_size
    assert size > 6 * MAX_BATCH_BYTES and av.__version__  # PyAV and numpy are loaded already
    tracemalloc.start()
    try:
        with MediaStream.from_file(big_recording) as media:
            frames = media.iter_frames(decode=True, **options)  # type: ignore[call-overload]
            count = sum(1 for _ in frames)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == {"all": 180, "every": 6, "keys": 3}[_name(options)]
    assert peak < size / 3, f"peak {peak} bytes for a file of {size}"


def _name(options: dict[str, object]) -> str:
    return "every" if "every" in options else "keys" if options else "all"


@needs_ffmpeg
def test_a_gop_cut_for_memory_still_decodes_like_ffmpeg(big_recording: Path) -> None:
    """GOPs longer than MAX_BATCH_BYTES, handed over in pieces, decode pixel for pixel as ffmpeg
    does, and every=1s picks pictures the full decode has."""
    with MediaStream.from_file(big_recording) as media:
        full = media.iter_frames(decode=True)
        assert assert_same_pictures(full, ffmpeg_pictures(big_recording)) == 180
    with MediaStream.from_file(big_recording) as media:
        every = digests(media.iter_frames(decode=True, every=SECOND))
    with MediaStream.from_file(big_recording) as media:
        all_digests = digests(media.iter_frames(decode=True))
    assert len(every) == 6 and all(all_digests[time] == d for time, d in every.items())


@pytest.fixture(scope="module")
def long_gop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One GOP of 12 s (about 39 MB, over MAX_BATCH_BYTES four times): noisy 320x240
    H.264 at 30 fps, near-lossless, two B-frames between references."""
    path = tmp_path_factory.mktemp("long-gop") / "long-gop.mkv"
    return encode(path, "testsrc2=size=320x240:rate=30,noise=alls=30:allf=t", "-t", "12",
                  "-c:v", "libx264", "-preset", "superfast", "-bf", "2", "-qp", "2",
                  "-g", "360", "-sc_threshold", "0", "-pix_fmt", "yuv420p")  # fmt: skip


@needs_ffmpeg
def test_a_gop_cut_for_memory_keeps_each_windows_first_frame_with_b_frames(
    long_gop: Path,
) -> None:
    """A GOP with B-frames handed over in pieces: every=100ms still keeps each window's first
    frame once (a piece never begins with B-frames shown before the end of the one before),
    decoding just what they need."""
    assert long_gop.stat().st_size > 4 * MAX_BATCH_BYTES
    every = timedelta(milliseconds=100)
    with MediaStream.from_file(long_gop) as media:
        frames = [frame for frame in media.iter_frames() if frame.track == 1]
    with MediaStream.from_file(long_gop) as media:
        decoded = media.iter_frames(decode=True, every=every)
        kept = [frame.utc_time for frame in decoded]
    assert kept == first_per_window(frames, every) and len(kept) == 120
    assert decoded.frames_decoded == needed_frames(frames, set(kept))


@needs_ffmpeg
def test_a_long_gop_of_one_timestamp_still_decodes_in_bounded_memory(
    long_gop: Path, tmp_path: Path
) -> None:
    """The same GOP with every frame stamped 0 (no frame shown after the others, so no natural
    place to cut it) is still handed over in pieces: Python's peak stays within a few
    MAX_BATCH_BYTES, not the file's 39 MB."""
    flat = tmp_path / "flat.mkv"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(long_gop), "-c", "copy",
                    "-bsf:v", "setts=ts=0", str(flat)], check=True)  # fmt: skip
    tracemalloc.start()
    try:
        with MediaStream.from_file(flat) as media:
            count = sum(1 for _ in media.iter_frames(decode=True))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 360
    assert peak < 4 * MAX_BATCH_BYTES < flat.stat().st_size, f"peak {peak} bytes"


def test_a_body_read_from_memory_decodes_as_the_file() -> None:
    """from_file of a file object (BytesIO) decodes as from_file of its path."""
    with MediaStream.from_file(io.BytesIO(SAMPLE.read_bytes())) as media:
        from_memory = digests(media.iter_frames(decode=True))
    with MediaStream.from_file(SAMPLE) as media:
        decoded = media.iter_frames(decode=True)
        assert isinstance(decoded, DecodedFrames)
        assert digests(decoded) == from_memory
