"""AAC and Opus tracks decoded with PyAV (FFmpeg), to s16le: the ``decode`` extra.

One FFmpeg decoder per track, opened with the track's CodecPrivate (an
AudioSpecificConfig, an OpusHead); each block goes in as one packet, and
what comes out is converted to packed signed 16-bit by PyAV's
AudioResampler, as ``ffmpeg -f s16le`` converts it. Bytes the decoder
refuses are a MediaParseError naming the track: a track labelled AAC that
holds something else must not turn into noise. PyAV is imported here only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from kvarchive._errors import MediaParseError
from kvarchive._extras import install_hint
from kvarchive._matroska.tracks import TrackEntry

if TYPE_CHECKING:
    from av.audio.codeccontext import AudioCodecContext
    from av.audio.frame import AudioFrame
    from av.audio.resampler import AudioResampler

__all__ = ["CompressedDecoder", "require_av"]


def require_av() -> None:
    """Import PyAV, or raise an ImportError that says how to install it."""
    try:
        import av  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"decoding AAC and Opus audio needs PyAV: {install_hint('decode')}"
        ) from exc


class CompressedDecoder:
    """One track's FFmpeg audio decoder and the resampler to packed s16 at its own rate."""

    def __init__(self, entry: TrackEntry, name: str) -> None:
        require_av()
        import av

        self._track = entry.number
        self._codec = entry.codec_id
        context = cast("AudioCodecContext", av.CodecContext.create(name, "r"))
        if entry.codec_private:
            context.extradata = entry.codec_private
        if entry.sample_rate:
            context.sample_rate = round(entry.sample_rate)
        self._context = context
        self._resampler: AudioResampler | None = None
        self.sample_rate = round(entry.sample_rate or 0)
        self.channels = entry.channels or 0

    def decode(self, data: bytes) -> bytes:
        """The samples of one block, s16le interleaved (b"" while the decoder fills up)."""
        import av

        try:
            frames = self._context.decode(av.Packet(data))
            return b"".join(self._convert(frame) for frame in frames)
        except av.FFmpegError as exc:
            raise MediaParseError(
                f"track {self._track}: its {self._codec} blocks do not decode ({exc}); a track "
                "labelled AAC may hold other audio that a MimeType tag would name"
            ) from exc

    def _convert(self, frame: AudioFrame) -> bytes:
        import av

        if self._resampler is None:
            self.sample_rate, self.channels = frame.sample_rate, frame.layout.nb_channels
            self._resampler = av.AudioResampler(
                format="s16", layout=frame.layout, rate=frame.sample_rate
            )
        elif (frame.sample_rate, frame.layout.nb_channels) != (self.sample_rate, self.channels):
            raise MediaParseError(
                f"track {self._track}: its audio changes from {self.sample_rate} Hz, "
                f"{self.channels} channel(s) to {frame.sample_rate} Hz, "
                f"{frame.layout.nb_channels} channel(s)"
            )
        out: list[memoryview] = []
        for converted in self._resampler.resample(frame):
            size = converted.samples * self.channels * 2
            out.append(memoryview(converted.planes[0])[:size])  # one copy, in the join
        return b"".join(out)
