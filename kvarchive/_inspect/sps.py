"""The frame rate an H.264 stream's SPS declares (VUI timing), read from an avcC record.

A producer may write ``num_units_in_tick`` and ``time_scale`` in the
sequence parameter set's VUI (ITU-T H.264, E.1.1); the frame rate is then
``time_scale / (2 * num_units_in_tick)``. Without VUI timing, or for input
that is not a well-formed avcC and SPS, the rate is None: it is a fact of the
report, never a reason to fail.
"""

from __future__ import annotations

from typing import Optional

__all__ = ["avc_frame_rate"]

# Profiles whose SPS carries chroma format, bit depths and scaling lists (7.3.2.1.1).
_HIGH_PROFILES = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135})
_EXTENDED_SAR = 255


class _Bits:
    """A big-endian bit reader over an RBSP (emulation prevention bytes removed)."""

    def __init__(self, data: bytes) -> None:
        self._data = data.replace(b"\x00\x00\x03", b"\x00\x00")
        self._position = 0

    def bits(self, count: int) -> int:
        value = 0
        for _ in range(count):
            byte = self._position >> 3
            if byte >= len(self._data):
                raise EOFError
            value = (value << 1) | ((self._data[byte] >> (7 - (self._position & 7))) & 1)
            self._position += 1
        return value

    def ue(self) -> int:
        """An unsigned Exp-Golomb code."""
        zeros = 0
        while self.bits(1) == 0:
            zeros += 1
            if zeros > 31:
                raise EOFError
        return (1 << zeros) - 1 + self.bits(zeros)

    def se(self) -> int:
        """A signed Exp-Golomb code."""
        code = self.ue()
        return (code + 1) // 2 if code % 2 else -(code // 2)


def avc_frame_rate(avcc: Optional[bytes]) -> Optional[float]:
    """The frame rate the first SPS of an avcC record declares, or None."""
    if not avcc or len(avcc) < 8 or avcc[0] != 1 or not avcc[5] & 0x1F:
        return None
    length = int.from_bytes(avcc[6:8], "big")
    sps = avcc[8 : 8 + length]
    if len(sps) != length or not sps or sps[0] & 0x1F != 7:
        return None
    try:
        return _vui_rate(_Bits(sps[1:]))
    except EOFError:
        return None


def _vui_rate(bits: _Bits) -> Optional[float]:
    profile = bits.bits(8)
    bits.bits(16)  # constraint flags, level
    bits.ue()  # seq_parameter_set_id
    if profile in _HIGH_PROFILES:
        chroma = bits.ue()
        if chroma == 3:
            bits.bits(1)
        bits.ue(), bits.ue(), bits.bits(1)  # bit depths, qpprime_y_zero_transform_bypass
        if bits.bits(1):  # seq_scaling_matrix_present
            for index in range(12 if chroma == 3 else 8):
                if bits.bits(1):
                    _skip_scaling_list(bits, 16 if index < 6 else 64)
    bits.ue()  # log2_max_frame_num_minus4
    order = bits.ue()
    if order == 0:
        bits.ue()
    elif order == 1:
        bits.bits(1), bits.se(), bits.se()
        for _ in range(bits.ue()):
            bits.se()
    bits.ue(), bits.bits(1)  # max_num_ref_frames, gaps_in_frame_num_allowed
    bits.ue(), bits.ue()  # picture size in macroblocks
    if not bits.bits(1):  # frame_mbs_only
        bits.bits(1)
    bits.bits(1)  # direct_8x8_inference
    if bits.bits(1):  # frame_cropping
        bits.ue(), bits.ue(), bits.ue(), bits.ue()
    if not bits.bits(1):  # vui_parameters_present
        return None
    return _timing(bits)


def _timing(bits: _Bits) -> Optional[float]:
    """The VUI up to its timing info (E.1.1)."""
    if bits.bits(1) and bits.bits(8) == _EXTENDED_SAR:  # aspect_ratio_info
        bits.bits(32)
    if bits.bits(1):  # overscan_info_present
        bits.bits(1)
    if bits.bits(1):  # video_signal_type_present
        bits.bits(4)
        if bits.bits(1):
            bits.bits(24)
    if bits.bits(1):  # chroma_loc_info_present
        bits.ue(), bits.ue()
    if not bits.bits(1):  # timing_info_present
        return None
    ticks, scale = bits.bits(32), bits.bits(32)
    return scale / (2 * ticks) if ticks and scale else None


def _skip_scaling_list(bits: _Bits, size: int) -> None:
    last = following = 8
    for _ in range(size):
        if following:
            following = (last + bits.se() + 256) % 256
        last = following or last
