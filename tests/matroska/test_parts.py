"""split_fragment: one fragment cut into the parts a recording is written from."""

from __future__ import annotations

import pytest
from mkvbuild import (
    B,
    scan,
)

from kvarchive._errors import MediaParseError
from kvarchive._matroska import ids as E
from kvarchive._matroska.parts import split_fragment
from kvarchive._matroska.vint import UNKNOWN_SIZE, encode_id, encode_size

# --- parts ----------------------------------------------------------------------------------


@pytest.mark.parametrize("known", [False, True])
def test_split_fragment_parts_reassemble(known: bool) -> None:
    """The parts of a fragment join back into its exact bytes."""
    body = B.fragment(
        before={"P": "1"}, after={"Q": "2"}, known_cluster=known, known_segment=known, clusters=2
    )
    parts = split_fragment(body)
    assert parts.to_bytes() == body
    assert parts.ebml_header == B.header()
    segment_size = len(body) - len(B.header()) - len(parts.segment_header)
    assert parts.segment_header == encode_id(E.SEGMENT) + encode_size(
        segment_size if known else UNKNOWN_SIZE
    )
    assert parts.info == B.info()
    assert parts.tracks == B.tracks()
    assert [i for i, _ in parts.children] == [
        E.INFO,
        E.TRACKS,
        E.TAGS,
        E.TAGS,
        E.CLUSTER,
        E.CLUSTER,
        E.TAGS,
    ]
    body = [data for i, data in parts.children if i not in (E.INFO, E.TRACKS)]
    assert [p[:4] for p in body] == [encode_id(E.TAGS)] * 2 + [encode_id(E.CLUSTER)] * 2 + [
        encode_id(E.TAGS)
    ]


def test_split_fragment_requires_exactly_one_fragment() -> None:
    """Two fragments, or none, are refused."""
    first = B.fragment("1")
    with pytest.raises(MediaParseError) as info:
        split_fragment(first + B.fragment("2"))
    assert info.value.offset == len(first)
    with pytest.raises(MediaParseError):
        split_fragment(b"")


def test_track_list_signature_tells_fragments_apart() -> None:
    """Fragments with the same Tracks share a signature; a new codec changes it."""
    a, b, c = scan(B.fragment("1") + B.fragment("2") + B.fragment("3", codec=b"V_MPEGH/ISO/HEVC"))
    assert a.tracks is not None
    assert a.tracks == b.tracks != c.tracks
