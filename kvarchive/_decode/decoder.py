"""Decoding a stream's video frames to RGB arrays with PyAV (FFmpeg's decoders).

:class:`StreamDecoder` takes a stream one fragment at a time (its track list
and its frames) and yields :class:`DecodedFrame`\\ s in presentation order.
Each video track gets one FFmpeg decoder, opened with the CodecPrivate of the
track list (avcC for H.264, hvcC for H.265); a fragment whose track list
brings other codec private data (a new SPS/PPS) reopens that decoder after
draining it, and nothing else. Each frame is sent as one packet whose
presentation timestamp is a serial number, so a picture that comes out of the
decoder (reordered, for B-frames) is matched with the frame it came from.
``kvarchive._decode.sampling`` decides which frames to keep and which to decode.

``kvarchive._decode.decoding`` feeds it a media body's frames. PyAV and numpy
are imported only here, and only when asked to decode (the ``decode`` extra).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Optional, cast

from kvarchive._decode.decoded_frame import DecodedFrame
from kvarchive._decode.sampling import FramePlanner, Run
from kvarchive._errors import KVArchiveError, MediaParseError
from kvarchive._extras import require
from kvarchive._matroska.frames import Frame
from kvarchive._matroska.tracks import TrackEntry

if TYPE_CHECKING:
    import numpy
    from av.packet import Packet
    from av.video.codeccontext import VideoCodecContext
    from av.video.frame import VideoFrame
    from av.video.reformatter import VideoReformatter
    from numpy.typing import NDArray

__all__ = ["StreamDecoder", "require_decoder"]

# FFmpeg's AVColorSpace of a picture to swscale's SWS_CS_* matrix (ITU-R BT.601 otherwise).
_MATRICES = {1: 1, 4: 4, 5: 5, 6: 5, 7: 7, 9: 9, 10: 9}
_BT601, _BT709 = 5, 1
_FULL_RANGE, _LIMITED_RANGE = 2, 1  # AVColorRange: JPEG, MPEG

# Matroska CodecID to FFmpeg decoder name.
_DECODERS: dict[str, Literal["h264", "hevc"]] = {
    "V_MPEG4/ISO/AVC": "h264",
    "V_MPEGH/ISO/HEVC": "hevc",
}


def require_decoder() -> None:
    """Import PyAV and numpy, or raise an ImportError that says how to install them."""
    require("decode", "decoding frames needs PyAV and numpy", "av", "numpy")


class _TrackDecoder:
    """One FFmpeg decoder for one video track, opened with the track's codec private data."""

    def __init__(self, entry: TrackEntry, threads: int) -> None:
        import av
        from av.video.reformatter import VideoReformatter

        name = _DECODERS.get(entry.codec_id)
        if name is None:
            raise KVArchiveError(
                f"cannot decode track {entry.number}: codec {entry.codec_id or 'unknown'!r} "
                f"(kvarchive decodes {', '.join(sorted(_DECODERS))})"
            )
        if entry.content_encoded:
            raise KVArchiveError(
                f"cannot decode track {entry.number}: its frames are compressed or "
                "encrypted (Matroska ContentEncodings)"
            )
        self.entry = entry
        self.sent = 0
        self._context: VideoCodecContext = av.CodecContext.create(name, "r")
        if entry.codec_private:
            self._context.extradata = entry.codec_private
        self._context.thread_type = "AUTO"
        self._context.thread_count = threads
        self._rgb: VideoReformatter = VideoReformatter()
        self._packet = av.Packet
        self._error: type[Exception] = av.FFmpegError
        self._serial = 0
        # Serial of each kept frame sent and not out yet: its time and keyframe flag.
        self._waiting: dict[int, tuple[datetime, bool]] = {}

    def opened_for(self, entry: TrackEntry) -> bool:
        """Whether this decoder suits ``entry`` (same codec and codec private data)."""
        return (entry.codec_id, entry.codec_private) == (
            self.entry.codec_id,
            self.entry.codec_private,
        )

    def run(self, runs: Iterable[Run]) -> Iterator[DecodedFrame]:
        """Decode runs of frames (each after starting afresh if it says so)."""
        for run in runs:
            if run.restart:
                yield from self._restart()
            for frame, kept in run.frames:
                yield from self._send(frame, kept)

    def _restart(self) -> Iterator[DecodedFrame]:
        """Drain the frames still inside (if any is kept), then forget every reference."""
        if self._waiting:
            yield from self.drain()
        self._context.flush_buffers()

    def drain(self) -> Iterator[DecodedFrame]:
        """Send the end of the stream: every frame still inside comes out."""
        yield from self._decode(None, None)
        self._waiting.clear()

    def _send(self, frame: Frame, kept: bool) -> Iterator[DecodedFrame]:
        if frame.laced:
            raise MediaParseError(f"a laced video block in track {frame.track}")
        packet = self._packet(frame.data)
        packet.pts = self._serial
        if kept:
            self._waiting[self._serial] = (frame.utc_time, frame.keyframe)
        self._serial += 1
        self.sent += 1
        yield from self._decode(packet, frame)

    def _decode(
        self, packet: Optional[Packet[Any]], frame: Optional[Frame]
    ) -> Iterator[DecodedFrame]:
        try:
            pictures = self._context.decode(packet)
        except self._error as exc:
            where = "at the end of the stream" if frame is None else f"near {frame.utc_time}"
            raise KVArchiveError(
                f"decoding track {self.entry.number} failed {where}: {exc}"
            ) from exc
        for picture in pictures:
            decoded = self._decoded(picture)
            if decoded is not None:
                yield decoded

    def _decoded(self, picture: VideoFrame) -> Optional[DecodedFrame]:
        """The DecodedFrame of a kept picture; None for a picture decoded only as a reference."""
        serial = picture.pts
        waiting = None if serial is None else self._waiting.pop(serial, None)
        if serial is None or waiting is None:
            return None
        utc_time, keyframe = waiting
        if keyframe:
            # Every picture sent before a keyframe comes out before it: those still
            # waiting were dropped by the decoder (it had no reference for them).
            for stale in [s for s in self._waiting if s < serial]:
                del self._waiting[stale]
        return DecodedFrame(self.entry.number, utc_time, keyframe, self._to_rgb(picture))

    def _to_rgb(self, picture: VideoFrame) -> NDArray[numpy.uint8]:
        """The picture as RGB, converted with its own matrix and range (BT.709, full range).

        Said explicitly: PyAV up to 16 converts with BT.601 unless told, and is
        told only when the source's and destination's colorspace or range
        differ (the destination's matter not for RGB, so one is made to).
        """
        matrix = _MATRICES.get(picture.colorspace, _BT601)
        full = picture.color_range == _FULL_RANGE or picture.format.name.startswith("yuvj")
        rgb = self._rgb.reformat(
            picture,
            format="rgb24",
            src_colorspace=matrix,
            dst_colorspace=_BT709 if matrix != _BT709 else _BT601,
            src_color_range=_FULL_RANGE if full else _LIMITED_RANGE,
            dst_color_range=_FULL_RANGE,
        )
        return cast("NDArray[numpy.uint8]", rgb.to_ndarray())


class StreamDecoder:
    """Decodes the video tracks of a stream, fed one fragment at a time.

    ``every`` and ``keyframes_only`` choose the frames to keep (see
    ``kvarchive._decode.sampling``); only those are converted to RGB and yielded, and
    only the frames they need are decoded. ``threads`` is FFmpeg's thread
    count per decoder (0: as many as it sees fit). Call :meth:`finish` after
    the last fragment, so that the frames still inside the decoders come out.
    """

    def __init__(
        self, *, every: Optional[timedelta] = None, keyframes_only: bool = False, threads: int = 0
    ) -> None:
        require_decoder()
        self._every = every
        self._keyframes_only = keyframes_only
        self._threads = threads
        self._decoders: dict[int, _TrackDecoder] = {}
        self._planners: dict[int, FramePlanner] = {}
        self._tracks: dict[int, TrackEntry] = {}
        self._retired_sent = 0
        self.decoders_opened = 0
        """How many decoders were opened: one per video track, and one per change of codec."""

    @property
    def frames_decoded(self) -> int:
        """How many frames have been sent to decoders so far (kept or not)."""
        return self._retired_sent + sum(d.sent for d in self._decoders.values())

    def decode(
        self, tracks: Sequence[TrackEntry], frames: Iterable[Frame]
    ) -> Iterator[DecodedFrame]:
        """Decode one fragment: its track list (empty: the last one still holds) and frames."""
        for entry in tracks:
            self._tracks[entry.number] = entry
        by_track: dict[int, list[Frame]] = {}
        for frame in frames:
            track = self._tracks.get(frame.track)
            if track is None:
                raise MediaParseError(f"a frame of track {frame.track}, which no Tracks describes")
            if track.kind == "video":
                by_track.setdefault(frame.track, []).append(frame)
        for number, track_frames in by_track.items():
            yield from self._decode_track(self._tracks[number], track_frames)

    def finish(self) -> Iterator[DecodedFrame]:
        """Drain every decoder: the last frames of the stream come out."""
        for number in list(self._decoders):
            yield from self._close(number)

    def _decode_track(self, entry: TrackEntry, frames: list[Frame]) -> Iterator[DecodedFrame]:
        planner = self._planners.get(entry.number)
        if planner is None:
            planner = FramePlanner(every=self._every, keyframes_only=self._keyframes_only)
            self._planners[entry.number] = planner
        decoder = self._decoders.get(entry.number)
        if decoder is not None and not decoder.opened_for(entry):
            yield from self._close(entry.number)
            decoder = None
        if decoder is None:
            decoder = self._decoders[entry.number] = _TrackDecoder(entry, self._threads)
            self.decoders_opened += 1
        yield from decoder.run(planner.plan(frames))

    def _close(self, number: int) -> Iterator[DecodedFrame]:
        """Drain the track's decoder and drop it (its planner goes on with the next one)."""
        decoder = self._decoders[number]
        self._planners[number].reset()
        yield from decoder.drain()
        del self._decoders[number]
        self._retired_sent += decoder.sent
