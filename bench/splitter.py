"""The baseline of figure 4: a magic-byte fragment splitter with ebmlite, as AWS's sample does.

AWS's Python consumer sample (amazon-kinesis-video-streams-consumer-library-for-python)
appends each chunk of the StreamingBody to a buffer, re-parses the *whole*
buffer with ebmlite after every chunk to find the second EBML header, cuts the
first fragment there and reads its SimpleTags from the ebmlite DOM. That is
quadratic in the fragment size. This is the best linear version of the same
idea: search for the EBML magic bytes only in bytes not yet searched, cut there,
and parse each piece once with ebmlite (``schema.load(BytesIO(piece),
headers=True)``, tags walked as the sample's ``get_fragment_tags`` does).

It is also *wrong*: a frame payload that contains ``1A 45 DF A3`` cuts a
fragment in two. :func:`split_fragments` counts the pieces that carry no
fragment-number tag so the benchmark can show it.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from io import BytesIO
from typing import Any, Optional

EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_SEGMENT, _TAGS, _TAG, _SIMPLE_TAG = 0x18538067, 0x1254C367, 0x7373, 0x67C8
_TAG_NAME, _TAG_STRING, _TAG_BINARY = 0x45A3, 0x4487, 0x4485
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def available() -> Optional[str]:
    """None if ebmlite can be imported, else why not."""
    try:
        import ebmlite  # noqa: F401
    except ImportError as exc:
        return f"ebmlite not installed ({exc}); pip install ebmlite"
    return None


def load_schema() -> Any:
    """ebmlite's Matroska schema (loading it parses an XML file: do it once)."""
    import ebmlite

    return ebmlite.loadSchema("matroska.xml")


def split_at_magic(body: Any, chunk_size: int = 1 << 20) -> Iterator[bytes]:
    """The pieces of ``body`` (a file-like ``read``) between EBML magic bytes, in linear time."""
    buffer = bytearray()
    search_from = 1  # a piece starts with the magic; look for the next one
    while True:
        chunk = body.read(chunk_size)
        if chunk:
            buffer += chunk
        while True:
            cut = buffer.find(EBML_MAGIC, search_from)
            if cut < 0:
                search_from = max(1, len(buffer) - len(EBML_MAGIC) + 1)
                break
            with memoryview(buffer) as view:
                piece = bytes(view[:cut])
            del buffer[:cut]  # O(1): bytearray drops a prefix by moving its start
            search_from = 1
            yield piece
        if not chunk:
            if buffer:
                yield bytes(buffer)
            return


def fragment_tags(schema: Any, piece: bytes) -> dict[str, Any]:
    """Every SimpleTag of the Segment's Tags, as the sample's ``get_fragment_tags``."""
    document = schema.load(BytesIO(piece), headers=True)
    segment = next((element for element in document if element.id == _SEGMENT), None)
    if segment is None:
        raise KeyError("Segment element required but not found in fragment")
    tags: dict[str, Any] = {}
    for element in segment:
        if element.id != _TAGS:
            continue
        for tag in element:
            if tag.id != _TAG:
                continue
            for simple in tag:
                if simple.id != _SIMPLE_TAG:
                    continue
                name = value = None
                for part in simple:
                    if part.id == _TAG_NAME:
                        name = part.value
                    elif part.id in (_TAG_STRING, _TAG_BINARY):
                        value = part.value
                if name:
                    tags[name] = value
    return tags


def _epoch(text: Any) -> Optional[datetime]:
    try:
        return _EPOCH + timedelta(seconds=float(text))
    except (TypeError, ValueError):
        return None


def split_fragments(body: Any, schema: Any, counts: dict[str, int]) -> Iterator[tuple[Any, ...]]:
    """(number, server time, producer time, bytes, tags) per piece, as iter_fragments gives.

    ``counts`` gets ``pieces`` and ``broken`` (pieces without a fragment number
    tag, or that ebmlite could not parse).
    """
    for piece in split_at_magic(body):
        counts["pieces"] = counts.get("pieces", 0) + 1
        try:
            with warnings.catch_warnings():
                # ebmlite warns about undecodable strings in pieces cut inside a frame
                warnings.simplefilter("ignore", UnicodeWarning)
                tags = fragment_tags(schema, piece)
        except Exception:  # a piece cut inside a frame is not a Matroska document
            tags = {}
        number = tags.get("AWS_KINESISVIDEO_FRAGMENT_NUMBER")
        if number is None:
            counts["broken"] = counts.get("broken", 0) + 1
        yield (
            number,
            _epoch(tags.get("AWS_KINESISVIDEO_SERVER_TIMESTAMP")),
            _epoch(tags.get("AWS_KINESISVIDEO_PRODUCER_TIMESTAMP")),
            piece,
            tags,
        )
