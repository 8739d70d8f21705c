"""``DecodedFrames``: a body's video frames decoded as they stream (``iter_frames(decode=True)``).

The Matroska reader gives each document's track list, then its frames; they
go to :class:`~kvarchive._decode.decoder.StreamDecoder` in batches that end
where a video keyframe or a new document begins, so a batch is one GOP, as a
fragment from the service is (each starts with a keyframe), and a one-document
recording of gigabytes is held a GOP at a time, not whole. A GOP longer than
``MAX_BATCH_BYTES`` is cut there too (before a frame shown after all the
batch's, so that batches follow each other in time), so that memory stays
bounded whatever the producer's keyframe interval. Frames of other tracks than video are dropped
before they are held.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Iterator
from datetime import timedelta
from typing import Optional, Union

from kvarchive._decode.decoded_frame import DecodedFrame
from kvarchive._decode.decoder import StreamDecoder
from kvarchive._errors import ValidationError
from kvarchive._matroska.frames import Frame
from kvarchive._matroska.tracks import Tracks

__all__ = ["MAX_BATCH_BYTES", "DecodedFrames"]

MAX_BATCH_BYTES = 8 << 20
"""Frame bytes past which a GOP is cut, to be handed to the decoder in pieces (each piece is at
most about twice this)."""


def check_options(every: Optional[timedelta], keyframes_only: bool, threads: int) -> None:
    """ValidationError for an ``every``, ``keyframes_only`` or ``threads`` that cannot be."""
    if every is not None and (
        not isinstance(every, timedelta) or every < timedelta(microseconds=1)
    ):
        raise ValidationError(f"every must be a positive timedelta, not {every!r}")
    if not isinstance(keyframes_only, bool):
        raise ValidationError(f"keyframes_only must be True or False, not {keyframes_only!r}")
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
        raise ValidationError(f"threads must be 0 (automatic) or more, not {threads!r}")


class DecodedFrames:
    """The decoded video frames of a media body: an iterator of DecodedFrame.

    Each track's frames come in presentation order. ``frames_decoded`` counts
    the frames given to FFmpeg so far, kept or not: with ``every`` or
    ``keyframes_only``, what the sampling cost. ``close()`` stops reading.
    """

    def __init__(
        self,
        frames: Iterable[Union[Tracks, Frame]],
        *,
        every: Optional[timedelta] = None,
        keyframes_only: bool = False,
        threads: int = 0,
    ) -> None:
        check_options(every, keyframes_only, threads)
        self._decoder = StreamDecoder(every=every, keyframes_only=keyframes_only, threads=threads)
        self._pictures = _decode(frames, self._decoder)

    @property
    def frames_decoded(self) -> int:
        """How many frames were given to the decoder so far (kept or not)."""
        return self._decoder.frames_decoded

    def __iter__(self) -> DecodedFrames:
        return self

    def __next__(self) -> DecodedFrame:
        return next(self._pictures)

    def close(self) -> None:
        """Stop: the rest of the body is not read (safe to call more than once)."""
        self._pictures.close()

    def __repr__(self) -> str:
        return f"<DecodedFrames frames_decoded={self.frames_decoded}>"


def _decode(
    frames: Iterable[Union[Tracks, Frame]], decoder: StreamDecoder
) -> Generator[DecodedFrame, None, None]:
    for tracks, batch in _batches(frames):
        yield from decoder.decode(tracks, batch)
        del batch  # decoded: hold one batch, not this one while the next is read
    yield from decoder.finish()


def _batches(items: Iterable[Union[Tracks, Frame]]) -> Iterator[tuple[Tracks, list[Frame]]]:
    """The frames in batches, each with the track list that begins before it (or ``()``)."""
    tracks: Tracks = ()  # the track list still to hand over, with the next batch
    batch: list[Frame] = []
    size = 0
    latest = 0  # the latest time shown in the batch (ns)
    video: frozenset[int] = frozenset()
    other: frozenset[int] = frozenset()  # tracks declared, not video: never decoded
    for item in items:
        if isinstance(item, Frame):
            if item.track in other:
                continue
            if batch and ((item.keyframe and item.track in video) or _full(size, item, latest)):
                yield tracks, batch
                tracks, batch, size = (), [], 0
            latest = max(latest, item.time_ns) if batch else item.time_ns
            batch.append(item)
            size += len(item.data)
            continue
        if batch:
            yield tracks, batch
            batch, size = [], 0
        if item:  # a document without a track list keeps the last one
            tracks = item
            video = frozenset(entry.number for entry in item if entry.kind == "video")
            other = frozenset(entry.number for entry in item) - video
    if batch:
        yield tracks, batch


def _full(size: int, frame: Frame, latest: int) -> bool:
    """Whether a batch of ``size`` bytes, shown up to ``latest``, ends before ``frame``.

    Past ``MAX_BATCH_BYTES``, it ends before a frame shown after all of its
    own: B-frames stored after a frame are shown before it, and one handed
    over in the next batch could be the first of a window already served.
    At twice that, it ends whatever the times say.
    """
    if size < MAX_BATCH_BYTES:
        return False
    return frame.time_ns > latest or size >= 2 * MAX_BATCH_BYTES
