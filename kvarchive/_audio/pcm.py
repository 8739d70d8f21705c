"""Sample formats to signed 16-bit little-endian, in C loops only (slices, translate, array).

Each function takes a block's bytes, a whole number of samples, and returns
the same samples as s16le. The conversions are FFmpeg's, so that a WAV
written here is sample for sample what ``ffmpeg -i x.mkv -f s16le`` writes:
wider integers keep their top 16 bits, floats are scaled by 2**15, clipped
and rounded half to even, G.711 follows ITU-T G.711's expansion tables.
"""

from __future__ import annotations

import sys
from array import array
from itertools import repeat
from typing import Callable

__all__ = ["ALAW", "ULAW", "Convert", "float_to_s16", "int_to_s16", "table_to_s16"]

Convert = Callable[[bytes], bytes]
"""A block's samples to s16le."""

_LITTLE = sys.byteorder == "little"
_FLIP_SIGN = bytes(b ^ 0x80 for b in range(256))  # unsigned 8-bit to the high byte of s16


def int_to_s16(width: int, big_endian: bool) -> Convert:
    """Integer PCM of ``width`` bytes (1: unsigned, 2-4: signed) to s16le."""
    if width == 1:
        return _u8
    if width == 2:
        return _s16_swapped if big_endian else bytes
    # The top two bytes of each sample: the high one and the one after it.
    high, next_ = (0, 1) if big_endian else (width - 1, width - 2)

    def convert(data: bytes) -> bytes:
        out = bytearray(len(data) // width * 2)
        out[0::2] = data[next_::width]
        out[1::2] = data[high::width]
        return bytes(out)

    return convert


def _u8(data: bytes) -> bytes:
    out = bytearray(len(data) * 2)
    out[1::2] = data.translate(_FLIP_SIGN)
    return bytes(out)


def _s16_swapped(data: bytes) -> bytes:
    out = bytearray(len(data))
    out[0::2] = data[1::2]
    out[1::2] = data[0::2]
    return bytes(out)


def float_to_s16(width: int, big_endian: bool) -> Convert:
    """IEEE float PCM of ``width`` bytes (4 or 8) to s16le, as FFmpeg converts it."""
    typecode = "f" if width == 4 else "d"

    def convert(data: bytes) -> bytes:
        samples = array(typecode, data)
        if big_endian == _LITTLE:
            samples.byteswap()
        # Builtins mapped over the array: C calls, no Python code per sample.
        scaled = map(float.__mul__, samples, repeat(32768.0))
        clipped = map(max, repeat(-32768.0), map(min, repeat(32767.0), scaled))
        out = array("h", map(round, clipped))
        if not _LITTLE:
            out.byteswap()
        return out.tobytes()

    return convert


def table_to_s16(table: tuple[bytes, bytes]) -> Convert:
    """8-bit codes to s16le through a table of low bytes and one of high bytes."""
    low, high = table

    def convert(data: bytes) -> bytes:
        out = bytearray(len(data) * 2)
        out[0::2] = data.translate(low)
        out[1::2] = data.translate(high)
        return bytes(out)

    return convert


def _alaw(code: int) -> int:
    """ITU-T G.711 A-law expansion of one code to a 16-bit sample."""
    code ^= 0x55
    exponent, mantissa = (code >> 4) & 7, code & 0x0F
    magnitude = (mantissa << 4) + 8
    if exponent:
        magnitude = (magnitude + 0x100) << (exponent - 1)
    return magnitude if code & 0x80 else -magnitude


def _ulaw(code: int) -> int:
    """ITU-T G.711 mu-law expansion of one code to a 16-bit sample."""
    code = ~code & 0xFF
    exponent, mantissa = (code >> 4) & 7, code & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return -magnitude if code & 0x80 else magnitude


def _tables(expand: Callable[[int], int]) -> tuple[bytes, bytes]:
    samples = [expand(code) & 0xFFFF for code in range(256)]
    return bytes(s & 0xFF for s in samples), bytes(s >> 8 for s in samples)


ALAW = _tables(_alaw)
ULAW = _tables(_ulaw)
