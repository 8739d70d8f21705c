"""A WAV file of s16le samples, written front to back with its header finished last.

The header is a fixed 104 bytes, written as a placeholder first and filled
in by :meth:`WavWriter.finish` once the length is known (and the format:
the rate and channels of the first samples), so samples stream straight to
disk. Over 4 GiB of samples the file becomes RF64 (EBU Tech 3306): the
placeholder's JUNK chunk turns into the ``ds64`` chunk with 64-bit sizes,
as ``ffmpeg -rf64 auto`` does. Up to two channels the format is plain PCM;
more are WAVE_FORMAT_EXTENSIBLE, as the format asks.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

__all__ = ["HEADER_SIZE", "WavWriter", "wav_header"]

HEADER_SIZE = 104
_MAX_32 = 0xFFFFFFFF
_PCM, _EXTENSIBLE = 1, 0xFFFE
# KSDATAFORMAT_SUBTYPE_PCM, the GUID of PCM samples in WAVE_FORMAT_EXTENSIBLE.
_PCM_GUID = bytes.fromhex("0100000000001000800000aa00389b71")


def _chunk(name: bytes, payload: bytes) -> bytes:
    return name + struct.pack("<I", len(payload)) + payload


def wav_header(sample_rate: int, channels: int, data_size: int) -> bytes:
    """The 104-byte header of ``data_size`` bytes of s16le samples (RF64 past 4 GiB)."""
    block = 2 * channels
    fmt = struct.pack("<HHIIHH", _PCM, channels, sample_rate, sample_rate * block, block, 16)
    if channels > 2:
        fmt = struct.pack("<HHIIHHHHI", _EXTENSIBLE, *struct.unpack("<xxHIIHH", fmt), 22, 16, 0)
        fmt += _PCM_GUID
    riff_size = HEADER_SIZE - 8 + data_size
    spare = HEADER_SIZE - 12 - 36 - (8 + len(fmt)) - 8  # room for JUNK after the first 36 bytes
    padding = _chunk(b"JUNK", bytes(spare - 8)) if spare else b""
    if riff_size <= _MAX_32:
        head = b"RIFF" + struct.pack("<I", riff_size) + b"WAVE" + _chunk(b"JUNK", bytes(28))
        data_field = data_size
    else:
        ds64 = struct.pack("<QQQI", riff_size, data_size, data_size // block, 0)
        head = b"RF64" + struct.pack("<I", _MAX_32) + b"WAVE" + _chunk(b"ds64", ds64)
        data_field = _MAX_32
    header = head + padding + _chunk(b"fmt ", fmt) + b"data" + struct.pack("<I", data_field)
    assert len(header) == HEADER_SIZE
    return header


class WavWriter:
    """Writes s16le samples into a seekable binary file, then the header in front of them."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._start = out.tell()
        out.write(bytes(HEADER_SIZE))
        self.data_size = 0

    def write(self, samples: bytes) -> None:
        """Append interleaved samples."""
        self._out.write(samples)
        self.data_size += len(samples)

    def finish(self, sample_rate: int, channels: int) -> int:
        """Write the header; returns the file's length."""
        end = self._out.tell()
        self._out.seek(self._start)
        self._out.write(wav_header(sample_rate, channels, self.data_size))
        self._out.seek(end)
        return end - self._start
