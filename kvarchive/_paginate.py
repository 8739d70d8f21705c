"""Lazy, re-iterable paginators over ListFragments and GetImages.

Nothing is requested until a pager is iterated, and each iteration starts
again from the first page, as botocore's ``PageIterator`` does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any, Callable, Optional, TypeVar

from ._errors import KVArchiveError
from ._image_plan import (
    MAX_SPAN_MS,
    EmptyRun,
    ImageRequest,
    ListPage,
    SamplingGrid,
    from_ms,
    plan_requests,
    stored_fragments,
    to_ms,
)
from ._models import Fragment, FragmentList, Image, fragment_sort_key
from ._notebook import (
    IMAGE_COLUMNS,
    fragments_frame,
    html_table,
    image_rows,
    images_frame,
)
from ._timeline import Timeline, build_timeline

__all__ = ["FragmentPager", "ImagePager"]

T = TypeVar("T")

PageFetcher = Callable[[Optional[str]], "tuple[list[T], Optional[str]]"]
"""Fetch one page given the NextToken (None first): its items and the next token."""

_ONE_MS = timedelta(milliseconds=1)
_PLACEHOLDER_PAGE = 1000


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
    ``start`` and ``end`` are the range asked for, which :meth:`timeline` draws.
    """

    def __init__(
        self,
        fetch: PageFetcher[Fragment],
        *,
        sort: bool,
        timestamp_type: str,
        start: Optional[datetime] = None,
        end: Optional[datetime] = None,
    ) -> None:
        self._fetch = fetch
        self._sort = sort
        self._timestamp_type = timestamp_type
        self._start = start
        self._end = end

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
        """Every fragment as a pandas DataFrame (needs ``pip install "kvarchive[pandas]"``)."""
        return fragments_frame(self)

    def timeline(self) -> Timeline:
        """What the range holds: its stored spans and the gaps between them (ListFragments).

        Fragments are merged into spans page by page, never held all at once.
        A gap is more than a fragment's duration without a fragment. Jupyter
        draws the result (HTML with an inline SVG); ``str()`` tells it as text.
        """
        fragments = (f for page in self.pages() for f in page)
        return build_timeline(
            fragments, timestamp_type=self._timestamp_type, start=self._start, end=self._end
        )

    def _repr_html_(self) -> str:
        return self.to_list()._repr_html_()

    def __repr__(self) -> str:
        order = "sorted" if self._sort else "service order"
        return f"<FragmentPager {self._timestamp_type} {order}>"


class ImagePager:
    """Images sampled over a time range (GetImages), fetched request by request on demand.

    Instants no stored fragment covers are skipped (or, with
    ``include_empty``, yielded as NO_MEDIA placeholders without asking the
    service); see :mod:`kvarchive._image_plan` for how a range becomes
    requests of at most 300 s that miss no instant where media is stored.
    """

    def __init__(
        self,
        fetch: Callable[
            [datetime, datetime, int, Optional[str]], tuple[list[Image], Optional[str]]
        ],
        list_page: ListPage,
        *,
        grid: SamplingGrid,
        timestamp_type: str,
        include_empty: bool,
    ) -> None:
        self._fetch = fetch
        self._list_page = list_page
        self._grid = grid
        self._timestamp_type = timestamp_type
        self._include_empty = include_empty

    @property
    def start(self) -> datetime:
        """The first sampling instant (``start`` cut to the millisecond, as it is sent)."""
        return from_ms(self._grid.start)

    @property
    def sampling_interval(self) -> timedelta:
        """The time between two sampling instants."""
        return self._grid.interval * _ONE_MS

    @property
    def instant_count(self) -> int:
        """How many sampling instants the range holds, ``end`` included."""
        return self._grid.last_index + 1

    def pages(self) -> Iterator[list[Image]]:
        """Each page of images as a list, lazily, in time order."""
        for step in plan_requests(self._grid, self._stored_spans()):
            if isinstance(step, EmptyRun):
                if self._include_empty:
                    yield from self._placeholders(step)
                continue

            def fetch(
                token: Optional[str], step: ImageRequest = step
            ) -> tuple[list[Image], Optional[str]]:
                return self._fetch(from_ms(step.start), from_ms(step.end), step.interval, token)

            for page in _follow(fetch, "GetImages"):
                kept = [
                    image
                    for image in page
                    if step.keeps(to_ms(image.timestamp))
                    and (self._include_empty or image.error != "NO_MEDIA")
                ]
                if kept:
                    yield kept

    def __iter__(self) -> Iterator[Image]:
        return (image for page in self.pages() for image in page)

    def to_pandas(self) -> Any:
        """Every image as a pandas DataFrame (needs ``pip install "kvarchive[pandas]"``)."""
        return images_frame(self)

    def _repr_html_(self) -> str:
        images = list(self)
        return html_table(IMAGE_COLUMNS, image_rows(images), total=len(images))

    def __repr__(self) -> str:
        return (
            f"<ImagePager {self.instant_count} instant(s) every {self._grid.interval} ms "
            f"from {self.start.isoformat()}>"
        )

    def _stored_spans(self) -> Iterable[tuple[int, int]]:
        """Where media is stored, as (start, end) ms of each fragment, in order.

        The listing begins 300 s before the range, the most a request can reach
        back: so the fragment that holds the first instant is found even when
        it began before ``start``, and the first request begins at its start.
        """
        grid = self._grid
        producer = self._timestamp_type == "PRODUCER_TIMESTAMP"

        def start_ms(fragment: Fragment) -> int:
            return to_ms(fragment.producer_timestamp if producer else fragment.server_timestamp)

        return (
            (start_ms(f), start_ms(f) + f.duration // _ONE_MS)
            for f in stored_fragments(self._list_page, grid.start - MAX_SPAN_MS, grid.end, start_ms)
        )

    def _placeholders(self, run: EmptyRun) -> Iterator[list[Image]]:
        """NO_MEDIA images for a run of instants without media, in pages."""
        for first in range(run.first, run.last + 1, _PLACEHOLDER_PAGE):
            last = min(run.last, first + _PLACEHOLDER_PAGE - 1)
            yield [
                Image(timestamp=from_ms(self._grid.instant(k)), error="NO_MEDIA")
                for k in range(first, last + 1)
            ]
