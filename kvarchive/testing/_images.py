"""Images for GetImages: their size, and tiny real ones (solid-colour PNG, greyscale JPEG).

Both are built by hand (zlib and struct only) and decode in ordinary tools.
"""

from __future__ import annotations

import functools
import struct
import zlib
from typing import Optional

__all__ = ["image_size", "jpeg", "png"]


@functools.lru_cache(maxsize=64)
def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A ``width`` x ``height`` PNG filled with one RGB colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    compressor = zlib.compressobj(6)
    parts = [compressor.compress(row) for _ in range(height)]
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", b"".join(parts))
        + chunk(b"IEND", b"")
    )


# ITU T.81 Annex K: the luminance quantisation table (zigzag order is not
# needed for a flat image, but the table is written in it as the standard asks).
_LUMA_QUANT = (
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip
_ZIGZAG = (
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
    12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
    35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
    58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
)  # fmt: skip


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


@functools.lru_cache(maxsize=64)
def jpeg(width: int, height: int, grey: int, quality: int = 80) -> bytes:
    """A ``width`` x ``height`` baseline greyscale JPEG of one shade (0-255).

    Every 8x8 block of a flat image has only a DC coefficient, equal in all
    blocks, so the scan is: the first block's DC value, then "difference 0,
    end of block" for each further block. The Huffman tables hold just the
    codes used.
    """
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    quant = [min(255, max(1, (q * scale + 50) // 100)) for q in _LUMA_QUANT]
    dc = round(8 * (grey - 128) / quant[0])
    category = abs(dc).bit_length()

    # DC table: category 0 -> "00", the first block's category -> "01".
    dc_symbols = [0] if category == 0 else [0, category]
    dc_table = bytes([0x00, 0, len(dc_symbols)] + [0] * 14 + dc_symbols)
    # AC table: end-of-block only -> "00".
    ac_table = bytes([0x10, 0, 1] + [0] * 14 + [0x00])

    bits: list[str] = []
    if category:
        value = dc if dc > 0 else dc + (1 << category) - 1
        bits.append("01" + format(value, f"0{category}b"))
    else:
        bits.append("00")
    bits.append("00")  # EOB
    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    scan_bits = "".join(bits) + "0000" * (blocks - 1)
    scan_bits += "1" * (-len(scan_bits) % 8)
    scan = int(scan_bits, 2).to_bytes(len(scan_bits) // 8, "big").replace(b"\xff", b"\xff\x00")

    return (
        b"\xff\xd8"
        + _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
        + _segment(0xDB, b"\x00" + bytes(quant[i] for i in _ZIGZAG))
        + _segment(0xC0, struct.pack(">BHHBBBB", 8, height, width, 1, 1, 0x11, 0))
        + _segment(0xC4, dc_table + ac_table)
        + _segment(0xDA, bytes([1, 1, 0x00, 0, 63, 0]))
        + scan
        + b"\xff\xd9"
    )


def image_size(
    native: tuple[int, int], width: Optional[int], height: Optional[int]
) -> Optional[tuple[int, int]]:
    """The size asked for; one side alone keeps the stream's aspect ratio."""
    if width is None and height is None:
        return None
    if width is None:
        assert height is not None
        width = max(1, round(height * native[0] / native[1]))
    if height is None:
        height = max(1, round(width * native[1] / native[0]))
    return width, height
