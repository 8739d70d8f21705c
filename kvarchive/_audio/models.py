"""The audio values kvarchive returns: a block's samples, and what ``download_audio`` wrote."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Optional, Union

import attrs

from kvarchive._extras import install_hint
from kvarchive._links import S3Linked

if TYPE_CHECKING:
    import numpy
    from numpy.typing import NDArray

__all__ = ["AudioChunk", "AudioResult"]


@attrs.frozen
class AudioChunk:
    """The samples of one audio block of one track, decoded.

    ``data`` is signed 16-bit little-endian, channels interleaved; ``utc_time``
    is the block's wall-clock time (as ``Frame.utc_time`` gives it) and
    ``duration`` how long its samples last. ``track_name`` is the track's
    Matroska Name (``AUDIO_FROM_CUSTOMER`` in Amazon Connect's streams), or None.
    """

    track: int
    track_name: Union[str, None]
    utc_time: datetime
    sample_rate: int
    channels: int
    data: bytes = attrs.field(repr=lambda data: f"<{len(data)} bytes>")

    @property
    def samples(self) -> int:
        """How many samples each channel has."""
        return len(self.data) // (2 * self.channels)

    @property
    def duration(self) -> timedelta:
        """How long the samples last (whole microseconds)."""
        return timedelta(microseconds=self.samples * 1_000_000 // self.sample_rate)

    def to_numpy(self) -> NDArray[numpy.int16]:
        """The samples as an int16 array of shape (samples, channels); needs numpy."""
        try:
            import numpy
        except ImportError as exc:
            raise ImportError(f"AudioChunk.to_numpy needs numpy: {install_hint('decode')}") from exc
        return numpy.frombuffer(self.data, dtype="<i2").reshape(-1, self.channels)


@attrs.frozen
class AudioResult(S3Linked):
    """What ``download_audio()`` wrote: one WAV file (a local path or an ``s3://`` URL, see
    ``presigned_url``), a channel per mono track.

    ``tracks`` are the tracks in channel order, by name where they have one
    (else by number); ``duration`` is the length of the file's audio;
    ``fragment_count`` the fragments fetched (0 for a local file, which is read whole);
    ``start`` the time of the first sample. In a notebook it shows an audio player.
    """

    path: Union[str, os.PathLike[str]]
    tracks: tuple[Union[str, int], ...]
    sample_rate: int
    channels: int
    duration: timedelta
    fragment_count: int
    bytes_written: int
    start: Optional[datetime] = None
    _s3: Any = attrs.field(default=None, eq=False, repr=False, kw_only=True)

    def _repr_html_(self) -> str:
        from kvarchive._notebook import audio_html

        return audio_html(self)
