"""Pagers: laziness, re-iteration, ordering, repeated tokens and GetImages windows."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Optional

import pytest

from kvarchive import Fragment, KVArchiveError
from kvarchive._paginate import FragmentPager

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def fragment(number: str, second: float) -> Fragment:
    """A fragment whose both timestamps are T0 + second."""
    when = T0 + timedelta(seconds=second)
    return Fragment(number, 10, when, when, timedelta(seconds=2))


class Pages:
    """Serves fixed pages by token and records every request."""

    def __init__(self, pages: list[list[Fragment]], tokens: Optional[list[str]] = None) -> None:
        self.pages = pages
        self.tokens = tokens or [f"t{i}" for i in range(1, len(pages))]
        self.requests: list[Optional[str]] = []

    def __call__(self, token: Optional[str]) -> tuple[list[Fragment], Optional[str]]:
        self.requests.append(token)
        index = 0 if token is None else int(token[1:])
        following = self.tokens[index] if index < len(self.tokens) else None
        return self.pages[index], following


def test_nothing_is_fetched_until_iterated() -> None:
    """Making a pager sends no request."""
    fetch = Pages([[fragment("1", 0)]])
    FragmentPager(fetch, sort=True, timestamp_type="SERVER_TIMESTAMP")
    assert fetch.requests == []


def test_sorted_by_timestamp_then_number_as_integer() -> None:
    """Sorting compares numbers as integers: '9' comes before '10' at the same time."""
    pages = [[fragment("10", 5), fragment("9", 5)], [fragment("100", 1)]]
    pager = FragmentPager(Pages(pages), sort=True, timestamp_type="SERVER_TIMESTAMP")
    assert [f.number for f in pager] == ["100", "9", "10"]


def test_producer_timestamp_ordering() -> None:
    """With PRODUCER_TIMESTAMP the producer time decides the order."""
    a = Fragment("1", 1, T0 + timedelta(seconds=5), T0, timedelta(0))
    b = Fragment("2", 1, T0, T0 + timedelta(seconds=5), timedelta(0))
    pager = FragmentPager(Pages([[a, b]]), sort=True, timestamp_type="PRODUCER_TIMESTAMP")
    assert [f.number for f in pager] == ["2", "1"]


def test_unsorted_iteration_is_lazy_and_in_service_order() -> None:
    """sort=False yields page by page, fetching the next page only when needed."""
    fetch = Pages([[fragment("3", 3), fragment("1", 1)], [fragment("2", 2)]])
    iterator = iter(FragmentPager(fetch, sort=False, timestamp_type="SERVER_TIMESTAMP"))
    assert [next(iterator).number, next(iterator).number] == ["3", "1"]
    assert fetch.requests == [None]
    assert next(iterator).number == "2"
    assert fetch.requests == [None, "t1"]


def test_pager_is_reiterable() -> None:
    """Each iteration starts again from the first page."""
    fetch = Pages([[fragment("1", 0)], [fragment("2", 1)]])
    pager = FragmentPager(fetch, sort=True, timestamp_type="SERVER_TIMESTAMP")
    assert [f.number for f in pager] == [f.number for f in pager] == ["1", "2"]
    assert fetch.requests == [None, "t1", None, "t1"]


def test_pages_are_lists_in_service_order() -> None:
    """pages() yields each page as the service returned it."""
    pages = [[fragment("2", 2), fragment("1", 1)], [fragment("3", 3)]]
    pager = FragmentPager(Pages(pages), sort=True, timestamp_type="SERVER_TIMESTAMP")
    assert [[f.number for f in page] for page in pager.pages()] == [["2", "1"], ["3"]]


def test_a_repeated_next_token_raises_instead_of_looping() -> None:
    """A NextToken seen before means the service is looping: raise."""
    fetch = Pages([[fragment("1", 0)], [fragment("2", 1)], [fragment("3", 2)]], ["t1", "t1"])
    with pytest.raises(KVArchiveError, match="NextToken"):
        list(FragmentPager(fetch, sort=True, timestamp_type="SERVER_TIMESTAMP"))
