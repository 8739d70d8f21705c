"""The emulator's producer: a stream that grows in real time and is listed late, out of order."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest

from kvarchive.testing import Emulator, Producer


def listed(emu: Emulator, name: str = "cam") -> list[str]:
    """Every fragment number ListFragments shows now, over raw boto3."""
    control = boto3.client("kinesisvideo", endpoint_url=emu.endpoint_url, region_name=emu.region)
    endpoint = control.get_data_endpoint(StreamName=name, APIName="LIST_FRAGMENTS")
    data = boto3.client(
        "kinesis-video-archived-media",
        endpoint_url=endpoint["DataEndpoint"],
        region_name=emu.region,
    )
    now = datetime.now(timezone.utc)
    answer = data.list_fragments(
        StreamName=name,
        FragmentSelector={
            "FragmentSelectorType": "SERVER_TIMESTAMP",
            "TimestampRange": {
                "StartTimestamp": now - timedelta(hours=1),
                "EndTimestamp": now + timedelta(hours=1),
            },
        },
    )
    return [f["FragmentNumber"] for f in answer["Fragments"]]


def test_fragments_arrive_at_the_pace_of_their_duration(emulator: Emulator) -> None:
    """A stream of 100 ms fragments gains about ten a second, continuing its numbers and times."""
    stream = emulator.add_stream("cam", fragment_count=2, fragment_duration_ms=100, payload_size=64)
    before = list(stream.fragments)
    producer = emulator.start_producing("cam")
    time.sleep(1.0)
    producer.stop()
    added = [record for record, _ in producer.visible]
    assert 7 <= len(added) <= 13
    chain = [*before, *added]
    assert [f.index for f in chain] == list(range(len(chain)))
    assert all(int(a.number) < int(b.number) for a, b in zip(chain, chain[1:]))
    assert all(b.server_ms - a.server_ms == 100 for a, b in zip(chain, chain[1:]))
    assert sorted(listed(emulator), key=int) == [f.number for f in chain]


def test_a_fragment_is_listed_only_after_its_visibility_delay(emulator: Emulator) -> None:
    """With a fixed delay, each fragment becomes listable that long after its end."""
    emulator.add_stream("cam", fragment_count=1, fragment_duration_ms=100, payload_size=64)
    producer = emulator.start_producing("cam", visibility_delay=0.3)
    assert producer.wait_visible(3, timeout=5)
    producer.stop()
    for record, visible_at in producer.visible:
        end = (record.server_ms + record.duration_ms) / 1000
        assert 0.3 <= visible_at - end < 0.3 + 0.1


def test_a_delay_range_lists_some_fragments_after_later_ones(emulator: Emulator) -> None:
    """Delays drawn from (0, 1 s) on 100 ms fragments list the stream out of order, none lost."""
    emulator.add_stream("cam", fragment_count=1, fragment_duration_ms=100, payload_size=64)
    producer = emulator.start_producing("cam", visibility_delay=(0.0, 1.0), seed=3)
    assert producer.wait_visible(15, timeout=10)
    producer.stop()
    order = [record.index for record, _ in producer.visible]
    assert order != sorted(order)
    assert len(set(order)) == len(order)
    assert len(listed(emulator)) == 1 + len(order)


def test_the_emulator_clock_drives_production() -> None:
    """With a clock moved by hand, fragments appear only when the clock passes their end."""
    now = [time.time()]
    with Emulator(clock=lambda: now[0]) as emu:
        start = datetime.fromtimestamp(now[0], timezone.utc)
        emu.add_stream("cam", fragment_count=1, fragment_duration_ms=1000, start=start)
        producer = emu.start_producing("cam")
        time.sleep(0.3)
        assert producer.visible == []
        now[0] += 2.0  # the fragment after the first ends at start + 2 s
        assert producer.wait_visible(1, timeout=2)
        time.sleep(0.2)
        assert len(producer.visible) == 1


def test_close_stops_every_producer(emulator: Emulator) -> None:
    """Closing the emulator stops and joins its producers' threads."""
    emulator.add_stream("cam", fragment_count=1, fragment_duration_ms=100, payload_size=64)
    producer = emulator.start_producing("cam")
    emulator.close()
    assert not producer.running
    assert not any(t.name == "kvarchive-producer-cam" for t in threading.enumerate())


def test_one_producer_per_stream_and_bad_arguments(emulator: Emulator) -> None:
    """A second producer, a negative delay or an empty stream are refused with ValueError."""
    emulator.add_stream("cam", fragment_count=1, payload_size=64)
    emulator.add_stream("empty", fragment_count=0)
    with emulator.start_producing("cam"):
        with pytest.raises(ValueError, match="already producing"):
            emulator.start_producing("cam")
    emulator.start_producing("cam").stop()  # a stopped one can be replaced
    for delay in (-1.0, (0.5, 0.1)):
        with pytest.raises(ValueError, match="visibility_delay"):
            emulator.start_producing("cam", visibility_delay=delay)
    with pytest.raises(ValueError, match="cannot grow"):
        emulator.start_producing("empty")


def test_requests_record_when_they_arrived(emulator: Emulator) -> None:
    """emu.requests carries each request's arrival time, for measuring rates per stream."""
    emulator.add_stream("cam", fragment_count=1, payload_size=64)
    before = time.time()
    listed(emulator)
    times: list[Any] = [r.time for r in emulator.requests]
    assert all(before <= t <= time.time() for t in times)
    assert isinstance(emulator.start_producing("cam"), Producer)


def test_a_stream_of_no_fragments_has_none(emulator: Emulator) -> None:
    """add_stream(fragment_count=0) makes an empty stream (it used to hold one fragment)."""
    assert emulator.add_stream("empty", fragment_count=0).fragments == []
    assert listed(emulator, "empty") == []
