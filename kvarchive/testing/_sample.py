"""The bundled real sample: 10 s of H.264 + AAC, served as KVS fragments.

``data/sample.mkv`` (made by ``tests/make_sample.py``) is read once and split
at video keyframes; each piece becomes a fragment in KVS layout with the
stream's own numbers and timestamps. ``data/sample-images.zip`` holds each
keyframe as JPEG and PNG for GetImages.
"""

from __future__ import annotations

import functools
import struct
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

import attrs

from kvarchive._matroska import ids as ebml
from kvarchive._matroska import vint
from kvarchive._matroska.elements import DEFAULT_TIMECODE_SCALE, children, read_uint
from kvarchive.testing._fragments import DocumentSource, StoredFrame
from kvarchive.testing._mkv_writer import Piece, Track, document_pieces
from kvarchive.testing._seeded import mixed_seed, rng
from kvarchive.testing._streams import (
    EmulatedStream,
    FragmentRecord,
    StreamDescription,
    fragment_numbers,
    next_number,
)

__all__ = ["Sample", "SampleFragment", "load_sample", "sample_stream"]

DATA = Path(__file__).resolve().parent / "data"


@attrs.frozen
class SampleFragment:
    """One keyframe-to-keyframe piece of the sample: start (ms from the first keyframe)."""

    offset_ms: int
    duration_ms: int
    frames: tuple[StoredFrame, ...]


@attrs.frozen
class Sample:
    """The parsed sample: tracks (1 video, 2 audio), fragments and keyframe images."""

    tracks: tuple[Track, ...]
    fragments: tuple[SampleFragment, ...]
    images: dict[str, tuple[bytes, ...]] = attrs.field(repr=False)

    @property
    def duration_ms(self) -> int:
        """Length of the whole sample."""
        last = self.fragments[-1]
        return last.offset_ms + last.duration_ms

    @property
    def video_size(self) -> tuple[int, int]:
        """Width and height of the video track."""
        video = self.tracks[0]
        return video.width, video.height


def _uint(data: bytes, start: int, end: int) -> int:
    return read_uint(data, start, end, start)


def _track(data: bytes, start: int, end: int) -> tuple[int, Track]:
    """(number in the file, description) of one TrackEntry."""
    fields: dict[int, tuple[int, int]] = {}
    for element_id, payload, stop in children(data, start, end, 0):
        fields[element_id] = (payload, stop)
    number = _uint(data, *fields[ebml.TRACK_NUMBER])
    private = data[slice(*fields[ebml.CODEC_PRIVATE])]
    if _uint(data, *fields[ebml.TRACK_TYPE]) == 1:
        video = {i: _uint(data, p, s) for i, p, s in children(data, *fields[ebml.VIDEO], 0)}
        track = Track(1, "video", private, video[ebml.PIXEL_WIDTH], video[ebml.PIXEL_HEIGHT])
        return number, track
    audio = {i: (p, s) for i, p, s in children(data, *fields[ebml.AUDIO], 0)}
    raw_rate = data[slice(*audio[ebml.SAMPLING_FREQUENCY])]
    rate = struct.unpack(">f" if len(raw_rate) == 4 else ">d", raw_rate)[0]
    channels = _uint(data, *audio[ebml.CHANNELS]) if ebml.CHANNELS in audio else 1
    return number, Track(2, "audio", private, sample_rate=int(rate), channels=channels)


def _parse(data: bytes) -> tuple[list[Track], list[tuple[int, int, bool, bytes]]]:
    """Tracks, and blocks as (track, time in ms, keyframe, frame data) in file order."""
    segment = next(c for c in children(data, 0, len(data), 0) if c[0] == ebml.SEGMENT)
    scale = DEFAULT_TIMECODE_SCALE
    numbering: dict[int, Track] = {}
    blocks: list[tuple[int, int, bool, bytes]] = []
    for element_id, start, end in children(data, segment[1], segment[2], 0):
        if element_id == ebml.INFO:
            for child, p, s in children(data, start, end, 0):
                if child == ebml.TIMECODE_SCALE:
                    scale = _uint(data, p, s)
        elif element_id == ebml.TRACKS:
            for child, p, s in children(data, start, end, 0):
                if child == ebml.TRACK_ENTRY:
                    number, track = _track(data, p, s)
                    numbering[number] = track
        elif element_id == ebml.CLUSTER:
            cluster_time = 0
            for child, p, s in children(data, start, end, 0):
                if child == ebml.TIMECODE:
                    cluster_time = _uint(data, p, s)
                elif child == ebml.SIMPLE_BLOCK:
                    blocks.append(
                        _block(data, p, s, cluster_time=cluster_time, scale=scale, key=None)
                    )
                elif child == ebml.BLOCK_GROUP:
                    group = {i: (bp, bs) for i, bp, bs in children(data, p, s, 0)}
                    key = ebml.REFERENCE_BLOCK not in group
                    block_start, block_end = group[ebml.BLOCK]
                    blocks.append(
                        _block(
                            data,
                            block_start,
                            block_end,
                            cluster_time=cluster_time,
                            scale=scale,
                            key=key,
                        )
                    )
    tracks = sorted(numbering.values(), key=lambda t: t.number)
    renumbered = [(numbering[t].number, ms, key, frame) for t, ms, key, frame in blocks]
    return tracks, renumbered


def _block(
    data: bytes, start: int, end: int, *, cluster_time: int, scale: int, key: Optional[bool]
) -> tuple[int, int, bool, bytes]:
    track, track_len = vint.read_size(data, start)
    relative = int.from_bytes(data[start + track_len : start + track_len + 2], "big", signed=True)
    flags = data[start + track_len + 2]
    if flags & 0x06:
        raise ValueError("laced blocks are not supported in the sample")
    keyframe = bool(flags & 0x80) if key is None else key
    time_ms = (cluster_time + relative) * scale // 1_000_000
    return track, time_ms, keyframe, data[start + track_len + 3 : end]


@functools.lru_cache(maxsize=1)
def load_sample() -> Sample:
    """The bundled sample, parsed and split at video keyframes (read once)."""
    tracks, blocks = _parse((DATA / "sample.mkv").read_bytes())
    video_times = [ms for track, ms, _, _ in blocks if track == 1]
    keys = [ms for track, ms, key, _ in blocks if track == 1 and key]
    frame_ms = (video_times[-1] - video_times[0]) // max(1, len(video_times) - 1)
    ends = [*keys[1:], video_times[-1] + frame_ms]
    fragments = []
    for start, end in zip(keys, ends):
        # Audio before the first keyframe is dropped: a fragment starts on one.
        frames = tuple(
            StoredFrame(track, ms - start, key, payload)
            for track, ms, key, payload in blocks
            if start <= ms < end
        )
        fragments.append(SampleFragment(start - keys[0], end - start, frames))
    images: dict[str, tuple[bytes, ...]] = {}
    with zipfile.ZipFile(DATA / "sample-images.zip") as archive:
        for fmt in ("JPEG", "PNG"):
            names = sorted(n for n in archive.namelist() if n.startswith(fmt + "/"))
            images[fmt] = tuple(archive.read(n) for n in names)
    return Sample(tuple(tracks), tuple(fragments), images)


@attrs.frozen
class SampleFragmentSource(DocumentSource):
    """A sample fragment dressed with a stream's number and timestamps."""

    number: str
    server_ms: int
    producer_ms: int
    tracks: Sequence[Track]
    stored: tuple[StoredFrame, ...] = attrs.field(repr=False)
    seed: int = 0
    cluster_size_known: bool = False
    trailing_tags: bool = False

    def _pieces(self) -> list[Piece]:
        return document_pieces(
            self.number,
            self.server_ms,
            self.producer_ms,
            self.tracks,
            self.stored,
            seed=self.seed,
            cluster_size_known=self.cluster_size_known,
            trailing_tags=self.trailing_tags,
        )

    def frames(self) -> Sequence[StoredFrame]:
        """The fragment's frames, in cluster order."""
        return self.stored


def sample_stream(
    name: str,
    description: StreamDescription,
    *,
    start_ms: int,
    repeat: int,
    seed: int,
    cluster_size_known: bool,
    trailing_tags: bool,
) -> EmulatedStream:
    """A stream playing the sample ``repeat`` times from ``start_ms`` (server time)."""
    sample = load_sample()
    count = len(sample.fragments)
    numbers = fragment_numbers(count * repeat, seed)
    # One lag for the stream keeps the producer timeline (the media's) continuous.
    lag_ms = rng(seed, 40).randrange(200, 500)

    def record(index: int, number: str) -> FragmentRecord:
        piece = sample.fragments[index % count]
        server_ms = start_ms + (index // count) * sample.duration_ms + piece.offset_ms
        producer_ms = server_ms - lag_ms
        source = SampleFragmentSource(
            number,
            server_ms,
            producer_ms,
            sample.tracks,
            piece.frames,
            mixed_seed(seed, index),
            cluster_size_known,
            trailing_tags,
        )
        return FragmentRecord(
            number, server_ms, producer_ms, piece.duration_ms, source.size, index, source
        )

    def keyframe_image(fragment: FragmentRecord, fmt: str) -> Optional[bytes]:
        stored = sample.images.get(fmt, ())
        return stored[fragment.index % count] if fragment.index % count < len(stored) else None

    return EmulatedStream(
        name,
        description,
        [record(index, number) for index, number in enumerate(numbers)],
        list(sample.tracks),
        image_size=sample.video_size,
        stored_image=keyframe_image,
        next_fragment=lambda last: record(last.index + 1, next_number(last, seed)),
    )
