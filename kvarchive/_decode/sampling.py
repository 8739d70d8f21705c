"""Which frames of a video track to keep, and which frames to decode for them.

Pure bookkeeping, no decoder: :class:`FramePlanner` reads each fragment's
frames (their times and keyframe flags) and answers runs of frames to send to
the decoder, each frame marked kept or not.

Which frame is kept:

- by default, every frame;
- with ``keyframes_only``, every keyframe;
- with ``every=T``: the timeline of ``Frame.utc_time`` is cut into windows
  ``[k*T, (k+1)*T)`` aligned on the Unix epoch (with T one second, windows
  start on whole seconds), and each window that holds frames gives its first
  frame shown (with ``keyframes_only``, its first keyframe shown). That
  frame may sit late in its GOP, with a keyframe after it in the window: it
  is kept all the same, and its GOP decoded up to it. Fragments come in time
  order (each one's frames shown after those of the fragments before), so a
  window's first frame is known once the fragment that holds it is.

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
        self._keyed = False  # whether a keyframe came since the decoder (re)started
        self._last_window: Optional[int] = None

    @property
    def keeps_all(self) -> bool:
        """True when every frame is kept and decoded as it comes (no sampling)."""
        return self._every is None and not self._keyframes_only

    def plan(self, frames: Sequence[Frame]) -> list[Run]:
        """The runs to decode for one fragment's frames of the track (in decode order)."""
        if self.keeps_all:
            return [Run(False, tuple((frame, True) for frame in frames))] if frames else []
        return self._plan([*self._held, *frames], len(self._held))

    def reset(self) -> None:
        """Go on with a new decoder (new codec private data), or end: nothing is left to decode.

        Every window was served as its fragment came, so the frames held are
        forgotten (no kept frame needs them). The windows already served stay
        served, and frames count as decodable again from the next keyframe.
        """
        self._held, self._in_step, self._keyed = [], True, False

    def _plan(self, frames: list[Frame], held: int) -> list[Run]:
        """Runs for ``frames``: the ``held`` first ones carried from earlier fragments."""
        decodable: list[bool] = []  # per frame, whether a keyframe before it leads to it
        for frame in frames:
            self._keyed = self._keyed or frame.keyframe
            decodable.append(self._keyed)
        kept = self._choose(frames, decodable, held)
        runs, stand = self._runs(frames, kept)
        self._hold(frames, stand)
        if held and self._held and self._held[0] is frames[0]:
            # Held through a second fragment end: decode them now rather than hold more.
            runs.append(Run(not self._in_step, tuple((f, False) for f in self._held)))
            self._held, self._in_step = [], True
        return runs

    def _choose(self, frames: list[Frame], decodable: list[bool], held: int) -> set[int]:
        """Indexes of the frames to keep, as the module's text says (held frames were weighed)."""
        candidates = [
            i
            for i in range(held, len(frames))
            if decodable[i] and (frames[i].keyframe or not self._keyframes_only)
        ]
        if self._every is None:
            return set(candidates)
        kept: set[int] = set()
        for i in sorted(candidates, key=lambda i: _micros(frames[i])):
            window = _micros(frames[i]) // self._every
            if window != self._last_window:
                kept.add(i)
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
