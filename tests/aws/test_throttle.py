"""Throttling retries and per-stream pacing."""

from __future__ import annotations

import threading
import time

import pytest

from kvarchive import Backoff
from kvarchive._aws.throttle import RateLimiter


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


def test_rate_limiter_allows_the_rate_in_any_second() -> None:
    """Twelve calls at 5/s: five at once, five a second later, two a second after that."""
    clock = [100.0]
    starts: list[float] = []

    def sleep(seconds: float) -> None:
        starts.append(clock[0] + seconds)

    limiter = RateLimiter({"ListFragments": 5.0}, clock=lambda: clock[0], sleep=sleep)
    for _ in range(12):
        before = len(starts)
        limiter.wait("cam", "ListFragments")
        if len(starts) == before:
            starts.append(clock[0])
    assert starts == [100.0] * 5 + [101.0] * 5 + [102.0] * 2


def test_no_window_of_one_second_holds_more_than_the_rate() -> None:
    """Calls arriving at random times never exceed 5 in any one-second window."""
    import random

    rng = random.Random(7)
    clock = [0.0]
    starts: list[float] = []

    def sleep(seconds: float) -> None:
        starts[-1] += seconds

    limiter = RateLimiter({"GetClip": 5.0}, clock=lambda: clock[0], sleep=sleep)
    for _ in range(200):
        clock[0] += rng.uniform(0, 0.3)
        starts.append(clock[0])
        limiter.wait("cam", "GetClip")
    starts.sort()
    for i, start in enumerate(starts):
        assert sum(1 for t in starts[i:] if t < start + 1.0) <= 5


def test_fractional_rates_space_single_calls() -> None:
    """A rate of 0.5/s allows one call per two seconds."""
    clock = [0.0]
    slept: list[float] = []
    limiter = RateLimiter({"GetClip": 0.5}, clock=lambda: clock[0], sleep=slept.append)
    limiter.wait("cam", "GetClip")
    limiter.wait("cam", "GetClip")
    assert slept == [2.0]


def test_rate_limiter_keys_are_independent() -> None:
    """Different streams and operations do not wait for each other."""
    slept: list[float] = []
    limiter = RateLimiter(
        {"ListFragments": 1.0, "GetClip": 1.0}, clock=lambda: 0.0, sleep=slept.append
    )
    limiter.wait("a", "ListFragments")
    limiter.wait("b", "ListFragments")
    limiter.wait("a", "GetClip")
    limiter.wait("a", "Unpaced")
    assert slept == []


def test_rate_limiter_holds_threads_to_the_rate() -> None:
    """Sixty threads sharing a key at 50/s take at least one second in real time."""
    limiter = RateLimiter({"GetClip": 50.0})
    started = time.monotonic()
    threads = [threading.Thread(target=limiter.wait, args=("cam", "GetClip")) for _ in range(60)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.monotonic() - started >= 0.95
