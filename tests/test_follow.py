"""follow() and follow_media() against the emulator, whose listing is late and unordered."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest
from follow_checks import assert_followed, listing_deadline, within_rate

from kvarchive import (
    ArchivedMediaClient,
    CheckpointError,
    FileCheckpoint,
    Fragment,
    LateFragmentWarning,
    ValidationError,
)
from kvarchive.testing import Emulator, FragmentRecord

MS = timedelta(milliseconds=1)


@pytest.fixture
def kv(emulator: Emulator) -> Iterator[ArchivedMediaClient]:
    """A client on the emulator, paced to the service's rates as users' clients are."""
    with emulator.client() as client:
        yield client


def now() -> datetime:
    return datetime.now(timezone.utc)


def numbers(fragments: Any) -> list[str]:
    return [f.number for f in fragments]


def in_order(records: Any) -> list[str]:
    """Numbers of emulated fragments, sorted as followers yield them."""
    return numbers(sorted(records, key=lambda r: (r.server_ms, int(r.number))))


def chain(emu: Emulator, name: str, count: int) -> list[FragmentRecord]:
    """``count`` fragments that would follow stream ``name``, made but not yet listed."""
    stream = emu.stream(name)
    assert stream.next_fragment is not None
    made = [stream.next_fragment(stream.fragments[-1])]
    while len(made) < count:
        made.append(stream.next_fragment(made[-1]))
    return made


def list_times(emu: Emulator, operation: str = "ListFragments") -> list[float]:
    return [r.time for r in emu.requests if r.operation == operation]


def checkpointed(
    emulator: Emulator, tmp_path: Path, count: int
) -> tuple[list[FragmentRecord], dict[str, Any]]:
    """A stream "cam" of ``count`` fragments, and follow() options that read it from its first
    fragment with a FileCheckpoint, polling every 0.2 s without holding fragments back."""
    fragments = emulator.add_stream("cam", fragment_count=count, payload_size=64).fragments
    checkpoint = FileCheckpoint(tmp_path / "cam.json")
    options: dict[str, Any] = {"checkpoint": checkpoint, "poll": 0.2, "settle": 0}
    options.update(start=fragments[0].server_timestamp)
    return fragments, options


# -- order, once, start and until ------------------------------------------------------


def follow_while_growing(
    emulator: Emulator, follow: Any, *, seconds: float, seed: int, payload_size: int = 64
) -> list[Any]:
    """What ``follow`` (kv.follow or kv.follow_media) yields from now for ``seconds``, with
    settle 0.8 s, while "cam" grows by 100 ms fragments listed 0-0.3 s late, out of order:
    checked to be each fragment of the range once, in order."""
    emulator.add_stream(
        "cam", fragment_count=1, fragment_duration_ms=100, payload_size=payload_size
    )
    producer = emulator.start_producing("cam", visibility_delay=(0.0, 0.3), seed=seed)
    start = now()
    until = start + timedelta(seconds=seconds)
    got = list(follow(stream_name="cam", start=start, poll=0.2, settle=0.8, until=until))
    producer.stop()
    fragments = emulator.stream("cam").fragments
    last_listed = listing_deadline(until, settle=0.8, poll=0.2)
    assert_followed(
        numbers(got), fragments, start=start, until=until, producer=producer, listed_by=last_listed
    )
    listed = [r for r, _ in producer.visible if start <= r.server_timestamp < until]
    assert numbers(listed) != in_order(listed)  # the listing really was out of order
    return got


def test_every_fragment_once_in_order_while_listed_late_and_unordered(
    emulator: Emulator, kv: ArchivedMediaClient
) -> None:
    """Fragments listed up to 0.3 s late, out of order, come out once each, in order (settle 0.8)."""
    got = follow_while_growing(emulator, kv.follow, seconds=2.5, seed=1)
    assert len(got) >= 20


def test_start_is_inclusive_and_until_exclusive(
    emulator: Emulator, kv: ArchivedMediaClient
) -> None:
    """start = a fragment's timestamp yields it; until = a fragment's timestamp does not."""
    stream = emulator.add_stream("cam", fragment_count=10, payload_size=64)
    f = stream.fragments
    got = list(
        kv.follow(
            stream_name="cam",
            start=f[4].server_timestamp,
            until=f[8].server_timestamp,
            poll=0.2,
            settle=0,
        )
    )
    assert numbers(got) == numbers(f[4:8])


def test_equal_timestamps_are_ordered_by_number_as_integers(
    emulator: Emulator, kv: ArchivedMediaClient
) -> None:
    """Three fragments stamped alike, numbered with 46, 47 and 128 digits, come in integer order."""
    stream = emulator.add_stream("cam", fragment_count=1, payload_size=64)
    made = chain(emulator, "cam", 3)
    stamp = made[0].server_ms
    tied = [
        attrs.evolve(made[0], number="2" * 47, server_ms=stamp),
        attrs.evolve(made[1], number="9" * 46, server_ms=stamp),
        attrs.evolve(made[2], number="1" * 128, server_ms=stamp),
    ]
    stream.reveal(tied)
    start = tied[0].server_timestamp
    got = list(kv.follow(stream_name="cam", start=start, until=start + MS, poll=0.2, settle=0))
    assert numbers(got) == ["9" * 46, "2" * 47, "1" * 128]


def test_until_ends_within_settle_and_a_poll_while_the_stream_grows(
    emulator: Emulator, kv: ArchivedMediaClient
) -> None:
    """A growing stream does not keep the follower going past until + settle + two polls."""
    emulator.add_stream("cam", fragment_count=1, fragment_duration_ms=100, payload_size=64)
    with emulator.start_producing("cam", visibility_delay=(0.0, 0.2)):
        began = time.monotonic()
        until = now() + timedelta(seconds=1)
        got = list(kv.follow(stream_name="cam", poll=0.3, settle=0.5, until=until))
        took = time.monotonic() - began
    assert 1.5 - 0.05 <= took <= 1.5 + 2 * 0.3 + 0.3  # until + settle + two polls, and a margin
    assert got and all(f.server_timestamp < until for f in got)


def test_a_quiet_stream_waits_at_one_call_per_poll(
    emulator: Emulator, kv: ArchivedMediaClient
) -> None:
    """An empty stream yields nothing, costs one ListFragments per poll, and ends after until."""
    emulator.add_stream("quiet", fragment_count=0)
    began = time.monotonic()
    got = list(kv.follow(stream_name="quiet", poll=0.2, settle=0.5, until=timedelta(seconds=1)))
    took = time.monotonic() - began
    assert got == []
    assert 1.5 - 0.05 <= took <= 1.5 + 0.2 + 0.3  # until + settle, a poll, and a margin
    calls = emulator.count("ListFragments")
    assert (took - 0.3) / 0.2 <= calls <= took / 0.2 + 2  # the first call waits for an endpoint


# -- ending: close, stop, signals, break --------------------------------------------


def test_close_from_another_thread_ends_a_poll_sleep_at_once(
    emulator: Emulator, kv: ArchivedMediaClient
) -> None:
    """close() while next() sleeps between 10-second polls ends the iteration right away."""
    emulator.add_stream("quiet", fragment_count=0)
    follower = kv.follow(stream_name="quiet", poll=10, settle=0)
    closed_at = []

    def close_during_the_wait() -> None:
        while emulator.count("ListFragments") == 0:
            time.sleep(0.01)
        time.sleep(0.2)
        closed_at.append(time.monotonic())
        follower.close()

    closer = threading.Thread(target=close_during_the_wait)
    closer.start()
    assert list(follower) == []
    assert time.monotonic() - closed_at[0] < 1.0  # not the 10 s poll
    closer.join()
    assert emulator.count("ListFragments") == 1


def test_stop_from_a_signal_handler_ends_a_poll_sleep(
    emulator: Emulator, kv: ArchivedMediaClient
) -> None:
    """stop() from a signal handler (same thread, inside next()) ends the wait at once."""
    emulator.add_stream("quiet", fragment_count=0)
    follower = kv.follow(stream_name="quiet", poll=10, settle=0)
    stopped_at = []

    def stop(*_: object) -> None:
        stopped_at.append(time.monotonic())
        follower.stop()

    previous = signal.signal(signal.SIGALRM, stop)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        assert list(follower) == []
        assert time.monotonic() - stopped_at[0] < 1.0  # not the 10 s poll
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_ctrl_c_while_waiting_leaves_the_checkpoint_at_the_last_fragment_taken(
    emulator: Emulator, kv: ArchivedMediaClient, tmp_path: Path
) -> None:
    """KeyboardInterrupt in a poll sleep escapes next() with every taken fragment saved."""
    stream = emulator.add_stream("cam", fragment_count=4, payload_size=64)
    checkpoint = FileCheckpoint(tmp_path / "cam.json")
    start = stream.fragments[0].server_timestamp
    follower = kv.follow(stream_name="cam", start=start, checkpoint=checkpoint, poll=10, settle=0)

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    taken = []
    try:
        with pytest.raises(KeyboardInterrupt):
            for fragment in follower:
                taken.append(fragment)
                if len(taken) == 4:  # the next poll is 10 s away: Ctrl-C lands in its wait
                    signal.setitimer(signal.ITIMER_REAL, 0.3)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert numbers(taken) == numbers(stream.fragments)
    saved = json.loads(checkpoint.load() or "")
    assert saved["last"]["number"] == stream.fragments[-1].number
    with pytest.raises(StopIteration):
        next(follower)  # an exception ends the iteration, as it ends a generator


def test_break_counts_the_fragment_in_hand_and_the_next_run_goes_on(
    emulator: Emulator, kv: ArchivedMediaClient, tmp_path: Path
) -> None:
    """Leaving the loop saves the fragment in hand; a new follower starts after it, whatever start says."""
    f, options = checkpointed(emulator, tmp_path, 6)
    first = []
    with kv.follow(stream_name="cam", **options) as follower:
        for fragment in follower:
            first.append(fragment)
            if len(first) == 3:
                break
    assert json.loads(options["checkpoint"].load())["last"]["number"] == f[2].number
    rest = list(kv.follow(stream_name="cam", **options, until=f[-1].server_timestamp + MS))
    assert numbers(first + rest) == numbers(f)


def test_an_exception_in_a_with_block_does_not_count_the_fragment_in_hand(
    emulator: Emulator, kv: ArchivedMediaClient, tmp_path: Path
) -> None:
    """A step that fails inside ``with`` is not consumed: the next run yields that fragment again."""
    f, options = checkpointed(emulator, tmp_path, 5)
    options.update(stream_name="cam", until=f[-1].server_timestamp + MS)
    seen = []
    with pytest.raises(RuntimeError), kv.follow(**options) as fragments:
        for fragment in fragments:
            seen.append(fragment)
            if len(seen) == 3:
                raise RuntimeError("processing failed")
    assert numbers(list(kv.follow(**options))) == numbers(f[2:])


def test_a_fresh_checkpoint_pins_the_start_before_the_first_poll(
    emulator: Emulator, kv: ArchivedMediaClient, tmp_path: Path
) -> None:
    """With start=None, the first run's "now" is saved at once, so a crash loses nothing after it."""
    emulator.add_stream("quiet", fragment_count=0)
    checkpoint = FileCheckpoint(tmp_path / "cam.json")
    before = now()
    follower = kv.follow(stream_name="quiet", checkpoint=checkpoint, poll=5, settle=0)
    threading.Timer(0.2, follower.stop).start()
    assert list(follower) == []
    state = json.loads(checkpoint.load() or "")
    assert state["last"] is None
    assert before <= datetime.fromisoformat(state["since"].replace("Z", "+00:00")) <= now()


# -- late fragments and long ranges ----------------------------------------------------


def test_a_fragment_listed_later_than_settle_is_yielded_out_of_order_with_a_warning(
    emulator: Emulator, kv: ArchivedMediaClient
) -> None:
    """Never dropped: a fragment listed after later ones were yielded comes next, with a warning."""
    stream = emulator.add_stream("cam", fragment_count=1, fragment_duration_ms=100, payload_size=64)
    r1, r2, r3, r4 = chain(emulator, "cam", 4)
    stream.reveal([r1, r2, r4])
    got: list[Fragment] = []
    with pytest.warns(LateFragmentWarning, match=r3.number):
        follower = kv.follow(
            stream_name="cam",
            start=r1.server_timestamp,
            poll=0.1,
            settle=0.2,
            until=now() + timedelta(seconds=1),
        )
        for fragment in follower:
            got.append(fragment)
            if fragment.number == r4.number:
                stream.reveal([r3])
    assert numbers(got) == numbers([r1, r2, r4, r3])


def test_a_year_old_start_pages_through_bounded_windows(emulator: Emulator) -> None:
    """5000 fragments a year back come in order, no listing window holding more than 4 pages."""
    start = now() - timedelta(days=365)
    stream = emulator.add_stream("old", fragment_count=5000, payload_size=16, start=start)
    last = stream.fragments[-1].server_timestamp
    with emulator.client(rate_limit=False) as fast:
        follower = fast.follow(
            stream_name="old", start=start - timedelta(days=1), until=last + MS, poll=0.2, settle=0
        )
        assert numbers(follower) == numbers(stream.fragments)
    pages_per_window: list[int] = []  # a window is a query; NextToken calls are its further pages
    for request in emulator.requests:
        if request.operation == "ListFragments":
            if "NextToken" in request.params:
                pages_per_window[-1] += 1
            else:
                pages_per_window.append(1)
    assert max(pages_per_window) <= 4  # at most 4000 fragments held at once
    assert len(pages_per_window) < 40


def test_windows_past_the_stream_retention_are_skipped_with_a_warning(
    emulator: Emulator, kv: ArchivedMediaClient
) -> None:
    """An old start meets ListFragments' retention error: the follower warns and goes on."""
    stream = emulator.add_stream("cam", fragment_count=5, payload_size=64)
    message = "End timestamp 1 is outside of the stream retention period."
    emulator.fail_next("ListFragments", "InvalidArgumentException", message=message)
    last = stream.fragments[-1].server_timestamp
    with pytest.warns(LateFragmentWarning, match="retention"):
        follower = kv.follow(
            stream_name="cam", start=now() - timedelta(days=2), until=last + MS, poll=0.2, settle=0
        )
        assert numbers(follower) == numbers(stream.fragments)


# -- media and pacing -------------------------------------------------------------------


def test_follow_media_yields_each_fragment_whole_within_the_rates(
    emulator: Emulator, kv: ArchivedMediaClient
) -> None:
    """follow_media yields every new fragment's own Matroska document, in order, at <= 5 calls/s."""
    got = follow_while_growing(emulator, kv.follow_media, seconds=2, seed=2, payload_size=2048)
    stored = {record.number: record for record in emulator.stream("cam").fragments}
    for media in got:
        assert media.tags["AWS_KINESISVIDEO_FRAGMENT_NUMBER"] == media.number
        assert media.data == stored[media.number].data()
    assert within_rate(list_times(emulator, "GetMediaForFragmentList"))
    assert within_rate(list_times(emulator))
    assert emulator.count("GetMediaForFragmentList") <= len(got)


def test_followers_share_the_client_rate_limit(emulator: Emulator, kv: ArchivedMediaClient) -> None:
    """Two followers of one stream polling every 50 ms stay within 5 ListFragments a second."""
    emulator.add_stream("cam", fragment_count=0)
    followers = [
        kv.follow(stream_name="cam", poll=0.05, settle=0, until=timedelta(seconds=1.5))
        for _ in range(2)
    ]
    threads = [threading.Thread(target=list, args=(f,)) for f in followers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    times = list_times(emulator)
    assert len(times) >= 8
    assert within_rate(times)


# -- arguments --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"poll": 0},
        {"poll": -1.0},
        {"poll": True},
        {"poll": "2"},
        {"settle": -0.5},
        {"settle": float("nan")},
        {"timestamp_type": "ARRIVAL"},
        {"start": "yesterday"},
        {"until": "soon"},
        {"start": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
        {"checkpoint": "cam.json"},
        {"stream_name": "bad name"},
    ],
)
def test_bad_arguments_are_refused_before_any_request(
    emulator: Emulator, kv: ArchivedMediaClient, options: dict[str, Any]
) -> None:
    """Each bad argument is a ValidationError, raised before the emulator hears anything."""
    with pytest.raises(ValidationError):
        kv.follow(**{"stream_name": "cam", **options})
    with pytest.raises(ValidationError):
        kv.follow_media(**{"stream_name": "cam", **options})
    assert emulator.requests == []


def test_a_checkpoint_of_another_stream_is_refused(
    emulator: Emulator, kv: ArchivedMediaClient, tmp_path: Path
) -> None:
    """Following "door" with "cam"'s checkpoint is a CheckpointError, before any request."""
    emulator.add_stream("cam", fragment_count=2, payload_size=64)
    checkpoint = FileCheckpoint(tmp_path / "cam.json")
    list(kv.follow(stream_name="cam", checkpoint=checkpoint, settle=0, until=timedelta(0)))
    emulator.clear_requests()
    with pytest.raises(CheckpointError, match="'cam', not 'door'"):
        kv.follow(stream_name="door", checkpoint=checkpoint)
    assert emulator.requests == []


def test_a_stream_named_by_arn_shares_the_checkpoint_of_its_name(
    emulator: Emulator, kv: ArchivedMediaClient, tmp_path: Path
) -> None:
    """A follower by stream_arn= goes on from the checkpoint a follower by stream_name= left."""
    f, options = checkpointed(emulator, tmp_path, 6)
    arn = emulator.stream("cam").arn
    first = list(kv.follow(stream_name="cam", until=f[3].server_timestamp, **options))
    rest = list(kv.follow(stream_arn=arn, until=f[-1].server_timestamp + MS, **options))
    assert numbers(first + rest) == numbers(f)


def test_until_leaves_a_fragment_still_held_to_the_next_run_in_order(
    emulator: Emulator, kv: ArchivedMediaClient, tmp_path: Path
) -> None:
    """A fragment listed just before until + settle is not released before its hold ends, so
    one stamped before it but listed a moment later still comes first, in the next run."""
    stream = emulator.add_stream("cam", fragment_count=1, fragment_duration_ms=100, payload_size=64)
    r1, r2 = chain(emulator, "cam", 2)
    settle, poll = 2.0, 0.1  # a hold long enough that a busy machine's late end stays inside it
    until = r2.server_timestamp + MS
    deadline = until.timestamp() + settle  # the first poll that may end the run
    timers = [
        threading.Timer(deadline - 0.3 - time.time(), stream.reveal, [[r2]]),
        threading.Timer(deadline + 0.05 - time.time(), stream.reveal, [[r1]]),
    ]
    for timer in timers:
        timer.start()
    checkpoint = FileCheckpoint(tmp_path / "cam.json")
    options: dict[str, Any] = {"stream_name": "cam", "checkpoint": checkpoint, "until": until}
    options.update(start=r1.server_timestamp, poll=poll, settle=settle)
    first = list(kv.follow(**options))
    ended = time.time()
    for timer in timers:
        timer.join()
    assert first == []  # r2's hold ends 1.7 s after the deadline: it is left, not rushed out
    # The run still ends two polls after the deadline; the client paces ListFragments to the
    # service's 5 calls a second, so a poll of 0.1 s comes every 0.2 s.
    assert ended - deadline < 2 * max(poll, 0.2) + 1.0
    assert numbers(kv.follow(**options)) == [r1.number, r2.number]  # no LateFragmentWarning
