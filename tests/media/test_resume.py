"""FragmentListBody's resume logic on bodies that misbehave in ways a server rarely does."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Optional

import pytest

from kvarchive import MediaIncompleteError, MediaStream, ServiceError
from kvarchive._media.resume import FragmentListBody
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


class Requests:
    """A body source double that records every request and answers from a script.

    The ``answers`` come first, then a fresh ``Body(*again)`` for every later
    request. It refuses what the service would (an empty fragment list) and
    stops a reader that keeps asking, so a test fails instead of hanging.
    """

    def __init__(self, *answers: Body, again: Optional[tuple[bytes, Optional[int]]] = None) -> None:
        self.answers = list(answers)
        self.again = again
        self.made: list[list[str]] = []

    def __call__(self, batch: list[str]) -> tuple[Body, str]:
        assert batch, "an empty fragment list was requested"
        self.made.append(batch)
        assert len(self.made) <= 10, "the body keeps being requested"
        if self.answers:
            return self.answers.pop(0), "video/webm"
        assert self.again is not None
        return Body(*self.again), "video/webm"


def read_fragments(media: MediaStream, chunk_size: int) -> tuple[list[str], Exception]:
    """The numbers iter_fragments yields before it raises, and what it raises."""
    numbers: list[str] = []
    with pytest.raises(Exception) as caught:  # each test checks what it is
        for fragment in media.iter_fragments(chunk_size):
            assert fragment.number is not None
            numbers.append(fragment.number)
    return numbers, caught.value


@pytest.mark.parametrize("chunk_size", [1, 7, 1000, 1 << 20])
@pytest.mark.parametrize("batch_size", [1, 2, 1000])
def test_an_answer_with_more_fragments_than_asked_for_is_refused(
    chunk_size: int, batch_size: int
) -> None:
    """A body holding more fragments than asked for, then cut, ends in MediaIncompleteError.

    It never asks for an empty fragment list nor loops: the fragments asked
    for are yielded, then the error, within the usual attempts.
    """
    asked = NUMBERS[:2]
    extra = b"".join(fragment(n) for n in NUMBERS) + fragment("103")
    requests = Requests(again=(extra, len(extra) - 500))
    media = MediaStream.for_fragments(asked, requests, batch_size=batch_size)
    with media:
        numbers, error = read_fragments(media, chunk_size)
    assert isinstance(error, MediaIncompleteError)
    assert "more fragments" in str(error)
    assert numbers == asked[:batch_size]
    assert len(requests.made) <= 4


def test_reads_stop_at_the_end_of_the_fragments_asked_for() -> None:
    """read() hands out exactly the fragments asked for, then raises instead of the extra bytes."""
    whole = b"".join(fragment(n) for n in NUMBERS)
    requests = Requests(Body(whole))
    media = MediaStream.for_fragments(NUMBERS[:2], requests, batch_size=1000)
    got = b""
    with media, pytest.raises(MediaIncompleteError):
        while piece := media.read(333):
            got += piece
    assert got == fragment("100") + fragment("101")


@pytest.mark.parametrize("into_next", [12, 40, 300, 5000])
def test_a_resumed_answer_from_byte_zero_is_refused(into_next: int) -> None:
    """After a cut in the second fragment, an answer that starts over at the first is refused.

    The fragments share their first few hundred bytes (EBML header, Info,
    Tracks), so the check of the skipped bytes alone cannot tell them apart.
    """
    whole = b"".join(fragment(n) for n in NUMBERS)
    cut = len(fragment("100")) + into_next
    requests = Requests(Body(whole, cut_at=cut), again=(whole, None))
    media = MediaStream.for_fragments(NUMBERS, requests, batch_size=1000)
    got = b""
    with media, pytest.raises(MediaIncompleteError, match="answered with") as caught:
        while piece := media.read(100):
            got += piece
    assert caught.value.first_missing == "101"
    assert got == whole[: len(got)]
    assert requests.made == [NUMBERS, NUMBERS[1:]]


def test_an_answer_from_byte_zero_after_every_cut_ends_quickly() -> None:
    """A source that always starts over and is always cut gives an error, not an endless loop."""
    whole = b"".join(fragment(n) for n in NUMBERS)
    cut = len(fragment("100")) + 60
    requests = Requests(again=(whole, cut))
    media = MediaStream.for_fragments(NUMBERS, requests, batch_size=1000)
    with media:
        numbers, error = read_fragments(media, 1000)
    assert isinstance(error, MediaIncompleteError)
    assert numbers == ["100"]
    assert len(requests.made) == 2


def test_a_first_answer_that_begins_elsewhere_is_refused() -> None:
    """An answer that does not begin with the first fragment asked for never reaches the reader."""
    requests = Requests(Body(b"".join(fragment(n) for n in NUMBERS)))
    media = MediaStream.for_fragments(NUMBERS[1:], requests, batch_size=1000)
    with media, pytest.raises(MediaIncompleteError, match="answered with 100") as caught:
        media.read(10)
    assert caught.value.first_missing == "101"


def getmedia_error_chunk(number: str) -> bytes:
    """An error chunk spelled as GetMedia and the parsers spell it: ERROR_ID and ERROR_CODE."""
    from mkvbuild import B, E

    tags = {
        "AWS_KINESISVIDEO_FRAGMENT_NUMBER": number,
        "AWS_KINESISVIDEO_ERROR_ID": "4000",
        "AWS_KINESISVIDEO_ERROR_CODE": "Requested fragment is not found",
    }
    return B.header() + B.master(E.SEGMENT, B.tags(tags), known=False)


@pytest.mark.parametrize("read_size", [1, 7, 1000, 1 << 20])
def test_reads_stop_before_an_error_chunk_of_either_spelling(read_size: int) -> None:
    """Reads of any size return exactly the fragments before an error chunk (GetMedia's
    ERROR_ID / ERROR_CODE tags here), then raise its ServiceError naming the fragment."""
    data = fragment("100") + getmedia_error_chunk("101") + fragment("102")
    body = FragmentListBody(NUMBERS, lambda batch: (Body(data), "video/webm"), batch_size=1000)
    out = b""
    with pytest.raises(ServiceError) as caught:
        while chunk := body.read(read_size):
            out += chunk
    assert out == fragment("100")
    assert (caught.value.code, caught.value.message) == (
        "4000",
        "fragment 101: Requested fragment is not found",
    )
