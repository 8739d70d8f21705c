"""Joining KVS fragments into one Matroska recording that players read whole.

A saved GetMediaForFragmentList body is many Matroska documents end to end:
players stop after the first or call the file corrupt. A recording is the
first fragment's EBML header, Segment, Info and Tracks, then every
fragment's Clusters and Tags. Cluster timecodes are rebased so the
recording starts at zero (KVS writes absolute epoch milliseconds); the
fragments' own tags keep the absolute times.
"""

from __future__ import annotations

from typing import BinaryIO, Optional

from ._ebml import (
    CLUSTER,
    CUES,
    INFO,
    SEEK_HEAD,
    TIMECODE,
    TRACKS,
    UNKNOWN_SIZE,
    encode_size,
    read_id,
    read_size,
)
from ._errors import KVArchiveError, MediaParseError
from ._mkv import split_fragment

__all__ = ["RecordingWriter", "TrackListChangedError"]

# Info and Tracks are written once; positions in a SeekHead or Cues would be wrong.
_NOT_COPIED = frozenset({INFO, TRACKS, SEEK_HEAD, CUES})
_SEGMENT_SIZE_WIDTH = 8


class TrackListChangedError(KVArchiveError):
    """The track list (codecs, codec private data, tracks) changes inside the range.

    One Matroska file has one track list, so kvarchive stops rather than write
    a file players would misdecode. ``number`` is the first fragment with the
    new track list: download the range before it and from it separately.
    """

    def __init__(self, message: str, number: Optional[str] = None) -> None:
        super().__init__(message, number)
        self.message = message
        self.number = number

    def __str__(self) -> str:
        return self.message


class RecordingWriter:
    """Writes fragments, one after another, as one recording into a seekable file."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._tracks: Optional[bytes] = None
        self._segment_data_start = 0
        self._size_field_at = 0
        self._base_timecode: Optional[int] = None
        self.fragments = 0

    def add(self, data: bytes, number: str = "") -> None:
        """Append one complete fragment (its Matroska bytes)."""
        parts = split_fragment(data)
        if self._tracks is None:
            self._tracks = parts.tracks or b""
            self._out.write(parts.ebml_header)
            self._out.write(parts.segment_header[: -self._size_width(parts.segment_header)])
            self._size_field_at = self._out.tell()
            self._out.write(encode_size(UNKNOWN_SIZE, _SEGMENT_SIZE_WIDTH))
            self._segment_data_start = self._out.tell()
            for element in (parts.info, parts.tracks):
                if element is not None:
                    self._out.write(element)
        elif (parts.tracks or b"") != self._tracks:
            raise TrackListChangedError(
                f"the track list changes at fragment {number or self.fragments + 1}: one "
                "Matroska file cannot hold both; download the parts before and after it "
                "separately",
                number or None,
            )
        for element_id, element in parts.children:
            if element_id == CLUSTER:
                self._out.write(self._rebased(element))
            elif element_id not in _NOT_COPIED:
                self._out.write(element)
        self.fragments += 1

    def finish(self) -> None:
        """Write the Segment's final size, so players know where it ends."""
        if self._tracks is None:
            return
        end = self._out.tell()
        self._out.seek(self._size_field_at)
        self._out.write(encode_size(end - self._segment_data_start, _SEGMENT_SIZE_WIDTH))
        self._out.seek(end)

    @staticmethod
    def _size_width(header: bytes) -> int:
        _, id_length = read_id(header, 0)
        _, size_length = read_size(header, id_length)
        return size_length

    def _rebased(self, cluster: bytes) -> bytes:
        """The Cluster with its Timecode moved so the first Cluster starts at zero.

        The new value is written in the old field's width, so no size changes.
        """
        _, id_length = read_id(cluster, 0)
        _, size_length = read_size(cluster, id_length)
        pos = id_length + size_length
        while pos < len(cluster):
            child, child_id_length = read_id(cluster, pos)
            size, child_size_length = read_size(cluster, pos + child_id_length)
            if child_id_length == 0 or child_size_length == 0 or size == UNKNOWN_SIZE:
                break
            start = pos + child_id_length + child_size_length
            if child == TIMECODE:
                timecode = int.from_bytes(cluster[start : start + size], "big")
                if self._base_timecode is None:
                    self._base_timecode = timecode
                rebased = timecode - self._base_timecode
                if rebased < 0:
                    raise MediaParseError(
                        "a Cluster's timecode is earlier than the first Cluster's: the "
                        "fragments are not in producer-time order"
                    )
                copy = bytearray(cluster)
                copy[start : start + size] = rebased.to_bytes(size, "big")
                return bytes(copy)
            pos = start + size
        return cluster
