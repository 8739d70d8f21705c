"""``Follower``: the iterator ``follow()`` and ``follow_media()`` return, and its checkpoints.

A fragment counts as consumed when the loop asks for the next one, or when
the iterator is closed or left while the fragment is in hand: that is when
the checkpoint is saved. A process killed while it handles a fragment sees
that fragment again when it restarts, and nothing else twice: at least once
per fragment body, exactly once per completed step, as Kinesis consumers
checkpoint. Leaving a ``with`` block on an exception does not count the
fragment in hand, so a failed step is tried again by the next run. A
follower dropped without ``close()`` is closed as Python closes a file left
open: it still saves, and says so with a ``ResourceWarning``.
"""

from __future__ import annotations

import functools
import math
import threading
import warnings
from collections import deque
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from types import TracebackType
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Generic,
    Literal,
    NamedTuple,
    Optional,
    Protocol,
    TypeVar,
    Union,
    overload,
)

from ._checkpoint import Checkpoint
from ._errors import KVArchiveError, KVArchiveWarning, ValidationError
from ._follow_engine import FollowEngine
from ._follow_state import FollowState
from ._media.stream import MediaStream
from ._models import Fragment, MediaFragment
from ._paginate import FragmentPager
from ._params import check_timestamp_type, fragment_selector
from ._service import LIST_MAX_RESULTS, MEDIA_MAX_FRAGMENTS
from ._times import parse_time
from ._types import StreamRef, TimeLike
from ._validate import check_seconds, stream_key

if TYPE_CHECKING:
    from ._aws.operations import Operations

__all__ = ["FollowOptions", "Follower", "open_follower"]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

MEDIA_BATCH = 100
"""Fragments per GetMediaForFragmentList call of follow_media(): released ones, up to this."""

MediaOpener = Callable[[list[Fragment]], MediaStream]


class _Source(Protocol[T_co]):
    """Where a Follower takes its items from: each with the listed fragment it stands for."""

    def next_item(self) -> Optional[tuple[T_co, Fragment]]: ...

    def close(self) -> None: ...


class _FragmentSource:
    """follow(): the released fragments themselves."""

    def __init__(self, engine: FollowEngine) -> None:
        self._engine = engine
        self._batch: deque[Fragment] = deque()

    def next_item(self) -> Optional[tuple[Fragment, Fragment]]:
        if not self._batch:
            self._batch.extend(self._engine.next_ready(MEDIA_BATCH))
        if not self._batch:
            return None
        fragment = self._batch.popleft()
        return fragment, fragment

    def close(self) -> None:
        self._batch.clear()


class _MediaSource:
    """follow_media(): the media of the released fragments, a batch per call, one at a time."""

    def __init__(self, engine: FollowEngine, open_media: MediaOpener) -> None:
        self._engine = engine
        self._open_media = open_media
        self._stream: Optional[MediaStream] = None
        self._media: Iterator[MediaFragment] = iter(())
        self._expected: deque[Fragment] = deque()

    def next_item(self) -> Optional[tuple[MediaFragment, Fragment]]:
        if not self._expected:
            self.close()
            batch = self._engine.next_ready(MEDIA_BATCH)
            if not batch:
                return None
            self._expected.extend(batch)
            self._stream = self._open_media(batch)
            self._media = self._stream.iter_fragments()
        fragment = self._expected.popleft()
        media = next(self._media, None)
        if media is None or media.number != fragment.number:
            got = "nothing" if media is None else f"fragment {media.number}"
            raise KVArchiveError(
                f"GetMediaForFragmentList returned {got} where fragment {fragment.number} was due"
            )
        return media, fragment

    def close(self) -> None:
        self._expected.clear()
        if self._stream is not None:
            self._stream.close()
            self._stream = None


class Follower(Generic[T]):
    """Each new fragment of a stream once, in order, as it is archived: ``follow()``'s iterator.

    An iterator and a context manager: use it in a ``with`` block, or call
    :meth:`close`, which ends it at once and counts the fragment in hand as
    consumed; :meth:`stop` asks it to end from another thread or a signal
    handler. One collected unclosed (a ``for`` loop left by ``break`` outside
    a ``with``) still counts it and saves, makes no other request, and warns
    ``ResourceWarning``; a save that fails then is a KVArchiveWarning.
    :attr:`state` is the JSON text a checkpoint would hold.
    """

    def __init__(
        self,
        engine: FollowEngine,
        source: _Source[T],
        *,
        fresh: bool,
        description: str,
        checkpoint: Optional[Checkpoint] = None,
    ) -> None:
        self._engine = engine
        self._checkpoint = checkpoint
        self._source = source
        self._unsaved = fresh  # a fresh checkpoint is written before the first poll
        self._description = description
        self._in_hand: Optional[Fragment] = None
        self._closed = False
        self._lock = threading.RLock()
        self._running: Optional[int] = None

    def __iter__(self) -> Follower[T]:
        return self

    def __next__(self) -> T:
        self._running = threading.get_ident()
        try:
            with self._lock:
                if self._closed:
                    raise StopIteration
                try:
                    self._consume_in_hand()
                    if self._unsaved:
                        self._engine.save()
                        self._unsaved = False
                    item = None if self._engine.stopped else self._source.next_item()
                except BaseException:
                    self._finish(count_in_hand=False)
                    raise
                if item is None:
                    self._finish(count_in_hand=False)
                    raise StopIteration
                value, self._in_hand = item
                return value
        finally:
            self._running = None

    def stop(self) -> None:
        """Ask the iteration to end; safe from any thread and from signal handlers.

        A ``next()`` waiting for fragments returns at once (the iteration
        ends); otherwise the next ``next()`` counts the fragment in hand as
        consumed and ends it.
        """
        self._engine.stop()

    def close(self) -> None:
        """End the iteration now; the fragment in hand counts as consumed (checkpoint saved).

        Called from another thread while ``next()`` runs, it waits for that
        call to return, which a waiting poll does at once.
        """
        self._engine.stop()
        if self._running == threading.get_ident():
            return  # a signal handler inside next(): that call ends the iteration
        with self._lock:
            self._finish(count_in_hand=True)

    def __enter__(self) -> Follower[T]:
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        if exc_type is None:
            self.close()
            return
        self._engine.stop()
        with self._lock:
            self._finish(count_in_hand=False)

    def __del__(self) -> None:
        # As io's files do: an unclosed follower is closed (the fragment in hand counts, as on
        # close()), and the missing close() is a ResourceWarning; an error here could only be
        # "Exception ignored", so a failed save is a warning of its own. No caller's line to
        # point at (stacklevel=1): the collector runs wherever it happens to.
        if getattr(self, "_closed", True):
            return
        unclosed = f"unclosed {self!r}: use it in a with block or call close()"
        self._engine.stop()
        try:
            with self._lock:
                self._finish(count_in_hand=True)
        except Exception as exc:
            failure: Optional[Exception] = exc
        else:
            failure = None
        try:
            warnings.warn(unclosed, ResourceWarning, stacklevel=1, source=self)
        finally:
            if failure is not None:
                warnings.warn(
                    f"follower {self._description} was dropped without close(), and its "
                    f"checkpoint {self._checkpoint!r} could not be saved: {failure}",
                    KVArchiveWarning,
                    stacklevel=1,
                )

    @property
    def state(self) -> str:
        """The follower's position as the JSON text its checkpoint holds (see FollowState)."""
        return self._engine.state.to_json()

    def __repr__(self) -> str:
        status = "closed" if self._closed else "open"
        return f"<Follower {self._description} {status}, {self._engine.state!r}>"

    def _consume_in_hand(self) -> None:
        fragment, self._in_hand = self._in_hand, None
        if fragment is not None:
            self._engine.delivered(fragment)

    def _finish(self, *, count_in_hand: bool) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if count_in_hand:
                self._consume_in_hand()
        finally:
            self._in_hand = None
            self._source.close()


class FollowOptions(NamedTuple):
    """The arguments follow() and follow_media() share, as given (open_follower checks them)."""

    start: Optional[TimeLike]
    checkpoint: Optional[Checkpoint]
    poll: Any
    settle: Any
    until: Optional[Union[TimeLike, timedelta]]
    timestamp_type: str


@overload
def open_follower(
    ops: Operations, stream: StreamRef, options: FollowOptions, *, media: Literal[False]
) -> Follower[Fragment]: ...


@overload
def open_follower(
    ops: Operations, stream: StreamRef, options: FollowOptions, *, media: Literal[True]
) -> Follower[MediaFragment]: ...


def open_follower(
    ops: Operations, stream: StreamRef, options: FollowOptions, *, media: bool
) -> Union[Follower[Fragment], Follower[MediaFragment]]:
    """Check the options, read the checkpoint and build the iterator (no request to KVS yet).

    Its calls go through the client's operations (``ops``), paced with every
    other call of the client; ``media`` makes it yield MediaFragments
    (follow_media), else Fragments.
    """
    start, checkpoint, poll, settle, until, timestamp_type = options
    now = datetime.now(timezone.utc)
    selector_type = check_timestamp_type(timestamp_type)
    poll_seconds = _seconds(poll, "poll", positive=True)
    settle_seconds = _seconds(settle, "settle", positive=False)
    first = now if start is None else parse_time(start, "start")
    last = None
    if until is not None:
        last = now + until if isinstance(until, timedelta) else parse_time(until, "until")
        if last < first and start is not None:
            raise ValidationError(
                f"until ({last.isoformat()}) is before start ({first.isoformat()})"
            )
    if checkpoint is not None and not (
        callable(getattr(checkpoint, "load", None)) and callable(getattr(checkpoint, "save", None))
    ):
        raise ValidationError("checkpoint must have load() and save(state) methods")
    name = stream_key(stream)
    text = checkpoint.load() if checkpoint is not None else None
    if text is None:
        state = FollowState(name, selector_type, first)
    else:
        state = FollowState.from_json(text, stream=name, timestamp_type=selector_type)

    def pages(low: datetime, high: datetime) -> Iterator[list[Fragment]]:
        selector = fragment_selector(selector_type, low, high)
        fetch = functools.partial(ops.fragment_page, stream, selector, LIST_MAX_RESULTS)
        return FragmentPager(fetch, sort=False, timestamp_type=selector_type).pages()

    def open_media(batch: list[Fragment]) -> MediaStream:
        numbers = [fragment.number for fragment in batch]
        open_batch = functools.partial(ops.media, stream)
        return MediaStream.for_fragments(numbers, open_batch, batch_size=MEDIA_MAX_FRAGMENTS)

    engine = FollowEngine(
        pages,
        state,
        save=None if checkpoint is None else checkpoint.save,
        poll=poll_seconds,
        settle=settle_seconds,
        until=last,
    )
    fresh = checkpoint is not None and text is None
    description = f"of {name!r}"
    source: _Source[Any] = _MediaSource(engine, open_media) if media else _FragmentSource(engine)
    return Follower(engine, source, fresh=fresh, description=description, checkpoint=checkpoint)


def _seconds(value: Any, name: str, *, positive: bool) -> float:
    """A duration in seconds (a number or a timedelta), finite and positive (or not negative)."""
    if isinstance(value, timedelta):
        value = value.total_seconds()
    seconds = float(check_seconds(value, name))
    if not math.isfinite(seconds):
        raise ValidationError(f"{name} must be a finite number of seconds: {value!r}")
    if positive and seconds == 0:
        raise ValidationError(f"{name} must be positive: {value}")
    return seconds
