"""A body's audio blocks, decoded: what ``MediaStream.iter_audio`` yields.

:class:`AudioReader` reads the items of the frame reader (each document's
track list, its frames, its Tags elements) and decodes the blocks of the
chosen audio tracks. A track labelled AAC or Opus may be something else that
a ``MimeType`` tag names (Amazon Connect's raw PCM), and that tag comes after
the Cluster: such a track's blocks are held until the Tags after them, a new
document or :data:`HOLD` of media, whichever comes first (one fragment of a
stream), then decoded as the tag, or else the CodecID, says.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import timedelta
from typing import Optional, Union

import attrs

from kvarchive._audio.codecs import COMPRESSED, MIME_TYPE, Decoder, SampleFormat, decoder_for
from kvarchive._audio.codecs import mime_format as read_mime
from kvarchive._audio.models import AudioChunk
from kvarchive._errors import MediaParseError, ValidationError
from kvarchive._matroska.frame import Frame, TagGroup
from kvarchive._matroska.tracks import TrackEntry, Tracks

__all__ = [
    "HOLD",
    "AudioReader",
    "TrackFormat",
    "TrackSpec",
    "TracksArg",
    "audio_chunks",
    "check_tracks",
]

HOLD = timedelta(seconds=10)
"""The most media of a track held while waiting for a MimeType tag."""

_HOLD_NS = HOLD // timedelta(microseconds=1) * 1000

TrackSpec = Union[str, int]
"""A track by Matroska Name or number."""

Item = Union[Tracks, Frame, TagGroup]
TracksArg = Union[TrackSpec, Iterable[TrackSpec], None]
"""What ``tracks=`` takes: one track, several, or None for every audio track."""


def check_tracks(tracks: TracksArg) -> Optional[tuple[TrackSpec, ...]]:
    """``tracks=`` as a tuple of names and numbers (None: every audio track)."""
    if tracks is None:
        return None
    given = (tracks,) if isinstance(tracks, (str, int)) else tracks
    if not isinstance(given, Iterable):
        raise ValidationError(f"tracks must be track names or numbers, not {tracks!r}")
    specs = tuple(given)
    for spec in specs:
        if isinstance(spec, bool) or not isinstance(spec, (str, int)) or not spec:
            raise ValidationError(f"tracks must be track names or numbers, not {spec!r}")
        if isinstance(spec, int) and spec < 1:
            raise ValidationError(f"track numbers start at 1, not {spec}")
    if not specs:
        raise ValidationError("tracks must name at least one track (None: every audio track)")
    if len(set(specs)) != len(specs):
        raise ValidationError(f"tracks names a track twice: {list(specs)}")
    return specs


@attrs.frozen
class TrackFormat:
    """A chosen track of the first document, and what its samples will be."""

    number: int
    name: Optional[str]
    sample_rate: int
    channels: int

    @property
    def label(self) -> TrackSpec:
        """The track's name, or its number when it has none."""
        return self.name or self.number


@attrs.define
class _Track:
    """A chosen track of the document being read."""

    entry: TrackEntry
    decoder: Optional[Decoder] = None
    held: list[Frame] = attrs.field(factory=list)


class AudioReader:
    """Decoded audio blocks of a body's items, and the chosen tracks' formats once known.

    Iterating yields :class:`AudioChunk`\\ s and, once, the list of
    :class:`TrackFormat` of the first document's chosen tracks (before any
    chunk of a track whose format a tag could still change). An unknown
    track, or a first document with no audio, is a ValidationError.
    """

    def __init__(self, items: Iterable[Item], tracks: Optional[Sequence[TrackSpec]]) -> None:
        self._items = items
        self._specs = tracks
        self._chosen: dict[int, _Track] = {}
        self._order: list[int] = []  # the chosen tracks' numbers, in channel order
        self._decoders: dict[tuple[object, ...], Decoder] = {}
        self._mime: Optional[SampleFormat] = None
        self._documents = 0
        self._formats_told = False

    def __iter__(self) -> Iterator[Union[AudioChunk, list[TrackFormat]]]:
        for item in self._items:
            if isinstance(item, Frame):
                track = self._chosen.get(item.track)
                if track is None:
                    continue
                if self._formats_told and track.decoder is not None and not item.laced:
                    # The usual block, once every track is decided: no generators per block.
                    chunk = self._chunk(track, item)
                    if chunk is not None:
                        yield chunk
                    continue
                yield from self._frame(item)
            elif isinstance(item, tuple):
                yield from self._decide(None, document_end=True)
                self._begin(item)
            elif isinstance(item, TagGroup):
                mime = next((read_mime(v) for n, v in item.pairs if n == MIME_TYPE), None)
                self._mime = mime or self._mime
                yield from self._decide(self._mime, document_end=False)
        yield from self._decide(None, document_end=True)

    def _begin(self, tracks: Tracks) -> None:
        """A new document: choose its tracks (checked against the first document's)."""
        audio = [entry for entry in tracks if entry.kind == "audio"]
        self._documents += 1
        self._mime = None
        if self._documents == 1 and not audio:
            raise ValidationError(f"this stream has no audio track ({_describe(tracks)})")
        if self._specs is None:
            chosen = sorted(audio, key=lambda entry: entry.number)
        else:
            chosen = [entry for spec in self._specs if (entry := _find(audio, spec)) is not None]
            missing = [spec for spec in self._specs if _find(audio, spec) is None]
            if missing and self._documents == 1:
                raise ValidationError(
                    f"no audio track {', '.join(map(repr, missing))} in this stream; "
                    f"its audio tracks are {_describe(audio)}"
                )
        self._chosen = {entry.number: _Track(entry) for entry in chosen}
        self._order = [entry.number for entry in chosen]

    def _frame(self, frame: Frame) -> Iterator[Union[AudioChunk, list[TrackFormat]]]:
        track = self._chosen.get(frame.track)
        if track is None:
            return
        if frame.laced:
            raise MediaParseError(
                f"track {frame.track}: laced blocks (several frames in one block), which "
                "kvarchive does not split"
            )
        if track.decoder is None and (
            self._mime is not None or track.entry.codec_id not in COMPRESSED
        ):
            track.decoder = self._decoder(track.entry, self._mime)
        if track.decoder is None:
            track.held.append(frame)
            if len(track.held) > 1 and frame.time_ns - track.held[0].time_ns >= _HOLD_NS:
                yield from self._decide(None, document_end=True)
            return
        yield from self._formats()
        yield from self._chunks(track, [frame])

    def _decide(
        self, mime: Optional[SampleFormat], *, document_end: bool
    ) -> Iterator[Union[AudioChunk, list[TrackFormat]]]:
        """Settle the undecided tracks by ``mime``, or by CodecID at a document's end (or
        after :data:`HOLD`); then hand out what was held."""
        for track in self._chosen.values():
            if track.decoder is None and (mime is not None or document_end):
                track.decoder = self._decoder(track.entry, mime)
        # Decoded before the formats are told: a decoder knows its rate once it has
        # decoded (HE-AAC doubles the rate its track declares).
        ready: list[AudioChunk] = []
        for track in self._chosen.values():
            if track.decoder is not None and track.held:
                held, track.held = track.held, []
                ready += self._chunks(track, held)
        yield from self._formats()
        yield from ready

    def _decoder(self, entry: TrackEntry, mime: Optional[SampleFormat]) -> Decoder:
        """The track's decoder, kept across documents while the track stays the same
        (a compressed codec carries state from block to block). A MimeType tag speaks
        only for tracks labelled with a compressed codec (Connect's ``A_AAC``)."""
        if entry.codec_id not in COMPRESSED:
            mime = None
        key = (entry.number, entry.codec_id, entry.codec_private, entry.sample_rate, mime)
        decoder = self._decoders.get(key)
        if decoder is None:
            decoder = self._decoders[key] = decoder_for(entry, mime)
        return decoder

    def _formats(self) -> Iterator[list[TrackFormat]]:
        """The first document's formats, once, when every chosen track is decided."""
        undecided = any(t.decoder is None for t in self._chosen.values())
        if self._formats_told or not self._chosen or undecided:
            return
        self._formats_told = True
        formats = []
        for number in self._order:
            track = self._chosen[number]
            assert track.decoder is not None
            rate, channels = track.decoder.sample_rate, track.decoder.channels
            formats.append(TrackFormat(number, track.entry.name, rate, channels))
        yield formats

    def _chunks(self, track: _Track, frames: list[Frame]) -> Iterator[AudioChunk]:
        for frame in frames:
            chunk = self._chunk(track, frame)
            if chunk is not None:
                yield chunk

    @staticmethod
    def _chunk(track: _Track, frame: Frame) -> Optional[AudioChunk]:
        """The decoded samples of one block of a decided track (None if it gave none yet)."""
        decoder = track.decoder
        assert decoder is not None
        data = decoder.decode(frame.data)
        if not data:
            return None
        return AudioChunk(
            frame.track, track.entry.name, frame.utc_time, decoder.sample_rate,
            decoder.channels, data,
        )  # fmt: skip


def _find(audio: list[TrackEntry], spec: TrackSpec) -> Optional[TrackEntry]:
    for entry in audio:
        if spec == (entry.name if isinstance(spec, str) else entry.number):
            return entry
    return None


def _describe(tracks: Sequence[TrackEntry]) -> str:
    if not tracks:
        return "none"
    return ", ".join(
        f"{entry.number}" + (f" {entry.name!r}" if entry.name else "") + f" ({entry.codec_id})"
        for entry in tracks
    )


def audio_chunks(
    items: Iterable[Item], tracks: Optional[Sequence[TrackSpec]]
) -> Iterator[AudioChunk]:
    """The decoded blocks of the chosen tracks (see :class:`AudioReader`)."""
    for item in AudioReader(items, tracks):
        if isinstance(item, AudioChunk):
            yield item
