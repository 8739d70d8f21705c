"""The media of a fragment list, fetched in batches and resumed after a dropped connection.

GetMediaForFragmentList has no byte ranges, but its fragment list is a
natural resume point: after a drop, ask again for the fragments not yet
complete, skip the bytes of the first one the reader already has (checking
that the last few KiB of them are the same), and go on. Every answer must
begin with the first fragment it asked for (its fragment number tag says so)
and hold no more fragments than it asked for. A close-delimited body that is
cut looks like a clean end, so the end of every body is checked against the
Matroska structure and the number of fragments asked for. A fragment the
service cannot serve comes inside the 200 as an error chunk (its tags say so):
the reader gets the bytes of the fragments before it, then its ServiceError. To
tell the two apart, the start of each fragment (up to its first Cluster, a few
KiB: an error chunk has none) is handed out only once its tags are known.
"""

from __future__ import annotations

import logging
from typing import Callable, Optional

from kvarchive._aws.translate import is_connection_error
from kvarchive._errors import EndpointUnreachableError, KVArchiveError, MediaIncompleteError
from kvarchive._matroska.fragment_info import FragmentInfo
from kvarchive._matroska.ids import TAGS
from kvarchive._matroska.scanner import FragmentScanner
from kvarchive._media.scanned import ScannedBody, fragment_error
from kvarchive._types import Body

__all__ = ["FragmentListBody"]

log = logging.getLogger("kvarchive")

# A read that fails loses what it had received, so reads are capped to keep a
# drop from costing more than this much of an already delivered fragment.
_MAX_READ = 1 << 20
# After a resume, this much of what the reader already had is compared with the
# new answer: enough to catch a different fragment, at no cost per byte read.
_CHECKED_TAIL = 4096

# An answer's start is read this much at a time until its first fragment's number is known.
_CHECK_STEP = 4096

BatchOpener = Callable[[list[str]], "tuple[Body, str]"]
"""Request the media of some fragments: the streaming body and its content type."""


class FragmentListBody(ScannedBody):
    """Reads the media of ``numbers`` in order, as if it were one uninterrupted body.

    Requests at most ``batch_size`` fragments at a time. After a drop it resumes
    at the first fragment not yet complete; it gives up with MediaIncompleteError
    after ``max_stalls`` drops in a row that brought no new complete fragment,
    and at once when an answer begins with another fragment than the one asked
    for or holds more fragments than were asked for.
    """

    # Error chunks are told by their tags: read them for plain reads too (they are small).
    plain_metadata = frozenset({TAGS})

    def __init__(
        self,
        numbers: list[str],
        open_batch: BatchOpener,
        *,
        batch_size: int,
        max_stalls: int = 3,
    ) -> None:
        super().__init__()
        self._numbers = numbers
        self._open_batch = open_batch
        self._batch_size = batch_size
        self._max_stalls = max_stalls
        self._body: Optional[Body] = None
        self._requested_end = 0  # index past the last fragment of the request in progress
        self._partial_tail = b""  # the last bytes delivered of the fragment in progress
        self._skip = 0  # bytes of a resumed answer the reader already has
        self._skipped_tail = b""
        self._stalls = 0
        self._progress_mark = 0
        self._check: Optional[_AnswerCheck] = None  # until the answer's first fragment is known
        self._held = bytearray()  # answer bytes for the reader, held while the check runs
        self._refusal: Optional[KVArchiveError] = None  # raised by the next read
        self._error_at: Optional[int] = None  # body offset of an error chunk found
        self._withheld = bytearray()  # scanned, not yet handed out (a fragment's start)
        self._withheld_start = 0  # its body offset
        self._release_to = 0  # body offset up to which the withheld bytes may go out
        self.content_type = self._request(0)

    def read(self, amt: Optional[int] = None) -> bytes:
        """The next bytes of the uninterrupted body; ``b""`` once every fragment is in."""
        size = _MAX_READ if amt is None or amt < 0 else min(amt, _MAX_READ)
        if self._withheld_start < self._release_to:
            return self._release(size)
        if self._refusal is not None:
            raise self._refusal
        while True:
            if self._held and self._check is None:
                data = bytes(self._held[:size])
                del self._held[:size]
                if out := self._hand_out(data, size):
                    return out
                continue
            if self._body is None:  # the end: a last fragment without a Cluster too
                self._release_to = self._withheld_start + len(self._withheld)
                return self._release(size)
            try:
                data = self._body.read(size)
            except Exception as exc:
                if not is_connection_error(exc):
                    raise
                self._resume(exc)
                continue
            if not data:
                self._end_of_answer()
                continue
            if self._check is not None and self._check.feed(data):
                self._check = None
            if self._skip:
                data = self._skip_delivered(data)
            if self._check is not None or self._held:
                self._held += data
            elif data and (out := self._hand_out(data, size)):
                return out

    def close(self) -> None:
        """Release the connection in use, if any."""
        body, self._body = self._body, None
        if body is not None:
            body.close()

    # -- requests ----------------------------------------------------------------------

    def _request(self, index: int) -> str:
        batch = self._numbers[index : index + self._batch_size]
        body, content_type = self._open_batch(batch)
        self._body = body
        self._requested_end = index + len(batch)
        self._check = _AnswerCheck(batch[0], self._scanner.offset - self._skip)
        return content_type

    def _end_of_answer(self) -> None:
        """An answer ended: go on to the next batch, finish, or resume if it was cut."""
        if self._check is not None:
            if self._check.end():
                self._check = None  # hand out the bytes held first: the end is read again
            else:
                self._resume(None)
            return
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
            self._completed(info, self._numbers[index])

    def _resume(self, cause: Optional[BaseException]) -> None:
        """Ask again for the fragments from the one in progress on."""
        self.close()
        done = self._scanner.completed
        if done > self._progress_mark:
            self._progress_mark = done
            self._stalls = 0
        self._stalls += 1
        first_missing = self._numbers[done]
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
        self._held.clear()
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

    def _hand_out(self, data: bytes, size: int) -> bytes:
        """At most ``size`` bytes of what was withheld and ``data``, as far as they may go out.

        The start of a fragment whose first Cluster has not begun is withheld (an
        error chunk is never handed out); ``b""`` means "read on", except that
        with nothing to hand out before an error chunk, its ServiceError is raised.
        """
        chunk_start = self._scanner.offset
        fed = self._deliver(data)
        if not self._withheld:
            self._withheld_start = chunk_start
        base = self._withheld_start
        end = base + len(self._withheld) + len(fed)
        if self._error_at is not None:
            end = keep = max(base, min(end, self._error_at))
        else:
            current = self._scanner.current_fragment
            keep = min(end, self._scanner.settled)  # a cut header may start the next fragment
            if current is not None and current.clusters == 0:
                keep = min(keep, current.start)
            keep = max(keep, base)
        if keep == base and self._refusal is not None:
            raise self._refusal
        if not self._withheld and keep == end and len(fed) <= size:
            self._withheld_start = self._release_to = end  # the usual case: no copy
            return fed
        self._withheld += fed
        del self._withheld[end - base :]
        self._release_to = keep
        return self._release(size)

    def _release(self, size: int) -> bytes:
        """Hand out up to ``size`` of the withheld bytes that may go out."""
        count = min(size, self._release_to - self._withheld_start)
        out = bytes(self._withheld[:count])
        del self._withheld[:count]
        self._withheld_start += count
        return out

    def _deliver(self, data: bytes) -> bytes:
        """Account for bytes handed to the reader (fragment boundaries, the checked tail).

        Returns what the reader gets: ``data``, or if the answer holds more
        fragments than were asked for, its part up to their end (unless the
        reader already has the start of the next header: reads of a few bytes).
        """
        chunk_start = self._scanner.offset
        index = self._scanner.completed
        infos = self._scanner.feed(data)
        if index + len(infos) >= self._requested_end:  # the next header read is one too many
            infos = infos[: self._requested_end - index]
            if infos[-1].end > chunk_start:
                data = data[: infos[-1].end - chunk_start]
            self._refuse_extra_fragments()
        failed = self._error_chunk(infos, index)
        if failed is not None:
            position, infos = failed
            data = data[: max(0, position - chunk_start)]
        tail = _tail(self._partial_tail, data)
        if infos:
            # The new fragment may have begun in an earlier read (its header cut by a
            # read boundary): its first bytes are then in the tail kept so far.
            kept = min(self._scanner.offset - infos[-1].end, _CHECKED_TAIL)
            tail = tail[len(tail) - kept :]
            for offset, info in enumerate(infos):
                self._completed(info, self._numbers[index + offset])
        self._partial_tail = tail
        return data

    def _error_chunk(
        self, infos: list[FragmentInfo], index: int
    ) -> Optional[tuple[int, list[FragmentInfo]]]:
        """Where the first error chunk among ``infos`` and the fragment in progress starts,
        and the fragments before it; the next read raises its ServiceError. None if none."""
        current = self._scanner.current_fragment
        candidates = [*infos, current] if current is not None else infos
        for offset, info in enumerate(candidates):
            error = fragment_error(info, self._numbers[min(index + offset, len(self._numbers) - 1)])
            if error is not None:
                error.operation = "GetMediaForFragmentList"
                self.close()
                self._refusal, self._error_at = error, info.start
                return info.start, infos[:offset]
        return None

    def _refuse_extra_fragments(self) -> None:
        """Stop at the end of the fragments asked for: the next read raises."""
        self.close()
        following = self._numbers[self._requested_end : self._requested_end + 1]
        self._refusal = MediaIncompleteError(
            "GetMediaForFragmentList answered with more fragments than were asked for",
            following[0] if following else None,
        )


class _AnswerCheck:
    """The start of one answer, read until its first fragment's number is known.

    An answer that begins elsewhere (for example at byte 0 again, after a resume)
    is refused: its bytes never reach the reader.
    """

    def __init__(self, expected: str, start: int) -> None:
        self._expected = expected
        # ``start``: the body offset of the answer.
        self._scanner = FragmentScanner(start=start, metadata=frozenset({TAGS}))

    def feed(self, data: bytes) -> bool:
        """Read more of the answer; True once its first fragment is the one asked for."""
        view = memoryview(data)
        # In steps: the number tag comes within the first KiB, and a read may be a MiB.
        for step in range(0, len(view), _CHECK_STEP):
            found = self._scanner.feed(view[step : step + _CHECK_STEP])
            if found:
                return self._judge(found[0])
            current = self._scanner.current_fragment
            if current is not None and (current.number is not None or current.is_error):
                return self._judge(current)
        return False  # its tags may be still to come

    def end(self) -> bool:
        """The answer ended: True if it began with the fragment asked for, False if unknown."""
        if not self._scanner.clean_end:
            return False
        found = self._scanner.finish()
        return bool(found) and self._judge(found[0])

    def _judge(self, first: FragmentInfo) -> bool:
        # An error chunk is let through, to raise the service's error where it is read.
        if first.number != self._expected and not first.is_error:
            raise MediaIncompleteError(
                f"GetMediaForFragmentList was asked for fragments from {self._expected} on "
                f"but answered with {first.number or 'a fragment without a number'}",
                self._expected,
            )
        return True


def _tail(kept: bytes, data: bytes) -> bytes:
    """The last ``_CHECKED_TAIL`` bytes of ``kept + data``, copying no more of ``data``."""
    if len(data) >= _CHECKED_TAIL:
        return data[len(data) - _CHECKED_TAIL :]
    return (kept + data)[-_CHECKED_TAIL:]
