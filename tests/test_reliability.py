"""Holding up under throttling, hangs, many threads and many operations."""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.config import Config

from kvarchive import (
    ArchivedMediaClient,
    Backoff,
    EndpointUnreachableError,
    MediaIncompleteError,
)
from kvarchive.testing import Emulator

T0 = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)


def run_threads(count: int, work: Any) -> list[BaseException]:
    """Run work(i) in count threads started together; return the exceptions they raised."""
    barrier = threading.Barrier(count)
    failures: list[BaseException] = []

    def body(i: int) -> None:
        barrier.wait()
        try:
            work(i)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def test_twenty_threads_within_the_service_rate(emulator: Emulator, capsys: Any) -> None:
    """20 threads x 5 media fetches against a 5 calls/s limit: all succeed, few are throttled."""
    stream = emulator.add_stream("cam", fragment_count=4, start=T0, payload_size=512)
    numbers = [f.number for f in stream.fragments]
    expected = b"".join(f.data() for f in stream.fragments)
    emulator.throttle("GetMediaForFragmentList", 5)
    with ArchivedMediaClient(
        endpoint_url=emulator.endpoint_url, backoff=Backoff(attempts=8, base=0.05, cap=1.0)
    ) as kv:

        def work(_: int) -> None:
            for _ in range(5):
                with kv.get_media_for_fragment_list(stream_name="cam", fragments=numbers) as media:
                    assert media.read() == expected

        failures = run_threads(20, work)
    assert failures == []
    assert emulator.count("GetMediaForFragmentList") == 100 + emulator.throttled_count
    with capsys.disabled():
        print(f"\n[throttling] 100 calls, {emulator.throttled_count} throttled attempts")
    assert emulator.throttled_count <= 10


def test_a_hanging_endpoint_hits_the_read_timeout(emulator: Emulator) -> None:
    """A data endpoint that never answers fails within the configured read timeout."""
    emulator.add_stream("cam", fragment_count=2, start=T0, payload_size=64)
    config = Config(
        read_timeout=0.5, connect_timeout=0.5, retries={"total_max_attempts": 1, "mode": "standard"}
    )
    with ArchivedMediaClient(endpoint_url=emulator.endpoint_url, config=config) as kv:
        kv.data_endpoint("LIST_FRAGMENTS", stream_name="cam")
        emulator.stall_next("ListFragments", 3.0)
        started = time.monotonic()
        with pytest.raises(EndpointUnreachableError, match="timeout"):
            list(kv.list_fragments(stream_name="cam", start=T0, end=T0 + timedelta(seconds=5)))
        assert time.monotonic() - started < 2.0


def open_fds() -> int:
    """How many file descriptors this process has open."""
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_no_descriptor_or_thread_growth(emulator: Emulator, kv: ArchivedMediaClient) -> None:
    """1000 operations, some interrupted or abandoned, leave no extra descriptors or threads."""
    stream = emulator.add_stream("cam", fragment_count=4, start=T0, payload_size=2048)
    numbers = [f.number for f in stream.fragments]

    def operation(i: int) -> None:
        kind = i % 5
        if kind == 0:
            list(kv.list_fragments(stream_name="cam", start=T0, end=T0 + timedelta(minutes=1)))
        elif kind == 1:
            with kv.get_media_for_fragment_list(stream_name="cam", fragments=numbers) as media:
                media.read(100)  # abandoned early
        elif kind == 2:
            emulator.cut_next("GetMediaForFragmentList", 3000)
            with kv.get_media_for_fragment_list(stream_name="cam", fragments=numbers) as media:
                list(media.iter_chunks(1000))
        elif kind == 3:
            emulator.cut_next("GetMediaForFragmentList", 10, count=10)
            with pytest.raises(MediaIncompleteError):
                with kv.get_media_for_fragment_list(stream_name="cam", fragments=numbers) as media:
                    media.read()
            emulator.reset_faults()
        else:
            kv.get_hls_streaming_session_url(
                stream_name="cam",
                playback_mode="ON_DEMAND",
                start=T0,
                end=T0 + timedelta(minutes=1),
            )

    for i in range(50):
        operation(i)
    time.sleep(0.2)
    fds, threads = open_fds(), threading.active_count()
    for i in range(1000):
        operation(i)
    time.sleep(0.2)
    assert open_fds() <= fds + 3
    assert threading.active_count() <= threads + 3


def test_sixteen_threads_all_operations_one_endpoint_call_per_key(
    emulator: Emulator, tmp_path: Any
) -> None:
    """16 threads share a client for every operation: right answers, one GetDataEndpoint per API."""
    stream = emulator.add_stream("cam", fragment_count=6, start=T0, payload_size=512)
    numbers = [f.number for f in stream.fragments]
    expected = b"".join(f.data() for f in stream.fragments)
    end = T0 + timedelta(seconds=12)
    with ArchivedMediaClient(endpoint_url=emulator.endpoint_url, rate_limit=False) as kv:

        def work(i: int) -> None:
            assert len(list(kv.list_fragments(stream_name="cam", start=T0, end=end))) == 6
            with kv.get_media_for_fragment_list(stream_name="cam", fragments=numbers) as media:
                assert media.read() == expected
            with kv.get_clip(stream_name="cam", start=T0, end=end) as clip:
                assert clip.read(8)[4:8] == b"ftyp"
            assert (
                len(
                    list(
                        kv.get_images(stream_name="cam", start=T0, end=end, sampling_interval=2000)
                    )
                )
                == 6
            )
            assert emulator.session_token in kv.get_hls_streaming_session_url(
                stream_name="cam", playback_mode="ON_DEMAND", start=T0, end=end
            )
            assert emulator.session_token in kv.get_dash_streaming_session_url(
                stream_name="cam", playback_mode="ON_DEMAND", start=T0, end=end
            )
            result = kv.download(stream_name="cam", start=T0, end=end, path=tmp_path / f"{i}.mkv")
            assert result.fragment_count == 6

        assert run_threads(16, work) == []
    calls = [r.params["APIName"] for r in emulator.requests if r.operation == "GetDataEndpoint"]
    assert sorted(calls) == sorted(
        [
            "LIST_FRAGMENTS",
            "GET_MEDIA_FOR_FRAGMENT_LIST",
            "GET_CLIP",
            "GET_IMAGES",
            "GET_HLS_STREAMING_SESSION_URL",
            "GET_DASH_STREAMING_SESSION_URL",
        ]
    )
