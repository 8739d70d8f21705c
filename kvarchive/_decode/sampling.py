"""Which frames of a video track to keep, and which frames to decode for them.

Pure bookkeeping, no decoder: :class:`FramePlanner` reads each fragment's
frames (their times and keyframe flags) and answers runs of frames to send to
the decoder, each frame marked kept or not.

Which frame is kept:

- by default, every frame;
- with ``keyframes_only``, every keyframe;
- with ``every=T``: the timeline of ``Frame.utc_time`` is cut into windows
  ``[k*T, (k+1)*T)`` aligned on the Unix epoch (with T one second, windows
  start on whole seconds), and each window that holds frames gives one:

  * with ``keyframes_only``, the first keyframe shown in it;
  * otherwise, the first frame *f* shown in it, unless a keyframe shown
    after *f* in the same window lies nearer to the window's start than the
    keyframe *f* is decoded from (the last keyframe before *f* in decode
    order) lies before it: then that keyframe, which costs one frame where
    *f* costs its GOP up to *f*. The keyframe is looked for in *f*'s
    fragment and the next one (the same decoder's: not across a change of
    codec private data).

  A frame is kept only if its window differs from that of the frame kept
  last, so a stream whose time goes back (a new recording) starts windows
  again.

When sampling, frames before the track's first keyframe (and after a change
of codec private data, before the next keyframe) cannot be decoded and are
never kept.

Which frames are decoded: for each kept frame, those from the keyframe before
it in decode order up to it, each once, and no others. A run that does not
follow on from the last frame decoded starts afresh at its keyframe, so no
GOP is decoded up to a point only to be thrown away. The frames of a GOP are
held, not decoded, until a kept frame needs them; a GOP still held at the end
of a second fragment is decoded then (its frames not kept), so that at most
about one fragment of frames is held.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import timedelta
from typing import Optional

import attrs

from kvarchive._matroska.frames import Frame
from kvarchive._times import EPOCH

__all__ = ["FramePlanner", "Run"]

_MICROSECOND = timedelta(microseconds=1)


def _micros(frame: Frame) -> int:
    """The frame's ``utc_time`` in microseconds since the epoch (the windows' clock)."""
    return (frame.utc_time - EPOCH) // _MICROSECOND


def _later_key(
    frames: list[Frame], order: list[int], at: int, times: dict[int, int], *, end: int, held: int
) -> Optional[int]:
    """The first keyframe after ``order[at]`` in ``order``, shown after it and before ``end``."""
    shown = times[order[at]]
    for i in itertools.islice(order, at + 1, None):
        if times[i] >= end and i >= held:
            return None  # this fragment's frames are in time order: the window is past
        if frames[i].keyframe and shown < times[i] < end:
            return i
    return None


@attrs.frozen
class Run:
    """Frames to send to the decoder, in order, each with whether it is kept.

    ``restart``: the decoder must first start afresh (give out the frames it
    holds, then forget its references), because frames were skipped;
    ``frames[0]`` is then a keyframe.
    """

    restart: bool
    frames: tuple[tuple[Frame, bool], ...]


class FramePlanner:
    """Plans, fragment by fragment, which frames of one video track to keep and decode."""

    def __init__(self, *, every: Optional[timedelta] = None, keyframes_only: bool = False) -> None:
        self._every = None if every is None else every // _MICROSECOND
        if self._every is not None and self._every < 1:
            raise ValueError("every must be at least one microsecond")
        self._keyframes_only = keyframes_only
        # Frames not decoded yet that a later kept frame may need: from a keyframe,
        # or from where the decoder stands (``_in_step``: it has had every frame before).
        self._held: list[Frame] = []
        self._in_step = True
        self._last_key: Optional[int] = None  # time of the last keyframe seen (decode order)
        self._last_window: Optional[int] = None
        self._open_window: Optional[int] = None  # a window whose choice waits for a fragment

    @property
    def keeps_all(self) -> bool:
        """True when every frame is kept and decoded as it comes (no sampling)."""
        return self._every is None and not self._keyframes_only

    def plan(self, frames: Sequence[Frame]) -> list[Run]:
        """The runs to decode for one fragment's frames of the track (in decode order)."""
        if self.keeps_all:
            return [Run(False, tuple((frame, True) for frame in frames))] if frames else []
        return self._plan([*self._held, *frames], len(self._held), final=False)

    def finish(self) -> list[Run]:
        """The runs still to decode at the end of the stream (a choice left open is made).

        The planner can go on with a new decoder (new codec private data): the
        windows already served stay served, and frames count as decodable
        again from the next keyframe.
        """
        runs = [] if self.keeps_all else self._plan(self._held, len(self._held), final=True)
        self._held, self._in_step, self._last_key = [], True, None
        return runs

    def _plan(self, frames: list[Frame], held: int, *, final: bool) -> list[Run]:
        """Runs for ``frames``: the ``held`` first ones carried from earlier fragments."""
        key_times: list[Optional[int]] = []  # per frame, the time of the keyframe it needs
        for frame in frames:
            if frame.keyframe:
                self._last_key = _micros(frame)
            key_times.append(self._last_key)
        kept = self._choose(frames, key_times, held, final=final)
        runs, stand = self._runs(frames, kept)
        self._hold(frames, stand)
        if not final and held and self._held and self._held[0] is frames[0]:
            # Held through a second fragment end: decode them now rather than hold more.
            runs.append(Run(not self._in_step, tuple((f, False) for f in self._held)))
            self._held, self._in_step = [], True
        return runs

    def _choose(
        self, frames: list[Frame], key_times: list[Optional[int]], held: int, *, final: bool
    ) -> set[int]:
        """Indexes of the frames to keep, as the module's text says.

        Held frames were weighed already: they count only for a window left
        open. A window is left open (and nothing after it chosen) when its
        first frame is in this fragment, no keyframe follows it in the window
        yet, and one in the next fragment could still be nearer its start.
        """
        needs = {  # candidate index: time of the keyframe it is decoded from
            i: key
            for i, (frame, key) in enumerate(zip(frames, key_times))
            if key is not None and (frame.keyframe or not self._keyframes_only)
        }
        if self._every is None:
            return {i for i in needs if i >= held}
        every = self._every
        times = {i: _micros(frames[i]) for i in needs}
        open_window, self._open_window = self._open_window, None
        # The window left open comes first (its frames precede this fragment's), then the
        # new frames by time.
        order = sorted(
            (i for i in needs if i < held and times[i] // every == open_window),
            key=times.__getitem__,
        ) + sorted((i for i in needs if i >= held), key=times.__getitem__)
        last_time = max(_micros(frame) for frame in frames) if frames else 0
        kept: set[int] = set()
        for position, first in enumerate(order):
            window = times[first] // every
            if window == self._last_window:
                continue
            start = window * every
            cost = start - needs[first]  # how far back the keyframe it needs lies
            key = _later_key(frames, order, position, times, end=start + every, held=held)
            # Wait for the next fragment if this one ends inside the window with no
            # keyframe after ``first`` yet, and a keyframe just past its end would be nearer.
            if (
                key is None
                and not final
                and first >= held
                and start + every > last_time
                and last_time - start < cost
            ):
                self._open_window = window
                break
            kept.add(key if key is not None and times[key] - start < cost else first)
            self._last_window = window
        return kept

    def _runs(self, frames: list[Frame], kept: set[int]) -> tuple[list[Run], Optional[int]]:
        """Runs covering each kept frame from its keyframe, and where the decoder then stands."""
        needed = [False] * len(frames)
        start = 0  # the keyframe (or the first frame) the next frames decode from
        for i, frame in enumerate(frames):
            if frame.keyframe:
                start = i
            if i in kept:
                needed[start : i + 1] = [True] * (i + 1 - start)
                start = i + 1
        runs = []
        stand: Optional[int] = 0 if self._in_step else None
        i = 0
        while i < len(frames):
            if not needed[i]:
                i += 1
                continue
            j = i
            while j < len(frames) and needed[j]:
                j += 1
            runs.append(Run(i != stand, tuple((frames[k], k in kept) for k in range(i, j))))
            stand = i = j
        return runs, stand

    def _hold(self, frames: list[Frame], stand: Optional[int]) -> None:
        """Hold what a later kept frame may need: from the last keyframe not decoded, or
        else from where the decoder stands."""
        if self._keyframes_only:  # only keyframes are ever kept: nothing else is needed
            self._held = []
            self._in_step = stand == len(frames)
            return
        last_key = max((i for i, frame in enumerate(frames) if frame.keyframe), default=None)
        first = stand
        if last_key is not None and (stand is None or last_key > stand):
            first = last_key
        if first is None:
            self._held = []
            return
        self._held = frames[first:]
        self._in_step = first == stand
