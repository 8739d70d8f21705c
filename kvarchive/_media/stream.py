"""``MediaStream``: a media body presented as a standard, read-only file object."""

from __future__ import annotations

import io
from collections import deque
from collections.abc import Iterator
from datetime import timedelta
from typing import Any, Callable, Literal, Optional, TypeVar, Union, overload

from kvarchive._audio.models import AudioChunk
from kvarchive._audio.reader import AudioReader, TracksArg, TrackSpec, audio_chunks, check_tracks
from kvarchive._aws.translate import read_failure
from kvarchive._decode.decoding import DecodedFrames
from kvarchive._errors import KVArchiveError, MediaParseError, UsageError, ValidationError
from kvarchive._matroska.fragment_info import FragmentInfo
from kvarchive._matroska.frame import TagGroup
from kvarchive._matroska.frames import (
    Frame,
    iter_frames,
    iter_media_items,
    iter_tracks_and_frames,
    read_frames,
    read_media_items,
    read_tracks_and_frames,
)
from kvarchive._matroska.tracks import Tracks
from kvarchive._media.file_body import FileBody, FileLike
from kvarchive._media.resume import FragmentListBody
from kvarchive._media.scanned import Collected, ScannedBody, fragment_error
from kvarchive._models import MediaFragment
from kvarchive._types import Body

__all__ = ["MediaStream"]

_Item = TypeVar("_Item")
# Audio fragments are small (Connect's: 32 KB a second): reads of this size keep a
# few of them in memory, not the 30 that a read of 1 MiB brings in at once.
_AUDIO_READ = 64 << 10


class MediaStream(io.RawIOBase):
    """One media body (MKV or MP4), streamed: never held whole in memory.

    A context manager; ``read``/``readinto`` as any raw file, ``iter_chunks``
    for convenience, and for MKV bodies ``iter_fragments``/``iter_frames``.
    Not seekable. ``from_file`` reads a local Matroska file the same way.
    """

    def __init__(
        self,
        body: Body,
        content_type: Optional[str],
        *,
        description: str = "",
        fragments: Optional[ScannedBody] = None,
    ) -> None:
        super().__init__()
        self._body: Optional[Body] = body
        self._content_type = content_type
        self._description = description
        self._fragments = fragments
        self._position = 0

    @classmethod
    def for_fragments(
        cls,
        numbers: list[str],
        open_batch: Callable[[list[str]], tuple[Body, str]],
        *,
        batch_size: int,
        max_stalls: int = 3,
    ) -> MediaStream:
        """The media of ``numbers``, requested ``batch_size`` at a time, resumed after drops.

        The first batch is requested now, so that errors such as an unknown
        stream surface at the call.
        """
        body = FragmentListBody(numbers, open_batch, batch_size=batch_size, max_stalls=max_stalls)
        return cls(
            body,
            body.content_type,
            description=f"GetMediaForFragmentList of {len(numbers)} fragment(s)",
            fragments=body,
        )

    @classmethod
    def from_file(cls, file: FileLike) -> MediaStream:
        """A local Matroska file, read as a media body.

        ``file`` is a path (opened now, closed with the stream) or a binary
        file object (read from where it stands, left open). Any Matroska file
        works: a saved GetMedia or GetMediaForFragmentList body, a
        ``download()`` recording, a file written by the KVS producer SDK,
        GStreamer or ffmpeg. Its fragments are its Matroska documents; those
        without the service's tags have None for number and timestamps. A file
        cut short raises MediaIncompleteError once its whole fragments are read
        (a cut between two elements of a Segment of unknown size looks like a
        shorter file: nothing in Matroska tells them apart). A file that cannot
        seek (a pipe) places frames only by tags before their first Cluster.
        """
        body = FileBody.open(file)
        return cls(body, "video/x-matroska", description=f"file {body.name}", fragments=body)

    @property
    def content_type(self) -> Optional[str]:
        """The body's MIME type, e.g. ``video/webm`` or ``video/mp4``."""
        return self._content_type

    @property
    def position(self) -> int:
        """How many bytes have been read so far."""
        return self._position

    def readable(self) -> bool:
        """Always True: a MediaStream is for reading."""
        return True

    def seekable(self) -> bool:
        """Always False: the service offers no byte ranges."""
        return False

    def read(self, size: Optional[int] = -1) -> bytes:
        """Up to ``size`` bytes (all that is left if negative); ``b""`` at the end."""
        self._check_open()
        if size is None or size < 0:
            return self.readall()
        if self._body is None:
            return b""
        try:
            data = self._body.read(size)
        except Exception as exc:
            error = read_failure(exc, self._description, self._position)
            if error is None:
                raise
            raise error from exc
        self._position += len(data)
        return data

    def readall(self) -> bytes:
        """Everything left. Holds the whole rest in memory: prefer ``iter_chunks``."""
        return b"".join(self.iter_chunks())

    def readinto(self, buffer: Any) -> int:
        """Read into a writable buffer; returns the count (0 at the end)."""
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def iter_chunks(self, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """Yield the rest of the body in chunks of at most ``chunk_size`` bytes."""
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        while True:
            data = self.read(chunk_size)
            if not data:
                return
            yield data

    def iter_fragments(self, chunk_size: int = 1 << 20) -> Iterator[MediaFragment]:
        """Yield each fragment of an MKV body with its tags, one fragment in memory at a time.

        A fragment is one Matroska document (EBML header and Segment): one KVS
        fragment in a body from the service, but the whole file for a
        recording or a producer's file, which is then held whole; read such
        files with ``iter_frames`` or ``iter_chunks``. Must start at a fragment
        boundary (before any read, or after a whole fragment). An error chunk
        from the service raises its ServiceError.
        """
        source = self._fragment_source()
        collected: Collected = deque()
        source.collected = collected
        pieces = _Pieces(self._position)

        def read_whole() -> Iterator[MediaFragment]:
            """The fragments found whose bytes have all been read."""
            while collected and collected[0][0].end <= self._position:
                info, requested = collected.popleft()
                data = pieces.take(info.start, info.end)
                yield _media_fragment(info, requested, data, service=source.service)

        try:
            while True:
                try:
                    chunk = self.read(chunk_size)
                except KVArchiveError:
                    yield from read_whole()  # the fragments before a failure still come first
                    raise
                pieces.append(chunk)
                yield from read_whole()
                if not chunk:
                    return
        finally:
            source.collected = None

    @overload
    def iter_frames(
        self, chunk_size: int = ..., *, decode: Literal[False] = ...
    ) -> Iterator[Frame]: ...

    @overload
    def iter_frames(
        self,
        chunk_size: int = ...,
        *,
        decode: Literal[True],
        every: Optional[timedelta] = ...,
        keyframes_only: bool = ...,
        threads: int = ...,
    ) -> DecodedFrames: ...

    def iter_frames(
        self,
        chunk_size: int = 1 << 20,
        *,
        decode: bool = False,
        every: Optional[timedelta] = None,
        keyframes_only: bool = False,
        threads: int = 0,
    ) -> Union[Iterator[Frame], DecodedFrames]:
        """Every frame of an MKV body: track, times, keyframe flag and payload; or decoded.

        The frames are exactly those of each fragment of ``iter_fragments``, in
        order. A body from the service is read a fragment at a time (and
        checked as ``iter_fragments`` checks it); a file streams, holding one
        frame at a time, so a file cut short yields every whole frame before
        its MediaIncompleteError.

        With ``decode=True``: the video frames decoded to RGB pictures
        (``DecodedFrame``), with PyAV (``pip install "kvarchive[decode]"``), a GOP
        in memory at a time. ``every=timedelta(...)`` keeps the first frame of
        each interval (from the epoch), ``keyframes_only`` only keyframes, and each decodes only the
        frames it needs; ``threads`` is FFmpeg's thread count (0: its choice).
        Bad arguments, a missing extra and misuse raise at the call.
        """
        if not decode:
            if every is not None or keyframes_only or threads:
                raise ValidationError("every, keyframes_only and threads need decode=True")
            return self._read_frames(chunk_size, read_frames, iter_frames)
        frames = DecodedFrames(
            self._read_frames(chunk_size, read_tracks_and_frames, iter_tracks_and_frames),
            every=every,
            keyframes_only=keyframes_only,
            threads=threads,
        )
        self._fragment_source()
        return frames

    def iter_audio(
        self, *, tracks: TracksArg = None, chunk_size: int = _AUDIO_READ
    ) -> Iterator[AudioChunk]:
        """Every block of the chosen audio tracks, decoded to s16le (see ``AudioChunk``).

        ``tracks`` names them (Matroska Name or number; None: every audio track, in
        track-number order). PCM and G.711 need nothing more; AAC and Opus need
        PyAV (``pip install kvarchive[decode]``). A ``MimeType`` tag (Amazon
        Connect's raw PCM labelled ``A_AAC``) wins over the CodecID. An unknown
        track, or a first fragment without audio, is a ValidationError naming
        the tracks there are; a track whose bytes cannot be what it claims is a
        MediaParseError naming it.
        """
        chosen = check_tracks(tracks)
        self._fragment_source()
        return audio_chunks(self._media_items(chunk_size), chosen)

    def _audio_reader(self, tracks: Optional[tuple[TrackSpec, ...]]) -> AudioReader:
        """The chunks of checked ``tracks`` and their formats, for ``download_audio``."""
        self._fragment_source()
        return AudioReader(self._media_items(_AUDIO_READ), tracks)

    def _media_items(self, chunk_size: int) -> Iterator[Union[Tracks, Frame, TagGroup]]:
        return self._read_frames(chunk_size, read_media_items, iter_media_items)

    def _read_frames(
        self,
        chunk_size: int,
        stream: Callable[..., Iterator[_Item]],
        memory: Callable[..., Iterator[_Item]],
    ) -> Iterator[_Item]:
        """What the frame reader ``stream`` gives of a file, or ``memory`` of each fragment."""
        source = self._fragment_source()
        start = self._position
        if not source.service:
            chunks = self.iter_chunks(chunk_size)
            yield from stream(chunks, start=start, read_at=source.read_at)
            return
        for fragment in self.iter_fragments(chunk_size):
            yield from memory(fragment.data, start=start)
            start += len(fragment.data)

    def close(self) -> None:
        """Release the connection; safe to call more than once."""
        if not self.closed:
            body, self._body = self._body, None
            if body is not None:
                body.close()
        super().close()

    def __enter__(self) -> MediaStream:
        self._check_open()
        return self

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"at byte {self._position}"
        return f"<MediaStream {self._description} {self._content_type} {state}>"

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed MediaStream")

    def _fragment_source(self) -> ScannedBody:
        self._check_open()
        if self._fragments is None:
            raise UsageError(
                f"iter_fragments and iter_frames need a Matroska body (GetMediaForFragmentList "
                f"or a file), not {self._description} ({self._content_type})"
            )
        if self._position != self._fragments.fragment_base:
            raise UsageError(
                "iter_fragments must start at a fragment boundary: "
                f"{self._position - self._fragments.fragment_base} bytes of a fragment "
                "were already read"
            )
        return self._fragments


class _Pieces:
    """The bytes read but not yet handed out, as the chunks they came in (no copying)."""

    def __init__(self, offset: int) -> None:
        self._chunks: deque[memoryview] = deque()
        self._offset = offset  # body offset of the first byte held

    def append(self, chunk: bytes) -> None:
        if chunk:
            self._chunks.append(memoryview(chunk))

    def take(self, start: int, end: int) -> bytes:
        """Hand out body bytes ``[start, end)`` (one copy) and forget everything before ``end``."""
        skip, wanted, parts = start - self._offset, end - start, []
        while wanted:
            chunk = self._chunks[0]
            part = chunk[skip : skip + wanted]
            parts.append(part)
            wanted -= len(part)
            if skip + len(part) == len(chunk):
                self._chunks.popleft()
            else:
                self._chunks[0] = chunk[skip + len(part) :]
            skip = 0
        self._offset = end
        return parts[0].tobytes() if len(parts) == 1 else b"".join(parts)


def _media_fragment(
    info: FragmentInfo, requested: Optional[str], data: bytes, *, service: bool
) -> MediaFragment:
    """The public model of one parsed fragment; error chunks raise their error.

    A fragment from the service must carry its timestamps; a file's need not.
    """
    number = info.number or requested
    error = fragment_error(info, requested)
    if error is not None:
        raise error
    server, producer = info.server_timestamp, info.producer_timestamp
    if service and (server is None or producer is None):
        raise MediaParseError(
            f"fragment {number} has no readable server or producer timestamp tag", info.start
        )
    return MediaFragment(
        number=number,
        server_timestamp=server,
        producer_timestamp=producer,
        data=data,
        tags=info.tags,
        tag_list=info.tag_list,
    )
