"""The media of a fragment list, fetched in batches and resumed after a dropped connection.

GetMediaForFragmentList has no byte ranges, but its fragment list is a
natural resume point: after a drop, ask again for the fragments not yet
complete, skip the bytes of the first one the reader already has (checking
that the last few KiB of them are the same), and go on. A close-delimited body
that is cut looks like a clean end, so the end of every body is checked
against the Matroska structure and the number of fragments asked for.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Callable, Optional

from ._ebml import TAGS
from ._errors import EndpointUnreachableError, MediaIncompleteError
from ._fragment_info import FragmentInfo
from ._mkv import FragmentScanner

__all__ = ["FragmentListBody", "is_connection_error"]

log = logging.getLogger("kvarchive")

# A read that fails loses what it had received, so reads are capped to keep a
# drop from costing more than this much of an already delivered fragment.
_MAX_READ = 1 << 20
# After a resume, this much of what the reader already had is compared with the
# new answer: enough to catch a different fragment, at no cost per byte read.
_CHECKED_TAIL = 4096

BatchOpener = Callable[[list[str]], "tuple[object, str]"]
"""Request the media of some fragments: the streaming body and its content type."""


class FragmentListBody:
    """Reads the media of ``numbers`` in order, as if it were one uninterrupted body.

    Requests at most ``batch_size`` fragments at a time. After a drop it resumes
    at the first fragment not yet complete; it gives up with MediaIncompleteError
    after ``max_stalls`` drops in a row that brought no new complete fragment.
    """

    def __init__(
        self,
        numbers: list[str],
        open_batch: BatchOpener,
        *,
        batch_size: int,
        max_stalls: int = 3,
    ) -> None:
        self._numbers = numbers
        self._open_batch = open_batch
        self._batch_size = batch_size
        self._max_stalls = max_stalls
        self._scanner = FragmentScanner()
        self._scanner.metadata = frozenset()  # boundaries only, until someone collects
        self._body: Optional[object] = None
        self._requested_end = 0  # index past the last fragment of the request in progress
        self._fragment_base = 0  # body offset where the fragment in progress began
        self._partial_tail = b""  # the last bytes delivered of the fragment in progress
        self._skip = 0  # bytes of a resumed answer the reader already has
        self._skipped_tail = b""
        self._stalls = 0
        self._progress_mark = 0
        self._collected: Optional[deque[tuple[FragmentInfo, str]]] = None
        self.content_type = self._request(0)

    @property
    def collected(self) -> Optional[deque[tuple[FragmentInfo, str]]]:
        """Completed fragments with their requested numbers, while someone collects them."""
        return self._collected

    @collected.setter
    def collected(self, queue: Optional[deque[tuple[FragmentInfo, str]]]) -> None:
        # Tags are read only for a collector (iter_fragments); plain reads need boundaries.
        self._collected = queue
        self._scanner.metadata = frozenset() if queue is None else frozenset({TAGS})

    @property
    def fragment_base(self) -> int:
        """Body offset where the fragment in progress began."""
        return self._fragment_base

    def read(self, amt: Optional[int] = None) -> bytes:
        """The next bytes of the uninterrupted body; ``b""`` once every fragment is in."""
        while self._body is not None:
            try:
                size = _MAX_READ if amt is None or amt < 0 else min(amt, _MAX_READ)
                data: bytes = self._body.read(size)  # type: ignore[attr-defined]
            except Exception as exc:
                if not is_connection_error(exc):
                    raise
                self._resume(exc)
                continue
            if not data:
                self._end_of_answer()
                continue
            if self._skip:
                data = self._skip_delivered(data)
                if not data:
                    continue
            self._deliver(data)
            return data
        return b""

    def close(self) -> None:
        """Release the connection in use, if any."""
        body, self._body = self._body, None
        if body is not None:
            body.close()  # type: ignore[attr-defined]

    # -- requests ----------------------------------------------------------------------

    def _request(self, index: int) -> str:
        batch = self._numbers[index : index + self._batch_size]
        body, content_type = self._open_batch(batch)
        self._body = body
        self._requested_end = index + len(batch)
        return content_type

    def _end_of_answer(self) -> None:
        """An answer ended: go on to the next batch, finish, or resume if it was cut."""
        in_progress = 1 if self._scanner.offset > self._fragment_base else 0
        seen = self._scanner.completed + in_progress
        if seen < self._requested_end or not self._scanner.clean_end:
            self._resume(None)
            return
        self.close()
        if self._requested_end < len(self._numbers):
            self._request(self._requested_end)
            return
        index = self._scanner.completed
        for info in self._scanner.finish():
            self._completed(info, index)

    def _resume(self, cause: Optional[BaseException]) -> None:
        """Ask again for the fragments from the one in progress on."""
        self.close()
        done = self._scanner.completed
        if done > self._progress_mark:
            self._progress_mark = done
            self._stalls = 0
        self._stalls += 1
        first_missing = self._numbers[done] if done < len(self._numbers) else None
        if self._stalls > self._max_stalls:
            raise MediaIncompleteError(
                f"GetMediaForFragmentList stopped {self._stalls} times in a row without "
                f"delivering a new fragment; first fragment not delivered: {first_missing}",
                first_missing,
            ) from cause
        log.info(
            "media connection dropped at byte %d (%s); resuming at fragment %s",
            self._scanner.offset,
            cause or "body ended early",
            first_missing,
        )
        self._skip = self._scanner.offset - self._fragment_base
        self._skipped_tail = b""
        try:
            self._request(done)
        except EndpointUnreachableError as exc:
            self._resume(exc)

    # -- bytes -------------------------------------------------------------------------

    def _skip_delivered(self, data: bytes) -> bytes:
        """Drop the start of a resumed answer that the reader already has, checking its end."""
        count = min(self._skip, len(data))
        self._skipped_tail = _tail(self._skipped_tail, data[max(0, count - _CHECKED_TAIL) : count])
        self._skip -= count
        if not self._skip and self._skipped_tail != self._partial_tail:
            first = self._numbers[self._scanner.completed]
            raise MediaIncompleteError(
                f"after resuming, the service sent different bytes for fragment {first}",
                first,
            )
        return data[count:]

    def _deliver(self, data: bytes) -> None:
        """Account for bytes handed to the reader: fragment boundaries and the checked tail."""
        index = self._scanner.completed
        infos = self._scanner.feed(data)
        tail = _tail(self._partial_tail, data)
        if infos:
            # The new fragment may have begun in an earlier read (its header cut by a
            # read boundary): its first bytes are then in the tail kept so far.
            self._fragment_base = infos[-1].end
            kept = min(self._scanner.offset - self._fragment_base, _CHECKED_TAIL)
            tail = tail[len(tail) - kept :]
            for offset, info in enumerate(infos):
                self._completed(info, index + offset)
        self._partial_tail = tail

    def _completed(self, info: FragmentInfo, index: int) -> None:
        if self._collected is not None:
            requested = self._numbers[index] if index < len(self._numbers) else ""
            self._collected.append((info, requested))


def _tail(kept: bytes, data: bytes) -> bytes:
    """The last ``_CHECKED_TAIL`` bytes of ``kept + data``, copying no more of ``data``."""
    if len(data) >= _CHECKED_TAIL:
        return data[len(data) - _CHECKED_TAIL :]
    return (kept + data)[-_CHECKED_TAIL:]


def is_connection_error(exc: BaseException) -> bool:
    """True for the ways a body read fails when the connection drops or stalls."""
    from http.client import HTTPException

    from botocore.exceptions import BotoCoreError
    from urllib3.exceptions import HTTPError

    return isinstance(exc, (BotoCoreError, HTTPError, HTTPException, ConnectionError, TimeoutError))
