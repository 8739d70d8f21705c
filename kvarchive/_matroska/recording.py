"""Joining KVS fragments into one Matroska recording that players read whole.

A saved GetMediaForFragmentList body is many Matroska documents end to end:
players stop after the first or call the file corrupt. A recording is the
first fragment's EBML header, Segment, Info and Tracks, then every
fragment's Clusters and Tags. Cluster timecodes are rebased so the
recording starts at zero (KVS writes absolute epoch milliseconds); the
fragments' own tags keep the absolute times.
"""

from __future__ import annotations

import struct
from datetime import timedelta
from typing import BinaryIO, Optional

from kvarchive._errors import MediaParseError, TrackListChangedError
from kvarchive._matroska.elements import DEFAULT_TIMECODE_SCALE, children, parse_header, read_uint
from kvarchive._matroska.ids import (
    CLUSTER,
    CUES,
    DURATION,
    INFO,
    SEEK_HEAD,
    SEGMENT,
    TIMECODE,
    TIMECODE_SCALE,
    TRACKS,
)
from kvarchive._matroska.parts import split_fragment
from kvarchive._matroska.vint import UNKNOWN_SIZE, encode_element, encode_id, encode_size

__all__ = ["RecordingWriter"]

# Info and Tracks are written once; positions in a SeekHead or Cues would be wrong.
_NOT_COPIED = frozenset({INFO, TRACKS, SEEK_HEAD, CUES})
_SEGMENT_SIZE_WIDTH = 8


class RecordingWriter:
    """Writes fragments, one after another, as one recording into a seekable file.

    Clusters get known sizes and the Segment its final size and Duration, so
    players can seek and show the length.
    """

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._tracks: Optional[bytes] = None
        self._segment_data_start = 0
        self._size_field_at = 0
        self._duration_at: Optional[int] = None
        self._timecode_scale = DEFAULT_TIMECODE_SCALE
        self._base_timecode: Optional[int] = None
        self.fragments = 0

    def add(self, data: bytes, number: str = "") -> None:
        """Append one complete fragment (its Matroska bytes)."""
        parts = split_fragment(data)
        if self._tracks is None:
            self._start(parts.ebml_header, parts.segment_header, parts.info, parts.tracks)
        elif (parts.tracks or b"") != self._tracks:
            raise TrackListChangedError(
                f"the track list changes at fragment {number or self.fragments + 1}: one "
                "Matroska file cannot hold both; download the parts before and after it "
                "separately",
                number or None,
            )
        for element_id, element in parts.children:
            if element_id == CLUSTER:
                self._out.write(self._cluster(element))
            elif element_id not in _NOT_COPIED:
                self._out.write(element)
        self.fragments += 1

    def finish(self, duration: Optional[timedelta] = None) -> None:
        """Write the Segment's final size, and its ``duration`` if given."""
        if self._tracks is None:
            return
        end = self._out.tell()
        self._out.seek(self._size_field_at)
        self._out.write(encode_size(end - self._segment_data_start, _SEGMENT_SIZE_WIDTH))
        if duration is not None and self._duration_at is not None:
            ticks = duration.total_seconds() * 1e9 / self._timecode_scale
            self._out.seek(self._duration_at)
            self._out.write(struct.pack(">d", ticks))
        self._out.seek(end)

    def _start(
        self,
        ebml_header: bytes,
        segment_header: bytes,
        info: Optional[bytes],
        tracks: Optional[bytes],
    ) -> None:
        """Write the header of the recording from the first fragment."""
        self._tracks = tracks or b""
        self._out.write(ebml_header)
        self._out.write(encode_id(SEGMENT))  # the size field is written anew
        self._size_field_at = self._out.tell()
        self._out.write(encode_size(UNKNOWN_SIZE, _SEGMENT_SIZE_WIDTH))
        self._segment_data_start = self._out.tell()
        if info is not None:
            self._out.write(self._info(info))
        self._out.write(self._tracks)

    def _info(self, info: bytes) -> bytes:
        """The Info element with a placeholder Duration, remembering where it goes."""
        payload = _payload(info)
        kept = []
        child_start = 0
        for child_id, start, end in children(payload, 0, len(payload), 0):
            if child_id == TIMECODE_SCALE:
                scale = read_uint(payload, start, end, start)
                self._timecode_scale = scale or self._timecode_scale
            if child_id != DURATION:
                kept.append(payload[child_start:end])
            child_start = end
        duration = encode_element(DURATION, struct.pack(">d", 0.0))
        payload = b"".join(kept) + duration
        element = encode_element(INFO, payload)
        self._duration_at = self._out.tell() + len(element) - 8
        return element

    def _cluster(self, cluster: bytes) -> bytes:
        """The Cluster with a known size and its Timecode rebased to the first Cluster's.

        The new Timecode keeps its field's width, so no other size changes.
        """
        payload = bytearray(_payload(cluster))
        for child_id, value_at, end in children(payload, 0, len(payload), 0):
            if child_id != TIMECODE:
                continue
            width = end - value_at
            timecode = int.from_bytes(payload[value_at : value_at + width], "big")
            if self._base_timecode is None:
                self._base_timecode = timecode
            rebased = timecode - self._base_timecode
            if rebased < 0:
                raise MediaParseError(
                    "a Cluster's timecode is earlier than the first Cluster's: the "
                    "fragments are not in producer-time order"
                )
            payload[value_at : value_at + width] = rebased.to_bytes(width, "big")
            break
        return encode_element(CLUSTER, bytes(payload), size_width=_SEGMENT_SIZE_WIDTH)


def _payload(element: bytes) -> bytes:
    """An element's payload (to the end of the bytes given, for unknown sizes).

    Only for elements the scanner has read whole (``split_fragment``'s parts).
    """
    parsed = parse_header(element, 0, 0)
    assert parsed is not None  # a whole element holds its header
    return element[parsed[2] :]
