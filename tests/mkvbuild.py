"""KVS-like Matroska fragments built element by element, for the tests of kvarchive._matroska.

Every element can be written with its size field a given width, known or
unknown sizes, tags before and after the Clusters: the shapes producers and
the service write, and the shapes that break naive parsers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Optional

import pytest

from kvarchive._errors import MediaParseError
from kvarchive._matroska import ids as E
from kvarchive._matroska.fragment_info import FragmentInfo
from kvarchive._matroska.scanner import FragmentScanner
from kvarchive._matroska.vint import UNKNOWN_SIZE, encode_id, encode_size, encode_uint

NUMBER = "91343852333181432392682062591174131839009706440"
SERVER = "1511852109.126"
PRODUCER = "1511852108.5"
CLUSTER_TIME = 1511852108000  # ms, as KVS writes Cluster Timecodes
MAGIC = bytes.fromhex("1A45DFA3")


class Builder:
    """Encodes elements with every known size field ``width`` bytes wide (0: shortest)."""

    def __init__(self, width: int = 0) -> None:
        self.width = width

    def el(self, element_id: int, payload: bytes) -> bytes:
        return encode_id(element_id) + encode_size(len(payload), self.width) + payload

    def master(self, element_id: int, payload: bytes, known: bool) -> bytes:
        if known:
            return self.el(element_id, payload)
        return encode_id(element_id) + encode_size(UNKNOWN_SIZE, self.width or 8) + payload

    def simple_tag(self, name: str, value: str, nested: bytes = b"") -> bytes:
        return self.el(
            E.SIMPLE_TAG,
            self.el(E.TAG_NAME, name.encode()) + self.el(E.TAG_STRING, value.encode()) + nested,
        )

    def tags(self, tags: dict[str, str]) -> bytes:
        targets = self.el(E.TARGETS, self.el(E.TARGET_TYPE_VALUE, encode_uint(50)))
        body = b"".join(self.simple_tag(k, v) for k, v in tags.items())
        return self.el(E.TAGS, self.el(E.TAG, targets + body))

    def block(self, relative: int, keyframe: bool, payload: bytes, track: int = 1) -> bytes:
        head = encode_size(track) + relative.to_bytes(2, "big", signed=True)
        return self.el(E.SIMPLE_BLOCK, head + bytes([0x80 if keyframe else 0]) + payload)

    def cluster(self, blocks: Iterable[bytes], known: bool, timecode: int = CLUSTER_TIME) -> bytes:
        body = self.el(E.TIMECODE, encode_uint(timecode)) + b"".join(blocks)
        return self.master(E.CLUSTER, body, known)

    def header(self) -> bytes:
        return self.el(
            E.EBML,
            self.el(E.EBML_VERSION, b"\x01")
            + self.el(E.DOC_TYPE, b"matroska")
            + self.el(E.DOC_TYPE_READ_VERSION, b"\x02"),
        )

    def info(self, scale: int = 1_000_000) -> bytes:
        return self.el(E.INFO, self.el(E.TIMECODE_SCALE, encode_uint(scale)))

    def tracks(self, codec: bytes = b"V_MPEG4/ISO/AVC") -> bytes:
        entry = self.el(E.TRACK_NUMBER, b"\x01") + self.el(E.CODEC_ID, codec)
        return self.el(E.TRACKS, self.el(E.TRACK_ENTRY, entry))

    def fragment(
        self,
        number: str = NUMBER,
        *,
        service_tags: Optional[dict[str, str]] = None,
        before: Optional[dict[str, str]] = None,
        after: Optional[dict[str, str]] = None,
        blocks: Sequence[bytes] = (),
        known_cluster: bool = False,
        known_segment: bool = False,
        clusters: int = 1,
        codec: bytes = b"V_MPEG4/ISO/AVC",
    ) -> bytes:
        """EBML header, Segment: Info, Tracks, [Tags], service Tags, Cluster(s), [Tags]."""
        if service_tags is None:
            service_tags = {
                "AWS_KINESISVIDEO_FRAGMENT_NUMBER": number,
                "AWS_KINESISVIDEO_SERVER_TIMESTAMP": SERVER,
                "AWS_KINESISVIDEO_PRODUCER_TIMESTAMP": PRODUCER,
            }
        blocks = blocks or [self.block(0, True, b"key" + MAGIC), self.block(33, False, b"delta")]
        body = self.info() + self.tracks(codec)
        body += self.tags(before) if before else b""
        body += self.tags(service_tags) if service_tags else b""
        body += b"".join(self.cluster(blocks, known_cluster) for _ in range(clusters))
        body += self.tags(after) if after else b""
        return self.header() + self.master(E.SEGMENT, body, known_segment)


B = Builder()


def scan(body: bytes, chunk: int = 0) -> list[FragmentInfo]:
    """Every fragment of ``body`` fed in chunks of ``chunk`` bytes (0: all at once)."""
    scanner = FragmentScanner()
    step = chunk or max(1, len(body))
    found: list[FragmentInfo] = []
    for pos in range(0, len(body), step):
        found += scanner.feed(body[pos : pos + step])
    return found + scanner.finish()


def parse_error(body: bytes, chunk: int = 0) -> MediaParseError:
    """The MediaParseError that scanning ``body`` raises."""
    with pytest.raises(MediaParseError) as info:
        scan(body, chunk)
    return info.value


def bounds(found: Iterable[FragmentInfo]) -> list[tuple[int, int, dict[str, str]]]:
    return [(f.start, f.end, f.tags) for f in found]


def checked_scan(body: bytes, cuts: Sequence[int] = ()) -> Optional[list[FragmentInfo]]:
    """Scan ``body`` fed in pieces cut at ``cuts``: its fragments, or None on MediaParseError.

    Whatever the bytes, it checks what must hold: the fragments found are
    consecutive pieces of the body from byte 0; when it ends cleanly they are
    the whole body; a MediaParseError has an offset inside the body, at or after
    the end of every fragment found before it. Nothing else may be raised.
    """
    scanner = FragmentScanner()
    found: list[FragmentInfo] = []
    edges = [0, *sorted(c for c in cuts if 0 < c < len(body)), len(body)]
    try:
        for a, b in zip(edges, edges[1:]):
            found += scanner.feed(body[a:b])
        found += scanner.finish()
    except MediaParseError as exc:
        assert exc.offset is not None
        assert 0 <= exc.offset <= len(body)
        assert_consecutive(found, exc.offset)
        return None
    assert_consecutive(found, len(body))
    assert (found[-1].end if found else 0) == len(body)
    return found


def assert_consecutive(found: Sequence[FragmentInfo], limit: int) -> None:
    """The fragments follow one another from byte 0, none past ``limit``."""
    ends = [0] + [f.end for f in found]
    assert [f.start for f in found] == ends[:-1]
    assert all(f.start < f.end <= limit for f in found)
