"""Decoded frames: pixel for pixel what an independent FFmpeg gives, on real and made recordings.

The reference is the ``ffmpeg`` command reading the same file (tests/pictures.py).
Recordings cut into fragments are read back as one local file of many
documents, with ``MediaStream.from_file(...).iter_frames(decode=True)``.
"""

from __future__ import annotations

import io
import subprocess
import tempfile
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

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
    probe,
    unaligned_gops,
)
from realdata import REALDATA, SAMPLE

from kvarchive import (
    ArchivedMediaClient,
    DecodedFrame,
    DecodedFrames,
    KVArchiveError,
    MediaParseError,
    MediaStream,
    ValidationError,
)
from kvarchive._decode.decoder import StreamDecoder
from kvarchive._matroska.frames import Frame, iter_frames
from kvarchive._matroska.scanner import scan_elements
from kvarchive._matroska.tracks import TrackEntry, read_tracks
from kvarchive.testing import Emulator, synthetic_fragment

RECORDINGS = [*sorted(REALDATA.glob("*.mkv")), SAMPLE]


def split(path: Path, seconds: float, offset: float = 0.0) -> list[bytes]:
    """The recording cut at keyframes every ``seconds`` into Matroska documents (fragments)."""
    folder = Path(tempfile.mkdtemp(dir=path.parent))
    subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-c", "copy", "-output_ts_offset", str(offset),
         "-f", "segment", "-segment_time", str(seconds), "-segment_format", "matroska",
         str(folder / "%03d.mkv")],
        check=True,
    )  # fmt: skip
    return [part.read_bytes() for part in sorted(folder.iterdir())]


def decode(documents: Iterable[bytes], **options: Any) -> DecodedFrames:
    """The decoded frames of Matroska documents, read as one local file with the public API."""
    media = MediaStream.from_file(io.BytesIO(b"".join(documents)))
    return media.iter_frames(decode=True, **options)


def video_frames(fragments: Iterable[bytes]) -> list[Frame]:
    """The frames of track 1 of each fragment, in stream order."""
    return [frame for data in fragments for frame in iter_frames(data) if frame.track == 1]


def x264(*extra: str) -> list[str]:
    return ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", *extra]


@pytest.fixture(scope="module")
def bframes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """10 s of 320x240 H.264 at 30 fps, 2 s GOPs, three B-frames between references."""
    out = tmp_path_factory.mktemp("bframes") / "bframes.mkv"
    source = "testsrc2=size=320x240:rate=30"
    return encode(out, source, "-t", "10", *x264("-bf", "3", "-g", "60", "-sc_threshold", "0"))


# -- whole decodes ----------------------------------------------------------------------


@needs_ffmpeg
@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: p.name)
def test_recordings_decode_pixel_for_pixel_like_ffmpeg(path: Path) -> None:
    """Every picture of each real recording equals ffmpeg's, and as many as ffprobe counts."""
    info = probe(path)
    assert info.codec == "h264"
    with MediaStream.from_file(path) as media:
        decoded = media.iter_frames(decode=True)
        assert assert_same_pictures(decoded, ffmpeg_pictures(path)) == info.frames


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: p.name)
def test_decoded_frames_carry_their_source_frames_time_and_flag(path: Path) -> None:
    """Times and flags are those iter_frames() gives the file's video frames, in time order."""
    with MediaStream.from_file(path) as media:
        sources = sorted((f for f in media.iter_frames() if f.track == 1), key=lambda f: f.time_ns)
    with MediaStream.from_file(path) as media:
        decoded = list(media.iter_frames(decode=True))
    assert [(d.track, d.utc_time, d.keyframe) for d in decoded] == [
        (f.track, f.utc_time, f.keyframe) for f in sources
    ]


@needs_ffmpeg
@pytest.mark.parametrize(
    "colour",
    [
        ["-pix_fmt", "yuv420p", "-colorspace", "bt709"],
        ["-pix_fmt", "yuvj420p"],
        ["-pix_fmt", "yuvj420p", "-colorspace", "bt709"],
        ["-pix_fmt", "yuv420p", "-color_range", "pc", "-colorspace", "smpte170m"],
    ],
    ids=["bt709-limited", "bt601-full", "bt709-full", "bt601-full-range-flag"],
)
def test_colour_matrix_and_range_are_the_recordings(colour: list[str], tmp_path: Path) -> None:
    """BT.709 and full-range pictures convert to RGB as ffmpeg converts them, not as BT.601."""
    path = encode(tmp_path / "colour.mkv", "testsrc2=size=320x240:rate=10", "-t", "1",
                  "-c:v", "libx264", *colour)  # fmt: skip
    decoded = decode([path.read_bytes()])
    assert assert_same_pictures(decoded, ffmpeg_pictures(path)) == 10


@needs_ffmpeg
def test_emulator_stream_over_http_decodes_like_the_sample(
    kv: ArchivedMediaClient, emulator: Emulator
) -> None:
    """GetMediaForFragmentList of the sample stream decodes to the sample's every picture."""
    stream = emulator.add_sample_stream("demo")
    numbers = [fragment.number for fragment in stream.fragments]
    with kv.get_media_for_fragment_list(stream_name="demo", fragments=numbers) as media:
        decoded = list(media.iter_frames(decode=True))
    assert assert_same_pictures(decoded, ffmpeg_pictures(SAMPLE)) == probe(SAMPLE).frames
    with kv.get_media_for_fragment_list(stream_name="demo", fragments=numbers) as media:
        frames = [frame for frame in media.iter_frames() if frame.track == 1]
    assert [d.utc_time for d in decoded] == sorted(f.utc_time for f in frames)
    assert len(numbers) == 10 and len({d.utc_time for d in decoded}) == 150


@needs_ffmpeg
def test_b_frames_come_out_in_presentation_order(bframes: Path) -> None:
    """With B-frames, stored out of order, pictures come out in time order and match ffmpeg."""
    frames = video_frames([bframes.read_bytes()])
    assert [f.time_ns for f in frames] != sorted(f.time_ns for f in frames)
    decoded = list(decode([bframes.read_bytes()]))
    assert [d.utc_time for d in decoded] == sorted(f.utc_time for f in frames)
    assert assert_same_pictures(decoded, ffmpeg_pictures(bframes)) == 300


@needs_ffmpeg
def test_last_fragment_frames_are_not_lost(bframes: Path) -> None:
    """Fed as 2 s fragments, the decode ends with the last frame of the last fragment."""
    fragments = split(bframes, 2)
    assert len(fragments) == 5
    decoded = list(decode(fragments))
    assert len(decoded) == 300
    assert decoded[-1].utc_time == max(f.utc_time for f in video_frames(fragments[-1:]))


@needs_ffmpeg
def test_a_stream_that_starts_inside_a_gop_gives_frames_from_its_first_keyframe(
    bframes: Path,
) -> None:
    """Frames before the first keyframe have no reference: none comes out, the rest are right."""
    data = bframes.read_bytes()
    full = digests(decode([data]))
    (tracks, frames), *_ = [
        (read_tracks(info.tracks or b""), list(iter_frames(data[info.start : info.end])))
        for info in scan_elements(data)[1]
    ]
    first_key = next(i for i, f in enumerate(frames) if f.keyframe and i > 0)
    for options in ({}, {"every": timedelta(milliseconds=500)}):
        decoder = StreamDecoder(**options)  # type: ignore[arg-type]
        out = [*decoder.decode(tracks, frames[10:]), *decoder.finish()]
        assert out[0].utc_time == frames[first_key].utc_time
        assert all(full[time] == digest for time, digest in digests(out).items())
        if not options:
            assert len(out) == len(frames) - first_key


@needs_ffmpeg
def test_h265_decodes_like_ffmpeg(tmp_path: Path) -> None:
    """An HEVC recording (hvcC codec private data, B-frames) decodes as ffmpeg decodes it."""
    encoders = subprocess.run(
        ["ffmpeg", "-hide_banner", "-encoders"], capture_output=True, text=True, check=True
    )
    if " libx265 " not in encoders.stdout:
        pytest.skip("this ffmpeg has no libx265 encoder to make an H.265 recording with")
    path = encode(
        tmp_path / "hevc.mkv", "testsrc2=size=320x240:rate=25", "-t", "3",
        "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error:bframes=3",
        "-pix_fmt", "yuv420p",
    )  # fmt: skip
    (tracks,) = [read_tracks(info.tracks or b"") for info in scan_elements(path.read_bytes())[1]]
    assert tracks[0].codec_id == "V_MPEGH/ISO/HEVC"
    decoded = decode(split(path, 1))
    assert assert_same_pictures(decoded, ffmpeg_pictures(path)) == probe(path).frames == 75


class TwoEncodes(NamedTuple):
    first: Path
    second: Path
    fragments: list[bytes]


@pytest.fixture(scope="module")
def two_encodes(tmp_path_factory: pytest.TempPathFactory) -> TwoEncodes:
    """5.9 s of 320x240 High (B-frames) then 3 s of 256x144 Baseline from 6 s on, as 2 s and
    1 s fragments."""
    folder = tmp_path_factory.mktemp("two-encodes")
    first = encode(folder / "a.mkv", "testsrc2=size=320x240:rate=30", "-t", "5.9",
                   *x264("-bf", "2", "-g", "60", "-sc_threshold", "0"))  # fmt: skip
    second = encode(folder / "b.mkv", "testsrc=size=256x144:rate=30", "-t", "3",
                    *x264("-profile:v", "baseline", "-g", "30"))  # fmt: skip
    return TwoEncodes(first, second, split(first, 2) + split(second, 1, offset=6))


@needs_ffmpeg
def test_new_codec_private_data_reopens_the_decoder_only(two_encodes: TwoEncodes) -> None:
    """Fragments of two encodes (new SPS/PPS, new size) decode in one stream, the decoder reopened."""
    fragments = two_encodes.fragments
    private = [read_tracks(info.tracks or b"")[0].codec_private
               for f in fragments for info in scan_elements(f)[1]]  # fmt: skip
    assert len(set(private)) == 2 and len(fragments) == 6
    decoder = StreamDecoder()
    decoded: list[DecodedFrame] = []
    for data in fragments:
        (info,) = scan_elements(data)[1]
        decoded += decoder.decode(read_tracks(info.tracks or b""), iter_frames(data))
    decoded += decoder.finish()
    assert decoder.decoders_opened == 2
    assert decoder.frames_decoded == 177 + 90
    reference = [*ffmpeg_pictures(two_encodes.first), *ffmpeg_pictures(two_encodes.second)]
    assert assert_same_pictures(decoded, reference) == 267


@needs_ffmpeg
def test_sampling_goes_on_across_a_new_codec(two_encodes: TwoEncodes) -> None:
    """every=1s across the change of encode: one frame per second, each as a full decode has it."""
    kept, _ = sample(two_encodes.fragments, every=timedelta(seconds=1))
    seconds = [int(f.utc_time.timestamp()) for f in kept]
    assert seconds == list(range(9))
    assert [f.image.shape for f in kept] == [(240, 320, 3)] * 6 + [(144, 256, 3)] * 3
    full = digests(decode(two_encodes.fragments))
    assert all(full[time] == digest for time, digest in digests(kept).items())


# -- sampling ---------------------------------------------------------------------------


def sample(fragments: list[bytes], **options: Any) -> tuple[list[DecodedFrame], int]:
    """The frames kept with ``options``, and how many frames the decoder was given."""
    frames = decode(fragments, **options)
    kept = list(frames)
    return kept, frames.frames_decoded


@needs_ffmpeg
def test_every_second_keeps_one_frame_per_second_decoding_what_they_need(bframes: Path) -> None:
    """every=1s: each second's first frame, as a full decode shows it, decoding just the frames
    from each one's keyframe (here nearly all: B-frames put 2.0 s at a GOP's end)."""
    fragments = split(bframes, 2)
    frames = video_frames(fragments)
    kept, decoded = sample(fragments, every=timedelta(seconds=1))
    seconds = [int(f.utc_time.timestamp()) for f in kept]
    assert seconds == list(range(seconds[0], seconds[0] + len(kept)))
    assert len(kept) in (10, 11)  # 10 s, maybe shifted by the B-frames' delay
    full = digests(decode(fragments))
    assert all(full[time] == digest for time, digest in digests(kept).items())
    assert [f.utc_time for f in kept] == first_per_window(frames, timedelta(seconds=1))
    assert decoded == needed_frames(frames, {f.utc_time for f in kept})


@needs_ffmpeg
def test_every_second_keeps_each_windows_first_frame_on_unaligned_gops(tmp_path: Path) -> None:
    """2 s GOPs at 25 fps, frames at .123 past the second, as 2 s fragments: every=1s keeps the
    first frame of each second (x.003, also at a GOP's end), as ffmpeg decodes it, decoding
    just the frames from each one's keyframe."""
    path = unaligned_gops(tmp_path / "unaligned.mkv")
    fragments = split(path, 2, offset=0.123)
    frames = video_frames(fragments)
    kept, decoded = sample(fragments, every=timedelta(seconds=1))
    times = [frame.utc_time for frame in kept]
    assert times == first_per_window(frames, timedelta(seconds=1))
    assert [t.microsecond for t in times] == [123_000] + [3000] * 10
    assert decoded == needed_frames(frames, set(times))
    pictures = list(ffmpeg_pictures(path))  # in presentation order, as the times sort
    shown = sorted(frame.utc_time for frame in frames)
    assert len(pictures) == len(shown) == 250
    for frame in kept:
        assert np.array_equal(frame.image, pictures[shown.index(frame.utc_time)]), frame.utc_time


@needs_ffmpeg
def test_keyframes_only_decodes_keyframes_alone(bframes: Path) -> None:
    """keyframes_only gives each keyframe, as a full decode shows it, decoding nothing else."""
    fragments = split(bframes, 2)
    keys = [f for f in video_frames(fragments) if f.keyframe]
    kept, decoded = sample(fragments, keyframes_only=True)
    assert [f.utc_time for f in kept] == [f.utc_time for f in keys]
    assert decoded == len(keys) == 5 and all(f.keyframe for f in kept)
    full = digests(decode(fragments))
    assert all(full[time] == digest for time, digest in digests(kept).items())


@needs_ffmpeg
def test_sampling_inside_one_long_fragment(bframes: Path) -> None:
    """A whole file as one fragment: several runs inside it, each restarted, all right."""
    data = bframes.read_bytes()
    kept, decoded = sample([data], every=timedelta(milliseconds=1500))
    assert len(kept) == 7  # windows of 1.5 s over 10 s
    full = digests(decode([data]))
    assert all(full[time] == digest for time, digest in digests(kept).items())
    assert decoded == needed_frames(video_frames([data]), {f.utc_time for f in kept})


# -- what is refused --------------------------------------------------------------------


@pytest.mark.parametrize("every", [timedelta(0), timedelta(seconds=-1), 1, "1s"])
def test_every_must_be_a_positive_timedelta(every: object) -> None:
    """A zero, negative or non-timedelta interval is a ValidationError at the call."""
    with pytest.raises(ValidationError, match="every"):
        decode([], every=every)  # type: ignore[arg-type]


def test_threads_must_not_be_negative() -> None:
    """A negative thread count is a ValidationError at the call."""
    with pytest.raises(ValidationError, match="threads"):
        decode([], threads=-1)


def test_garbage_frames_raise_a_kvarchive_error() -> None:
    """Frames that are not H.264 (a synthetic fragment's random bytes) raise KVArchiveError."""
    start = datetime.fromisoformat("2026-01-01T00:00:00+00:00")
    fragment = synthetic_fragment("1", start, start, frame_count=5, payload_size=3000)
    with pytest.raises(KVArchiveError, match="decoding track 1 failed"):
        list(decode([fragment]))


@needs_ffmpeg
def test_an_unsupported_codec_is_named(tmp_path: Path) -> None:
    """A VP9 track is refused with its CodecID, not decoded wrongly."""
    path = encode(
        tmp_path / "vp9.mkv", "testsrc=size=64x64:rate=5", "-t", "1", "-c:v", "libvpx-vp9"
    )
    with pytest.raises(KVArchiveError, match="V_VP9"):
        list(decode([path.read_bytes()]))


@needs_ffmpeg
def test_audio_only_gives_no_frames(tmp_path: Path) -> None:
    """Audio tracks are skipped: an audio-only recording yields nothing."""
    path = encode(tmp_path / "tone.mkv", "sine=duration=1", "-c:a", "aac")
    assert list(decode([path.read_bytes()])) == []


def test_frames_of_an_undeclared_track_or_laced_are_refused() -> None:
    """A frame of a track no Tracks describes, or a laced video block, is MediaParseError."""
    video = TrackEntry(1, "video", "V_MPEG4/ISO/AVC")
    with pytest.raises(MediaParseError, match="track 5"):
        list(StreamDecoder().decode([video], [Frame(5, 0, True, b"")]))
    with pytest.raises(MediaParseError, match="laced"):
        list(StreamDecoder().decode([video], [Frame(1, 0, True, b"\0\0\0\1", laced=True)]))
