"""The follower's state: ordering, late fragments, the look-back window and its JSON."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from kvarchive import CheckpointError, Fragment
from kvarchive._follow_state import FollowState

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
LOOKBACK = timedelta(seconds=10)


def frag(seconds: float, number: str) -> Fragment:
    """A fragment stamped ``seconds`` after T0 (server and producer alike)."""
    stamp = T0 + timedelta(seconds=seconds)
    return Fragment(number, 100, stamp, stamp, timedelta(seconds=1))


def test_numbers_order_fragments_with_equal_timestamps_as_integers() -> None:
    """Of two fragments stamped alike, the 46-digit number comes before the 47-digit one."""
    state = FollowState("cam", "SERVER_TIMESTAMP", T0)
    short, long = frag(1, "9" * 46), frag(1, "1" + "0" * 46)
    state.deliver(short, LOOKBACK)
    assert state.is_new(long)
    assert not state.is_new(short)
    assert state.key(short) < state.key(long)


def test_128_digit_numbers_compare_as_integers() -> None:
    """Numbers of up to 128 digits order and round-trip exactly."""
    state = FollowState("cam", "SERVER_TIMESTAMP", T0)
    big = frag(2, "9" * 128)
    state.deliver(big, LOOKBACK)
    again = FollowState.from_json(state.to_json(), stream="cam", timestamp_type="SERVER_TIMESTAMP")
    assert again.last == (big.server_timestamp, "9" * 128)
    assert not again.is_new(frag(2, "9" * 127))


def test_a_fragment_before_the_last_and_not_delivered_is_late() -> None:
    """Stamped before the last delivered and never delivered: late; delivered ones are not."""
    state = FollowState("cam", "SERVER_TIMESTAMP", T0)
    first, third, second = frag(1, "10"), frag(3, "30"), frag(2, "20")
    state.deliver(first, LOOKBACK)
    state.deliver(third, LOOKBACK)
    assert state.is_late(second)
    assert not state.is_late(first)
    assert not state.is_new(second)
    state.deliver(second, LOOKBACK)
    assert not state.is_late(second)
    assert state.last == (third.server_timestamp, "30")


def test_fragments_before_since_are_neither_new_nor_late() -> None:
    """A fresh state starts at ``since``, inclusive."""
    state = FollowState("cam", "SERVER_TIMESTAMP", T0 + timedelta(seconds=5))
    assert state.is_new(frag(5, "50"))
    assert not state.is_new(frag(4.999, "49"))
    assert not state.is_late(frag(4.999, "49"))


def test_since_trails_the_last_by_the_lookback_and_recent_is_pruned() -> None:
    """Only the delivered fragments of the look-back window are kept."""
    state = FollowState("cam", "SERVER_TIMESTAMP", T0)
    for second in range(30):
        state.deliver(frag(second, str(1000 + second)), LOOKBACK)
    assert state.since == T0 + timedelta(seconds=29) - LOOKBACK
    recent = json.loads(state.to_json())["recent"]
    assert [number for _, number in recent] == [str(1000 + s) for s in range(19, 30)]


def test_producer_timestamps_order_when_asked() -> None:
    """With PRODUCER_TIMESTAMP the producer's clock decides the order."""
    state = FollowState("cam", "PRODUCER_TIMESTAMP", T0)
    early_producer = Fragment(
        "2", 1, T0 + timedelta(seconds=1), T0 + timedelta(seconds=9), LOOKBACK
    )
    late_producer = Fragment("1", 1, T0 + timedelta(seconds=2), T0 + timedelta(seconds=5), LOOKBACK)
    state.deliver(late_producer, LOOKBACK)
    assert state.is_late(early_producer)


def test_json_is_small_versioned_and_round_trips() -> None:
    """The JSON names its format and version and reads back to the same state."""
    state = FollowState("cam", "SERVER_TIMESTAMP", T0)
    for second in range(5):
        state.deliver(frag(second, str(7 + second)), LOOKBACK)
    value = json.loads(state.to_json())
    assert value["format"] == "kvarchive.follow"
    assert value["version"] == 1
    assert value["last"] == {"timestamp": "2026-05-01T12:00:04.000000Z", "number": "11"}
    again = FollowState.from_json(state.to_json(), stream="cam", timestamp_type="SERVER_TIMESTAMP")
    assert again.to_json() == state.to_json()
    assert len(state.to_json()) < 400


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("not json", "unreadable"),
        ('{"format": "something else"}', "no kvarchive.follow state"),
        ('{"format": "kvarchive.follow", "version": 2}', "version 2"),
        ('{"format": "kvarchive.follow", "version": 1, "stream": "cam"}', "unreadable"),
    ],
)
def test_unusable_text_is_a_checkpoint_error(text: str, words: str) -> None:
    """Text that is not a version-1 state is refused with a CheckpointError saying why."""
    with pytest.raises(CheckpointError, match=words):
        FollowState.from_json(text, stream="cam", timestamp_type="SERVER_TIMESTAMP")


def test_a_bad_fragment_number_or_a_missing_last_is_refused() -> None:
    """A state whose numbers are not digits, or whose last is not among the recent, is refused."""
    state = FollowState("cam", "SERVER_TIMESTAMP", T0)
    state.deliver(frag(1, "12"), LOOKBACK)
    value = json.loads(state.to_json())
    bad_number = dict(value, recent=[[value["recent"][0][0], "12a"]])
    with pytest.raises(CheckpointError, match="unreadable"):
        FollowState.from_json(
            json.dumps(bad_number), stream="cam", timestamp_type="SERVER_TIMESTAMP"
        )
    no_recent = dict(value, recent=[])
    with pytest.raises(CheckpointError, match="inconsistent"):
        FollowState.from_json(
            json.dumps(no_recent), stream="cam", timestamp_type="SERVER_TIMESTAMP"
        )


def test_a_state_of_another_stream_or_timestamp_type_is_refused() -> None:
    """A checkpoint never moves a follower of another stream, or of the other timestamp."""
    text = FollowState("cam", "SERVER_TIMESTAMP", T0).to_json()
    with pytest.raises(CheckpointError, match="'cam', not 'door'"):
        FollowState.from_json(text, stream="door", timestamp_type="SERVER_TIMESTAMP")
    with pytest.raises(CheckpointError, match="PRODUCER_TIMESTAMP"):
        FollowState.from_json(text, stream="cam", timestamp_type="PRODUCER_TIMESTAMP")
