"""FragmentListBody's resume logic on bodies that misbehave in ways a server rarely does."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Optional

import pytest

from kvarchive import MediaIncompleteError
from kvarchive._resume import FragmentListBody
from kvarchive.testing import synthetic_fragment

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
NUMBERS = ["100", "101", "102"]


def fragment(number: str, seed: int = 0) -> bytes:
    """A synthetic fragment; another seed gives other frame bytes."""
    when = T0 + timedelta(seconds=2 * (int(number) - 100))
    return synthetic_fragment(number, when, when, payload_size=20000, seed=seed)


class Body:
    """A body that yields its bytes and then, if told, breaks like a dropped connection."""

    def __init__(self, data: bytes, cut_at: Optional[int] = None) -> None:
        self.data = data[:cut_at] if cut_at is not None else data
        self.broken = cut_at is not None
        self.pos = 0

    def read(self, amt: Optional[int] = None) -> bytes:
        if self.pos >= len(self.data) and self.broken:
            raise ConnectionResetError("connection reset by peer")
        chunk = self.data[self.pos : self.pos + (amt or len(self.data))]
        self.pos += len(chunk)
        return chunk

    def close(self) -> None:
        pass


def read_all(body: FragmentListBody) -> bytes:
    """Everything the body delivers, in 1000-byte reads."""
    out = b""
    while chunk := body.read(1000):
        out += chunk
    return out


def test_a_resumed_answer_with_other_bytes_is_refused() -> None:
    """If the service sends different bytes for the fragment being resumed, the reader is told."""
    first = b"".join(fragment(n) for n in NUMBERS)
    answers = [
        Body(first, cut_at=len(fragment("100")) + 9000),
        Body(b"".join(fragment(n, seed=1) for n in NUMBERS[1:])),
    ]
    body = FragmentListBody(NUMBERS, lambda batch: (answers.pop(0), "video/webm"), batch_size=1000)
    with pytest.raises(MediaIncompleteError, match="different bytes") as caught:
        read_all(body)
    assert caught.value.first_missing == "101"


def test_a_resumed_answer_with_the_same_bytes_is_seamless() -> None:
    """The same situation with identical bytes reads exactly the uninterrupted body."""
    whole = b"".join(fragment(n) for n in NUMBERS)
    requests: list[list[str]] = []
    answers = [
        Body(whole, cut_at=len(fragment("100")) + 9000),
        Body(b"".join(fragment(n) for n in NUMBERS[1:])),
    ]

    def open_batch(batch: list[str]) -> tuple[Body, str]:
        requests.append(batch)
        return answers.pop(0), "video/webm"

    assert read_all(FragmentListBody(NUMBERS, open_batch, batch_size=1000)) == whole
    assert requests == [NUMBERS, NUMBERS[1:]]


def test_a_short_answer_that_ends_cleanly_is_resumed() -> None:
    """An answer that ends cleanly with fewer fragments than asked is completed by a new request.

    The last fragment it holds may itself be cut between two blocks, so the
    new request starts with it and its bytes are skipped.
    """
    whole = b"".join(fragment(n) for n in NUMBERS)
    requests: list[list[str]] = []
    answers = [Body(whole[: len(fragment("100"))]), Body(whole)]

    def open_batch(batch: list[str]) -> tuple[Body, str]:
        requests.append(batch)
        return answers.pop(0), "video/webm"

    assert read_all(FragmentListBody(NUMBERS, open_batch, batch_size=1000)) == whole
    assert requests == [NUMBERS, NUMBERS]
