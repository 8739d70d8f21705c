"""The data-endpoint cache: TTL, one resolution in flight per key, dropping dead endpoints."""

from __future__ import annotations

import threading
import time

import pytest

from kvarchive._aws.endpoints import EndpointCache

CAM = ("StreamName", "cam")


class CountingResolver:
    """Hands out numbered endpoints and counts the calls, slowly enough to overlap threads."""

    def __init__(self, delay: float = 0.0) -> None:
        self.calls = 0
        self.delay = delay
        self.lock = threading.Lock()

    def __call__(self, stream: tuple[str, str], api_name: str) -> str:
        with self.lock:
            self.calls += 1
            n = self.calls
        time.sleep(self.delay)
        return f"http://endpoint-{n}.test"


def test_entries_are_reused_within_the_ttl() -> None:
    """Within the TTL the same key resolves once."""
    resolve = CountingResolver()
    cache = EndpointCache(resolve, ttl=300)
    urls = {cache.get(CAM, "LIST_FRAGMENTS") for _ in range(200)}
    assert urls == {"http://endpoint-1.test"}
    assert resolve.calls == 1


def test_entries_expire_after_the_ttl() -> None:
    """After the TTL the key is resolved again."""
    now = [0.0]
    resolve = CountingResolver()
    cache = EndpointCache(resolve, ttl=10, clock=lambda: now[0])
    cache.get(CAM, "GET_CLIP")
    now[0] = 9.9
    cache.get(CAM, "GET_CLIP")
    now[0] = 10.1
    assert cache.get(CAM, "GET_CLIP") == "http://endpoint-2.test"
    assert resolve.calls == 2


def test_keys_are_per_stream_and_api_name() -> None:
    """Different API names or streams are different entries."""
    resolve = CountingResolver()
    cache = EndpointCache(resolve, ttl=300)
    cache.get(CAM, "GET_CLIP")
    cache.get(CAM, "GET_IMAGES")
    cache.get(("StreamName", "other"), "GET_CLIP")
    assert resolve.calls == 3


def test_concurrent_callers_share_one_resolution() -> None:
    """Sixteen threads asking at once cause one resolution and all get its answer."""
    resolve = CountingResolver(delay=0.2)
    cache = EndpointCache(resolve, ttl=300)
    barrier = threading.Barrier(16)
    results: list[str] = []

    def ask() -> None:
        barrier.wait()
        results.append(cache.get(CAM, "LIST_FRAGMENTS"))

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert resolve.calls == 1
    assert results == ["http://endpoint-1.test"] * 16


def test_a_failed_resolution_reaches_every_waiter_and_is_not_cached() -> None:
    """If the one resolution fails, waiters see its error and the next call tries again."""
    calls = []

    def resolve(stream: tuple[str, str], api_name: str) -> str:
        calls.append(api_name)
        if len(calls) == 1:
            time.sleep(0.1)
            raise RuntimeError("boom")
        return "http://ok.test"

    cache = EndpointCache(resolve, ttl=300)
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            cache.get(CAM, "GET_CLIP")
        except RuntimeError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(errors) == 4
    assert cache.get(CAM, "GET_CLIP") == "http://ok.test"


def test_drop_forgets_only_the_dead_endpoint() -> None:
    """drop() removes the entry only if it still holds the URL that failed."""
    resolve = CountingResolver()
    cache = EndpointCache(resolve, ttl=300)
    first = cache.get(CAM, "GET_CLIP")
    cache.drop(CAM, "GET_CLIP", "http://some-other.test")
    assert cache.get(CAM, "GET_CLIP") == first
    cache.drop(CAM, "GET_CLIP", first)
    assert cache.get(CAM, "GET_CLIP") == "http://endpoint-2.test"


@pytest.mark.parametrize("ttl", [0.0])
def test_zero_ttl_resolves_every_time(ttl: float) -> None:
    """A TTL of zero disables caching."""
    resolve = CountingResolver()
    cache = EndpointCache(resolve, ttl=ttl)
    cache.get(CAM, "GET_CLIP")
    cache.get(CAM, "GET_CLIP")
    assert resolve.calls == 2
