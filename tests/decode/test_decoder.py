"""Decoded frames: pixel for pixel what an independent FFmpeg gives, on real and made recordings.

The reference is the ``ffmpeg`` command (Debian's build, not PyAV's bundled
FFmpeg) reading the same file with its own Matroska demuxer:
``ffmpeg -i FILE -f rawvideo -pix_fmt rgb24 -``, frame by frame.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
from realdata import REALDATA, SAMPLE

from kvarchive import (
    ArchivedMediaClient,
    DecodedFrame,
    KVArchiveError,
    MediaParseError,
    ValidationError,
)
from kvarchive._decode.decoder import StreamDecoder, decode_fragments
from kvarchive._matroska.frames import Frame, iter_frames
from kvarchive._matroska.scanner import scan_elements
from kvarchive._matroska.tracks import TrackEntry, read_tracks
from kvarchive.testing import Emulator, synthetic_fragment

RECORDINGS = [*sorted(REALDATA.glob("*.mkv")), SAMPLE]

needs_ffmpeg = pytest.mark.skipif(
    shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
    reason="ffmpeg and ffprobe make and check the media here",
)


# -- the independent side: ffmpeg and ffprobe -------------------------------------------


class Probe(NamedTuple):
    codec: str
    width: int
    height: int
    frames: int


def probe(path: Path) -> Probe:
    """ffprobe's codec, size and frame count (``-count_frames``) of the first video stream."""
    out = subprocess.run(
        ["ffprobe", "-v", "quiet", "-select_streams", "v:0", "-count_frames", "-of", "csv=p=0",
         "-show_entries", "stream=codec_name,width,height,nb_read_frames", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    codec, width, height, frames = out.split(",")
    return Probe(codec, int(width), int(height), int(frames))


def ffmpeg_pictures(path: Path) -> Iterator[np.ndarray]:
    """Every picture of the first video stream as ffmpeg decodes it: RGB, one at a time."""
    info = probe(path)
    size = info.width * info.height * 3
    command = ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:v:0",
               "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]  # fmt: skip
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as ffmpeg:
        assert ffmpeg.stdout is not None
        while picture := ffmpeg.stdout.read(size):
            yield np.frombuffer(picture, np.uint8).reshape(info.height, info.width, 3)


def assert_same_pictures(decoded: Iterable[DecodedFrame], reference: Iterable[np.ndarray]) -> int:
    """Each decoded image equals the reference's picture in turn, and the counts agree."""
    count = 0
    references = iter(reference)
    for frame in decoded:
        expected = next(references, None)
        assert expected is not None, f"more frames than the reference ({count})"
        assert frame.image.dtype == np.uint8 and frame.image.shape == expected.shape
        assert np.array_equal(frame.image, expected), f"frame {count} differs"
        count += 1
    assert next(references, None) is None, f"fewer frames than the reference ({count})"
    return count


def encode(out: Path, source: str, *options: str) -> Path:
    """Make a recording with ffmpeg from a lavfi ``source``."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", source, *options, str(out)],
        check=True,
    )
    return out


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


def documents(data: bytes) -> list[bytes]:
    """The Matroska documents (fragments) of a body."""
    return [data[info.start : info.end] for info in scan_elements(data)[1]]


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
    decoded = decode_fragments([path.read_bytes()])
    assert assert_same_pictures(decoded, ffmpeg_pictures(path)) == info.frames


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: p.name)
def test_decoded_frames_carry_their_source_frames_time_and_flag(path: Path) -> None:
    """Times are the video frames' Frame.utc_time in presentation order; flags follow them."""
    data = path.read_bytes()
    sources = sorted(video_frames(documents(data)), key=lambda f: f.time_ns)
    decoded = list(decode_fragments(documents(data)))
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
    decoded = decode_fragments([path.read_bytes()])
    assert assert_same_pictures(decoded, ffmpeg_pictures(path)) == 10


@needs_ffmpeg
def test_emulator_stream_over_http_decodes_like_the_sample(
    kv: ArchivedMediaClient, emulator: Emulator
) -> None:
    """GetMediaForFragmentList of the sample stream decodes to the sample's every picture."""
    stream = emulator.add_sample_stream("demo")
    numbers = [fragment.number for fragment in stream.fragments]
    with kv.get_media_for_fragment_list(stream_name="demo", fragments=numbers) as media:
        decoded = list(decode_fragments(fragment.data for fragment in media.iter_fragments()))
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
    decoded = list(decode_fragments([bframes.read_bytes()]))
    assert [d.utc_time for d in decoded] == sorted(f.utc_time for f in frames)
    assert assert_same_pictures(decoded, ffmpeg_pictures(bframes)) == 300


@needs_ffmpeg
def test_last_fragment_frames_are_not_lost(bframes: Path) -> None:
    """Fed as 2 s fragments, the decode ends with the last frame of the last fragment."""
    fragments = split(bframes, 2)
    assert len(fragments) == 5
    decoded = list(decode_fragments(fragments))
    assert len(decoded) == 300
    assert decoded[-1].utc_time == max(f.utc_time for f in video_frames(fragments[-1:]))


@needs_ffmpeg
def test_a_stream_that_starts_inside_a_gop_gives_frames_from_its_first_keyframe(
    bframes: Path,
) -> None:
    """Frames before the first keyframe have no reference: none comes out, the rest are right."""
    data = bframes.read_bytes()
    full = digests(decode_fragments([data]))
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
    decoded = decode_fragments(split(path, 1))
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
    full = digests(decode_fragments(two_encodes.fragments))
    assert all(full[time] == digest for time, digest in digests(kept).items())


# -- sampling ---------------------------------------------------------------------------


def needed_frames(frames: Sequence[Frame], kept: set[datetime]) -> int:
    """How many frames a decoder must see for the kept ones: each from its keyframe on."""
    needed: set[int] = set()
    for index, frame in enumerate(frames):
        if frame.utc_time in kept:
            start = max(i for i in range(index + 1) if frames[i].keyframe)
            needed.update(range(start, index + 1))
    return len(needed)


def digests(frames: Iterable[DecodedFrame]) -> dict[datetime, str]:
    return {f.utc_time: hashlib.sha256(f.image.tobytes()).hexdigest() for f in frames}


def sample(fragments: list[bytes], **options: object) -> tuple[list[DecodedFrame], int]:
    """The frames kept with ``options``, and how many frames the decoder was given."""
    decoder = StreamDecoder(**options)  # type: ignore[arg-type]
    kept: list[DecodedFrame] = []
    for data in fragments:
        (info,) = scan_elements(data)[1]
        kept += decoder.decode(read_tracks(info.tracks or b""), iter_frames(data))
    kept += decoder.finish()
    return kept, decoder.frames_decoded


@needs_ffmpeg
def test_every_second_keeps_one_frame_per_second_and_decodes_about_half(bframes: Path) -> None:
    """every=1s: one frame per whole second, as a full decode shows it, from half the work."""
    fragments = split(bframes, 2)
    frames = video_frames(fragments)
    kept, decoded = sample(fragments, every=timedelta(seconds=1))
    seconds = [int(f.utc_time.timestamp()) for f in kept]
    assert seconds == list(range(seconds[0], seconds[0] + len(kept)))
    assert len(kept) in (10, 11)  # 10 s, maybe shifted by the B-frames' delay
    full = digests(decode_fragments(fragments))
    assert all(full[time] == digest for time, digest in digests(kept).items())
    assert decoded == needed_frames(frames, {f.utc_time for f in kept})
    assert decoded <= 0.6 * len(frames)


@needs_ffmpeg
def test_keyframes_only_decodes_keyframes_alone(bframes: Path) -> None:
    """keyframes_only gives each keyframe, as a full decode shows it, decoding nothing else."""
    fragments = split(bframes, 2)
    keys = [f for f in video_frames(fragments) if f.keyframe]
    kept, decoded = sample(fragments, keyframes_only=True)
    assert [f.utc_time for f in kept] == [f.utc_time for f in keys]
    assert decoded == len(keys) == 5 and all(f.keyframe for f in kept)
    full = digests(decode_fragments(fragments))
    assert all(full[time] == digest for time, digest in digests(kept).items())


@needs_ffmpeg
def test_sampling_inside_one_long_fragment(bframes: Path) -> None:
    """A whole file as one fragment: several runs inside it, each restarted, all right."""
    data = bframes.read_bytes()
    kept, decoded = sample([data], every=timedelta(milliseconds=1500))
    assert len(kept) == 7  # windows of 1.5 s over 10 s
    full = digests(decode_fragments([data]))
    assert all(full[time] == digest for time, digest in digests(kept).items())
    assert decoded == needed_frames(video_frames([data]), {f.utc_time for f in kept})


# -- what is refused --------------------------------------------------------------------


@pytest.mark.parametrize("every", [timedelta(0), timedelta(seconds=-1), 1, "1s"])
def test_every_must_be_a_positive_timedelta(every: object) -> None:
    """A zero, negative or non-timedelta interval is a ValidationError at the call."""
    with pytest.raises(ValidationError, match="every"):
        decode_fragments([], every=every)  # type: ignore[arg-type]


def test_threads_must_not_be_negative() -> None:
    """A negative thread count is a ValidationError at the call."""
    with pytest.raises(ValidationError, match="threads"):
        decode_fragments([], threads=-1)


def test_garbage_frames_raise_a_kvarchive_error() -> None:
    """Frames that are not H.264 (a synthetic fragment's random bytes) raise KVArchiveError."""
    start = datetime.fromisoformat("2026-01-01T00:00:00+00:00")
    fragment = synthetic_fragment("1", start, start, frame_count=5, payload_size=3000)
    with pytest.raises(KVArchiveError, match="decoding track 1 failed"):
        list(decode_fragments([fragment]))


@needs_ffmpeg
def test_an_unsupported_codec_is_named(tmp_path: Path) -> None:
    """A VP9 track is refused with its CodecID, not decoded wrongly."""
    path = encode(
        tmp_path / "vp9.mkv", "testsrc=size=64x64:rate=5", "-t", "1", "-c:v", "libvpx-vp9"
    )
    with pytest.raises(KVArchiveError, match="V_VP9"):
        list(decode_fragments([path.read_bytes()]))


@needs_ffmpeg
def test_audio_only_gives_no_frames(tmp_path: Path) -> None:
    """Audio tracks are skipped: an audio-only recording yields nothing."""
    path = encode(tmp_path / "tone.mkv", "sine=duration=1", "-c:a", "aac")
    assert list(decode_fragments([path.read_bytes()])) == []


def test_frames_of_an_undeclared_track_or_laced_are_refused() -> None:
    """A frame of a track no Tracks describes, or a laced video block, is MediaParseError."""
    video = TrackEntry(1, "video", "V_MPEG4/ISO/AVC")
    with pytest.raises(MediaParseError, match="track 5"):
        list(StreamDecoder().decode([video], [Frame(5, 0, True, b"")]))
    with pytest.raises(MediaParseError, match="laced"):
        list(StreamDecoder().decode([video], [Frame(1, 0, True, b"\0\0\0\1", laced=True)]))
