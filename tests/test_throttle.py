"""Throttling retries and per-stream pacing."""

from __future__ import annotations

import threading
import time

import pytest

from kvarchive import Backoff
from kvarchive._throttle import RateLimiter


def test_backoff_yields_one_delay_per_retry() -> None:
    """attempts counts the first call, so there are attempts - 1 delays."""
    assert len(list(Backoff(attempts=5).delays())) == 4
    assert list(Backoff(attempts=1).delays()) == []


def test_backoff_delays_grow_and_stay_under_the_cap() -> None:
    """Each delay is within [0, min(cap, base * 2**n)] (full jitter)."""
    for _ in range(50):
        delays = list(Backoff(attempts=8, base=0.1, cap=1.0).delays())
        for n, delay in enumerate(delays):
            assert 0 <= delay <= min(1.0, 0.1 * 2**n)


def test_backoff_rejects_nonsense() -> None:
    """Zero attempts or negative delays are refused when the Backoff is made."""
    with pytest.raises(ValueError):
        Backoff(attempts=0)
    with pytest.raises(ValueError):
        Backoff(base=-1)


def test_rate_limiter_spaces_calls_on_one_key() -> None:
    """Five calls at 5/s on one key are spread over 0.8 s of slots."""
    clock = [100.0]
    slept: list[float] = []
    limiter = RateLimiter({"ListFragments": 5.0}, clock=lambda: clock[0], sleep=slept.append)
    for _ in range(5):
        limiter.wait("cam", "ListFragments")
    assert slept == pytest.approx([0.2, 0.4, 0.6, 0.8])


def test_rate_limiter_keys_are_independent() -> None:
    """Different streams and operations do not wait for each other."""
    slept: list[float] = []
    limiter = RateLimiter(
        {"ListFragments": 5.0, "GetClip": 1.0}, clock=lambda: 0.0, sleep=slept.append
    )
    limiter.wait("a", "ListFragments")
    limiter.wait("b", "ListFragments")
    limiter.wait("a", "GetClip")
    limiter.wait("a", "Unpaced")
    assert slept == []


def test_rate_limiter_holds_threads_to_the_rate() -> None:
    """Ten threads sharing a key at 50/s take at least 0.18 s in real time."""
    limiter = RateLimiter({"GetClip": 50.0})
    started = time.monotonic()
    threads = [threading.Thread(target=limiter.wait, args=("cam", "GetClip")) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.monotonic() - started >= 0.17
