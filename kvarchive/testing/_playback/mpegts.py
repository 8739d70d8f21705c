"""MPEG-TS segments for HLS (``MPEG_TS``): PAT, PMT, then PES packets of H.264 and AAC.

GetTSFragment, the developer guide says, returns "MPEG TS fragments containing
both initialization and media data for all tracks in the stream": each segment
here starts with its own PAT and PMT, and carries one KVS fragment's frames,
video as Annex B (an access unit delimiter first, SPS and PPS before each
keyframe, as players and ffmpeg expect) and audio as ADTS frames, one PES per
frame, with PTS (no B-frames, so DTS is the same) and a PCR on each video PES.
Continuity counters restart in each segment with the discontinuity indicator
set, so a segment stands alone and a sequence of them still checks out.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Sequence
from typing import Optional

import attrs

from kvarchive.testing._mkv_writer import Track
from kvarchive.testing._playback.timeline import TimedFrame

__all__ = ["AvcConfig", "adts_header", "annex_b", "ts_segment"]

_PACKET_PAYLOAD = 184
_PAT_PID = 0x0000
_PMT_PID = 0x1000
_PIDS = {"video": 0x0100, "audio": 0x0101}
# Stream types (ISO/IEC 13818-1 table 2-34): H.264 video, AAC audio with ADTS transport.
_STREAM_TYPES = {"video": 0x1B, "audio": 0x0F}
_STREAM_IDS = {"video": 0xE0, "audio": 0xC0}
# Timestamps start 1.4 s in, as ffmpeg's muxer does, so PCR never runs ahead of them.
_PTS_OFFSET = 126_000
_START_CODE = b"\x00\x00\x00\x01"
_ACCESS_UNIT_DELIMITER = _START_CODE + b"\x09\xf0"
_NAL_SPS, _NAL_PPS, _NAL_AUD = 7, 8, 9
_DISCONTINUITY, _RANDOM_ACCESS, _HAS_PCR = 0x80, 0x40, 0x10


@attrs.frozen
class AvcConfig:
    """What an avcC record (ISO/IEC 14496-15) says: NAL length size, SPS and PPS."""

    length_size: int
    sps: tuple[bytes, ...]
    pps: tuple[bytes, ...]

    @classmethod
    def parse(cls, record: bytes) -> AvcConfig:
        """Read an avcC record (Matroska's CodecPrivate of V_MPEG4/ISO/AVC)."""
        length_size = (record[4] & 0x03) + 1
        sps, position = _parameter_sets(record, 6, record[5] & 0x1F)
        pps, _ = _parameter_sets(record, position + 1, record[position])
        return cls(length_size, sps, pps)


def _parameter_sets(record: bytes, position: int, count: int) -> tuple[tuple[bytes, ...], int]:
    """``count`` length-prefixed parameter sets from ``position``, and where they end."""
    found = []
    for _ in range(count):
        size = int.from_bytes(record[position : position + 2], "big")
        found.append(record[position + 2 : position + 2 + size])
        position += 2 + size
    return tuple(found), position


def annex_b(frame: bytes, keyframe: bool, config: AvcConfig) -> bytes:
    """An access unit in Annex B form: AUD, SPS and PPS on keyframes, then the NAL units."""
    units = []
    position = 0
    while position + config.length_size <= len(frame):
        size = int.from_bytes(frame[position : position + config.length_size], "big")
        position += config.length_size
        units.append(frame[position : position + size])
        position += size
    kinds = {unit[0] & 0x1F for unit in units if unit}
    out = [_ACCESS_UNIT_DELIMITER]
    if keyframe and _NAL_SPS not in kinds:
        out += [_START_CODE + unit for unit in (*config.sps, *config.pps)]
    out += [_START_CODE + unit for unit in units if unit and unit[0] & 0x1F != _NAL_AUD]
    return b"".join(out)


def adts_header(audio_specific_config: bytes, length: int) -> bytes:
    """The 7-byte ADTS header (ISO/IEC 13818-7, no CRC) of an AAC frame of ``length`` bytes."""
    object_type = audio_specific_config[0] >> 3
    frequency_index = ((audio_specific_config[0] & 0x07) << 1) | (audio_specific_config[1] >> 7)
    channels = (audio_specific_config[1] >> 3) & 0x0F
    size = 7 + length
    return bytes(
        [
            0xFF,
            0xF1,  # MPEG-4, layer 0, no CRC
            ((object_type - 1) << 6) | (frequency_index << 2) | (channels >> 2),
            ((channels & 0x03) << 6) | (size >> 11),
            (size >> 3) & 0xFF,
            ((size & 0x07) << 5) | 0x1F,  # buffer fullness 0x7FF: variable rate
            0xFC,
        ]
    )


@functools.lru_cache(maxsize=1)
def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
        table.append(crc & 0xFFFFFFFF)
    return tuple(table)


def _crc32(data: bytes) -> int:
    """CRC-32/MPEG-2, the checksum of PSI sections (not zlib's reflected CRC-32)."""
    table = _crc_table()
    crc = 0xFFFFFFFF
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ table[((crc >> 24) ^ byte) & 0xFF]
    return crc


def _section(table_id: int, table_id_extension: int, body: bytes) -> bytes:
    length = 5 + len(body) + 4
    head = bytes([table_id]) + struct.pack(
        ">HHBBB", 0xB000 | length, table_id_extension, 0xC1, 0, 0
    )
    return head + body + struct.pack(">I", _crc32(head + body))


def _psi_packet(pid: int, section: bytes, counter: int) -> bytes:
    header = bytes([0x47, 0x40 | (pid >> 8), pid & 0xFF, 0x10 | (counter & 0x0F)])
    payload = b"\x00" + section  # pointer_field: the section starts right away
    return header + payload + b"\xff" * (_PACKET_PAYLOAD - len(payload))


def _timestamp(value: int) -> bytes:
    """A PES PTS field ('0010' prefix: PTS only) of a 33-bit 90 kHz time."""
    value &= (1 << 33) - 1
    return bytes(
        [
            0x21 | ((value >> 29) & 0x0E),
            (value >> 22) & 0xFF,
            0x01 | ((value >> 14) & 0xFE),
            (value >> 7) & 0xFF,
            0x01 | ((value << 1) & 0xFE),
        ]
    )


def _pcr(value: int) -> bytes:
    """A PCR field: 33-bit base at 90 kHz, 6 reserved bits, a zero 9-bit extension."""
    value &= (1 << 33) - 1
    return struct.pack(">I", value >> 1) + bytes([((value & 1) << 7) | 0x7E, 0x00])


def _packets(pid: int, payload: bytes, counter: int, fields: Optional[bytes]) -> list[bytes]:
    """``payload`` cut into TS packets; ``fields`` (flags and options) open the first one's
    adaptation field, and the last one is filled with adaptation-field stuffing.
    """
    packets = []
    position = 0
    while position < len(payload):
        body = fields
        fields = None
        room = _PACKET_PAYLOAD - (1 + len(body) if body is not None else 0)
        missing = room - (len(payload) - position)
        if missing > 0 and body is not None:
            body += b"\xff" * missing
        elif missing == 1:
            body = b""
        elif missing > 1:
            body = b"\x00" + b"\xff" * (missing - 2)
        adaptation = b"" if body is None else bytes([len(body)]) + body
        chunk = payload[position : position + _PACKET_PAYLOAD - len(adaptation)]
        start = 0x40 if position == 0 else 0
        control = 0x30 if adaptation else 0x10
        header = bytes([0x47, start | (pid >> 8), pid & 0xFF, control | (counter & 0x0F)])
        packets.append(header + adaptation + chunk)
        position += len(chunk)
        counter += 1
    return packets


def _pes(stream_id: int, time: int, data: bytes) -> bytes:
    header = b"\x80\x80\x05" + _timestamp(time)  # PTS only
    length = len(header) + len(data)
    # Video may exceed the 16-bit length; 0 means "unbounded", allowed for video only.
    return (
        b"\x00\x00\x01"
        + bytes([stream_id])
        + struct.pack(">H", length if length <= 0xFFFF else 0)
        + header
        + data
    )


def ts_segment(
    sequence: int, tracks: Sequence[Track], frames: Sequence[tuple[Track, TimedFrame]]
) -> bytes:
    """One TS segment: PAT, PMT, then a PES per frame (times in 90 kHz ticks).

    ``sequence`` (the fragment's place in the session) sets the PAT's and PMT's
    continuity counters, which then run on across consecutive segments.
    """
    video = [t for t in tracks if t.kind == "video"]
    clock_track = video[0] if video else tracks[0]
    pmt_streams = b"".join(
        struct.pack(">BHH", _STREAM_TYPES[t.kind], 0xE000 | _PIDS[t.kind], 0xF000) for t in tracks
    )
    pmt = _section(
        0x02, 1, struct.pack(">HH", 0xE000 | _PIDS[clock_track.kind], 0xF000) + pmt_streams
    )
    pat = _section(0x00, 1, struct.pack(">HH", 1, 0xE000 | _PMT_PID))
    out = [_psi_packet(_PAT_PID, pat, sequence), _psi_packet(_PMT_PID, pmt, sequence)]
    counters: dict[int, int] = {}
    avc = {t.number: AvcConfig.parse(t.codec_private) for t in video}
    for track, frame in frames:
        pid = _PIDS[track.kind]
        time = frame.time + _PTS_OFFSET
        if track.kind == "video":
            data = annex_b(frame.data, frame.keyframe, avc[track.number])
        else:
            data = adts_header(track.codec_private, len(frame.data)) + frame.data
        flags = 0 if pid in counters else _DISCONTINUITY
        options = b""
        if track is clock_track:
            flags |= _HAS_PCR
            options = _pcr(time)
        if frame.keyframe and track.kind == "video":
            flags |= _RANDOM_ACCESS
        packets = _packets(
            pid,
            _pes(_STREAM_IDS[track.kind], time, data),
            counters.get(pid, 0),
            bytes([flags]) + options if flags else None,
        )
        counters[pid] = counters.get(pid, 0) + len(packets)
        out += packets
    return b"".join(out)
