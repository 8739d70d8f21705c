"""Tests of kvarchive._decode.sampling: which frames are kept, and which are decoded for them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kvarchive._decode.sampling import FramePlanner, Run
from kvarchive._matroska.frames import Frame

SECOND = 1_000_000_000
MS = 1_000_000
EPOCH_2026 = 1_767_225_600 * SECOND


def gop(start_ns: int, count: int, *, b_frames: int = 2) -> list[Frame]:
    """A GOP in decode order as an encoder with B-frames writes it: I P B B P B B ...

    ``time_ns`` are presentation times, 30 per second: each P is stored before the
    B-frames shown ahead of it.
    """
    shown = [start_ns + i * SECOND // 30 for i in range(count)]
    order = [0]
    step = b_frames + 1
    for anchor in range(step, count, step):
        order += [anchor, *range(anchor - b_frames, anchor)]
    order += [i for i in range(1, count) if i not in order]
    return [Frame(1, shown[i], i == 0, b"") for i in order]


def plan(planner: FramePlanner, fragments: Sequence[Sequence[Frame]]) -> list[Run]:
    return [run for fragment in fragments for run in planner.plan(fragment)]


def kept_times(runs: Sequence[Run]) -> list[int]:
    return [frame.time_ns for run in runs for frame, keep in run.frames if keep]


def sent(runs: Sequence[Run]) -> list[Frame]:
    return [frame for run in runs for frame, _ in run.frames]


def reference_kept(frames: Sequence[Frame], every_ns: int) -> list[int]:
    """The rule, with the whole stream in view: per epoch-aligned window, the first frame shown
    in it (on the microsecond clock of ``utc_time``), among frames a keyframe leads to."""
    every = every_ns // 1000
    first_key = next(i for i, frame in enumerate(frames) if frame.keyframe)
    chosen: dict[int, int] = {}
    for frame in sorted(frames[first_key:], key=lambda f: f.time_ns):
        chosen.setdefault(frame.time_ns // 1000 // every, frame.time_ns)
    return [chosen[w] for w in sorted(chosen)]


def minimal_decode(frames: Sequence[Frame], kept: set[int]) -> list[int]:
    """Times (decode order) of the frames the kept ones need: each from its keyframe on."""
    needed: set[int] = set()
    for index, frame in enumerate(frames):
        if frame.time_ns in kept:
            start = max((i for i in range(index + 1) if frames[i].keyframe), default=0)
            needed.update(range(start, index + 1))
    return [frames[i].time_ns for i in sorted(needed)]


def check_runs(runs: Sequence[Run]) -> None:
    """Frames go out in decode order, none twice; a restart begins at a keyframe."""
    times = [frame.time_ns for frame in sent(runs)]
    assert len(set(times)) == len(times)
    for run in runs:
        assert not run.restart or run.frames[0][0].keyframe


# -- which frames are kept --------------------------------------------------------------


def test_every_second_keeps_keyframes_and_the_frame_on_each_odd_second() -> None:
    """2 s GOPs from a whole second: each even second its keyframe, each odd one its first frame."""
    fragments = [gop(EPOCH_2026 + 2 * SECOND * i, 60) for i in range(3)]
    runs = plan(FramePlanner(every=timedelta(seconds=1)), fragments)
    assert kept_times(runs) == [EPOCH_2026 + SECOND * i for i in range(6)]
    check_runs(runs)
    # Each GOP up to its P-frame at 1 s (29 frames: not the two B-frames stored after it).
    frames = [frame for fragment in fragments for frame in fragment]
    assert [f.time_ns for f in sent(runs)] == minimal_decode(frames, set(kept_times(runs)))
    assert len(sent(runs)) == 3 * 29


def test_each_window_keeps_its_first_frame_even_late_in_its_gop() -> None:
    """2 s GOPs at 25 fps from 0.123 s past a second: every window keeps its frame at .003,
    the one at the end of a GOP too, not the keyframe at .123 after it (issue 20)."""
    fragments = [
        [Frame(1, EPOCH_2026 + 123 * MS + 2 * SECOND * g + 40 * MS * i, i == 0, b"")
         for i in range(50)]
        for g in range(5)
    ]  # fmt: skip
    runs = plan(FramePlanner(every=timedelta(seconds=1)), fragments)
    frames = [frame for fragment in fragments for frame in fragment]
    assert kept_times(runs) == [EPOCH_2026 + 123 * MS] + [
        EPOCH_2026 + k * SECOND + 3 * MS for k in range(1, 11)
    ]
    assert kept_times(runs) == reference_kept(frames, SECOND)
    # Each GOP up to its frame at .003 two seconds on: 48 of its 50 frames.
    assert [f.time_ns for f in sent(runs)] == minimal_decode(frames, set(kept_times(runs)))
    assert len(sent(runs)) == 5 * 48


def test_a_later_keyframe_in_the_window_is_not_taken() -> None:
    """A keyframe 0.6 s into the window loses to the window's first frame, from the GOP before."""
    fragments = [gop(EPOCH_2026 - 4 * SECOND // 10, 30), gop(EPOCH_2026 + 6 * SECOND // 10, 30)]
    runs = plan(FramePlanner(every=timedelta(seconds=1)), fragments)
    assert EPOCH_2026 in kept_times(runs)
    assert EPOCH_2026 + 6 * SECOND // 10 not in kept_times(runs)


def test_a_window_spanning_fragments_gives_one_frame() -> None:
    """Windows are counted across fragments: a 3 s window over 2 s fragments keeps one frame."""
    fragments = [gop(EPOCH_2026 + 2 * SECOND * i, 60) for i in range(3)]
    runs = plan(FramePlanner(every=timedelta(seconds=3)), fragments)
    assert kept_times(runs) == [EPOCH_2026, EPOCH_2026 + 3 * SECOND]


def test_keyframes_only_keeps_keyframes_and_every_thins_them() -> None:
    """keyframes_only keeps and decodes each keyframe alone; with every=4s, one per window."""
    fragments = [gop(EPOCH_2026 + 2 * SECOND * i, 60) for i in range(5)]
    runs = plan(FramePlanner(keyframes_only=True), fragments)
    assert kept_times(runs) == [EPOCH_2026 + 2 * SECOND * i for i in range(5)]
    assert len(sent(runs)) == 5
    thinned = plan(FramePlanner(every=timedelta(seconds=4), keyframes_only=True), fragments)
    assert kept_times(thinned) == [EPOCH_2026 + 4 * SECOND * i for i in range(3)]
    assert len(sent(thinned)) == 3


def test_time_that_goes_back_starts_windows_again() -> None:
    """A stream whose time restarts (a new recording) keeps frames again from the restart."""
    fragments = [gop(EPOCH_2026, 60), gop(EPOCH_2026, 30)]
    runs = plan(FramePlanner(every=timedelta(seconds=1)), fragments)
    assert kept_times(runs) == [EPOCH_2026, EPOCH_2026 + SECOND, EPOCH_2026]


def test_frames_before_the_first_keyframe_are_never_sampled() -> None:
    """Sampling skips frames no keyframe leads to; keeping everything sends them too."""
    lead = [Frame(1, EPOCH_2026 + i * SECOND // 30, False, b"") for i in range(5)]
    fragment = lead + gop(EPOCH_2026 + 5 * SECOND // 30, 30)
    sampled = kept_times(plan(FramePlanner(every=timedelta(seconds=1)), [fragment]))
    assert sampled[0] == fragment[5].time_ns and len(sampled) == 2
    assert kept_times(plan(FramePlanner(keyframes_only=True), [fragment])) == [fragment[5].time_ns]
    everything = plan(FramePlanner(), [fragment])
    assert sent(everything) == fragment and not any(run.restart for run in everything)


def test_every_below_a_microsecond_is_refused() -> None:
    """An interval shorter than the clock's microsecond cannot cut windows."""
    with pytest.raises(ValueError):
        FramePlanner(every=timedelta(0))


# -- which frames are decoded -----------------------------------------------------------


@st.composite
def streams(draw: st.DrawFn) -> tuple[list[list[Frame]], int]:
    """KVS-like fragments (each starts with a keyframe, each at least a window long, some
    with more keyframes inside), B-frames or not, and a window length."""
    every = draw(st.sampled_from([SECOND // 4, SECOND // 2, SECOND, 3 * SECOND // 2]))
    least = every * 30 // SECOND + 1
    time = EPOCH_2026 + draw(st.integers(0, SECOND))
    fragments = []
    for _ in range(draw(st.integers(1, 5))):
        fragment: list[Frame] = []
        for _ in range(draw(st.integers(1, 3))):
            count = draw(st.integers(max(1, least // 2), 2 * least))
            fragment += gop(time, count, b_frames=draw(st.sampled_from([0, 2])))
            time += count * SECOND // 30 + SECOND // 30
        while len(fragment) < least:
            fragment += gop(time, least, b_frames=0)
            time += least * SECOND // 30 + SECOND // 30
        fragments.append(fragment)
    return fragments, every


@settings(max_examples=200, deadline=None)
@given(streams())
def test_kept_frames_follow_the_rule_and_cost_the_least(
    stream: tuple[list[list[Frame]], int],
) -> None:
    """Kept frames are the rule's; the frames decoded are just those they need, each once."""
    fragments, every = stream
    frames = [frame for fragment in fragments for frame in fragment]
    runs = plan(FramePlanner(every=timedelta(microseconds=every // 1000)), fragments)
    assert kept_times(runs) == reference_kept(frames, every)
    assert [f.time_ns for f in sent(runs)] == minimal_decode(frames, set(kept_times(runs)))
    check_runs(runs)


def test_keeping_everything_never_restarts() -> None:
    """With every frame kept, each fragment is one run and the decoder simply goes on."""
    runs = plan(FramePlanner(), [gop(i * SECOND, 60) for i in range(2)])
    assert len(runs) == 2 and not any(run.restart for run in runs)
    assert all(keep for run in runs for _, keep in run.frames)


def test_a_gop_held_past_a_second_fragment_is_decoded_then() -> None:
    """A GOP running through three fragments is decoded at the end of the second, not held."""
    frames = gop(EPOCH_2026, 90, b_frames=0)
    planner = FramePlanner(every=timedelta(seconds=10))
    first = planner.plan(frames[:30])
    assert kept_times(first) == [EPOCH_2026] and len(sent(first)) == 1
    second = planner.plan(frames[30:60])
    assert len(sent(second)) == 59 and not any(keep for run in second for _, keep in run.frames)
    assert not second[0].restart  # it follows on from the keyframe
    assert planner.plan(frames[60:]) == []
