"""Lazy, re-iterable paginators over ListFragments and GetImages.

Nothing is requested until a pager is iterated, and each iteration starts
again from the first page, as botocore's ``PageIterator`` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, Callable, Optional, TypeVar

from ._errors import KVArchiveError
from ._models import Fragment, FragmentList, Image, fragment_sort_key
from ._notebook import (
    IMAGE_COLUMNS,
    fragments_frame,
    html_table,
    image_rows,
    images_frame,
)

__all__ = ["FragmentPager", "ImagePager", "image_windows"]

T = TypeVar("T")

PageFetcher = Callable[[Optional[str]], "tuple[list[T], Optional[str]]"]
"""Fetch one page given the NextToken (None first): its items and the next token."""

# GetImages accepts at most 300 s between StartTimestamp and EndTimestamp.
_IMAGES_MAX_SPAN = timedelta(seconds=300)
_ONE_MS = timedelta(milliseconds=1)


def _follow(fetch: PageFetcher[T], operation: str) -> Iterator[list[T]]:
    """Every page, following NextToken; raise rather than loop if a token comes back."""
    token: Optional[str] = None
    seen: set[str] = set()
    while True:
        items, token = fetch(token)
        yield items
        if not token:
            return
        if token in seen:
            raise KVArchiveError(f"{operation} returned a NextToken it had returned before")
        seen.add(token)


class FragmentPager:
    """The fragments of a time range (ListFragments), fetched page by page on demand.

    Iterating yields every :class:`Fragment`; sorted by the selected timestamp
    then fragment number when ``sort`` (the service returns them unordered),
    otherwise lazily in service order. :meth:`pages` yields the service's pages.
    """

    def __init__(self, fetch: PageFetcher[Fragment], *, sort: bool, timestamp_type: str) -> None:
        self._fetch = fetch
        self._sort = sort
        self._timestamp_type = timestamp_type

    def pages(self) -> Iterator[list[Fragment]]:
        """Each page as a list, lazily, in service order."""
        return _follow(self._fetch, "ListFragments")

    def __iter__(self) -> Iterator[Fragment]:
        if self._sort:
            fragments = [f for page in self.pages() for f in page]
            fragments.sort(key=fragment_sort_key(self._timestamp_type))
            return iter(fragments)
        return (f for page in self.pages() for f in page)

    def to_list(self) -> FragmentList:
        """Every fragment, fetched now, as a list that renders as a table in Jupyter."""
        return FragmentList(self)

    def to_pandas(self) -> Any:
        """Every fragment as a pandas DataFrame (needs ``pip install kvarchive[pandas]``)."""
        return fragments_frame(self)

    def _repr_html_(self) -> str:
        return self.to_list()._repr_html_()

    def __repr__(self) -> str:
        order = "sorted" if self._sort else "service order"
        return f"<FragmentPager {self._timestamp_type} {order}>"


class ImagePager:
    """Images sampled over a time range (GetImages), fetched window by window on demand.

    The service takes at most 300 s per request and returns at most 25 images
    per page; the range is split into aligned windows and every page followed.
    """

    def __init__(
        self,
        fetch: Callable[[datetime, datetime, Optional[str]], tuple[list[Image], Optional[str]]],
        *,
        start: datetime,
        end: datetime,
        sampling_interval_ms: int,
    ) -> None:
        self._fetch = fetch
        self._windows = image_windows(start, end, sampling_interval_ms)

    def pages(self) -> Iterator[list[Image]]:
        """Each page as a list, lazily, window after window."""
        for first, last in self._windows:

            def fetch(
                token: Optional[str], first: datetime = first, last: datetime = last
            ) -> tuple[list[Image], Optional[str]]:
                return self._fetch(first, last, token)

            yield from _follow(fetch, "GetImages")

    def __iter__(self) -> Iterator[Image]:
        return (image for page in self.pages() for image in page)

    def to_pandas(self) -> Any:
        """Every image as a pandas DataFrame (needs ``pip install kvarchive[pandas]``)."""
        return images_frame(self)

    def _repr_html_(self) -> str:
        images = list(self)
        return html_table(IMAGE_COLUMNS, image_rows(images), total=len(images))

    def __repr__(self) -> str:
        return f"<ImagePager {len(self._windows)} window(s)>"


def image_windows(
    start: datetime, end: datetime, sampling_interval_ms: int
) -> list[tuple[datetime, datetime]]:
    """Split ``[start, end]`` into GetImages requests of at most 300 s.

    Each window starts on a sampling instant (``start + k * interval``) so the
    images are those of one long request, and ends 1 ms before the next
    window so no instant is asked for twice.
    """
    interval = timedelta(milliseconds=sampling_interval_ms)
    aligned = (_IMAGES_MAX_SPAN // interval) * interval
    step = aligned if aligned else interval
    span = min(step, _IMAGES_MAX_SPAN)
    windows = []
    first = start
    while True:
        if first + step > end:
            windows.append((first, min(end, first + span)))
            return windows
        windows.append((first, first + span - _ONE_MS))
        first += step
