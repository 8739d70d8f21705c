"""Where calls go: boto3 clients per endpoint and the cache of data endpoints.

Every archived-media call must be sent to the data endpoint that
GetDataEndpoint names for its stream and API; boto3's default endpoint for
the data plane is the control plane, which answers HTTP 200 with nothing in
it. Endpoints are cached per (stream, API name) for a TTL, resolved once
however many threads ask at the same time, and dropped when they stop
answering.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from typing import Any, Callable, Optional

import attrs

from kvarchive._aws.fastpages import register_fast_pages
from kvarchive._aws.hints import no_region_message
from kvarchive._errors import ValidationError
from kvarchive._types import StreamRef
from kvarchive._validate import stream_key

__all__ = ["Clients", "EndpointCache"]

_MILLISECOND_HANDLER_ID = "kvarchive-millisecond-timestamps"


def _millisecond_timestamps(serializer_kwargs: dict[str, Any], **_: Any) -> None:
    # botocore sends whole epoch seconds unless told otherwise, moving a
    # fragment-accurate range by up to a second.
    serializer_kwargs["timestamp_precision"] = "millisecond"


class Clients:
    """The boto3 clients of one session: one control-plane client, one per data endpoint.

    Without a ``session``, a new ``boto3.Session()`` (the default credential chain).
    """

    def __init__(
        self,
        session: Any,
        *,
        region_name: Optional[str],
        endpoint_url: Optional[str],
        config: Any,
    ) -> None:
        if session is None:
            import boto3

            session = boto3.Session()
        self._session = session
        self._region_name = region_name
        self._endpoint_url = endpoint_url
        self._config = config
        self._control: Any = None
        self._data: dict[str, Any] = {}
        # Creating clients from one boto3 session is not thread-safe.
        self._lock = threading.Lock()
        # Registered on the session because that is where botocore looks for it;
        # it only affects the serializers of the "kinesisvideo" endpoint prefix.
        session.events.register(
            "creating-serializer.kinesisvideo",
            _millisecond_timestamps,
            unique_id=_MILLISECOND_HANDLER_ID,
        )

    def control(self) -> Any:
        """The ``kinesisvideo`` client (GetDataEndpoint)."""
        with self._lock:
            if self._control is None:
                self._control = self._create("kinesisvideo", self._endpoint_url)
            return self._control

    def data(self, url: str) -> Any:
        """The ``kinesis-video-archived-media`` client for one data endpoint, made once."""
        with self._lock:
            client = self._data.get(url)
            if client is None:
                client = self._data[url] = self._create("kinesis-video-archived-media", url)
                register_fast_pages(client)
            return client

    def close(self) -> None:
        """Close every client's connection pool."""
        with self._lock:
            clients = [c for c in (self._control, *self._data.values()) if c is not None]
            self._control = None
            self._data.clear()
        for client in clients:
            client.close()

    def _create(self, service: str, endpoint_url: Optional[str]) -> Any:
        from botocore.exceptions import NoRegionError

        try:
            return self._session.client(
                service,
                region_name=self._region_name,
                endpoint_url=endpoint_url,
                config=self._config,
            )
        except NoRegionError:
            raise ValidationError(no_region_message("pass region_name=")) from None


@attrs.frozen
class _Entry:
    url: str
    expires: float


class EndpointCache:
    """Data endpoints per (stream, API name), reused for ``ttl`` seconds.

    A stream named by its name or by its ARN is one key (:func:`stream_key`).

    ``resolve(stream, api_name)`` is called at most once at a time per key:
    concurrent callers wait for the one call in flight and share its answer
    (or its error).
    """

    def __init__(
        self,
        resolve: Callable[[StreamRef, str], str],
        ttl: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._resolve = resolve
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._pending: dict[tuple[str, str], Future[str]] = {}
        self._lock = threading.Lock()

    def get(self, stream: StreamRef, api_name: str) -> str:
        """The data endpoint for ``api_name`` on ``stream``, resolving it if needed."""
        key = (stream_key(stream), api_name)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.expires > self._clock():
                return entry.url
            pending = self._pending.get(key)
            owner = pending is None
            if pending is None:
                pending = self._pending[key] = Future()
        if not owner:
            return pending.result()
        try:
            url = self._resolve(stream, api_name)
        except BaseException as exc:
            with self._lock:
                del self._pending[key]
            pending.set_exception(exc)
            raise
        with self._lock:
            self._entries[key] = _Entry(url, self._clock() + self._ttl)
            del self._pending[key]
        pending.set_result(url)
        return url

    def drop(self, stream: StreamRef, api_name: str, url: str) -> None:
        """Forget ``url`` for this key (if it is still the cached one): it stopped answering."""
        key = (stream_key(stream), api_name)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.url == url:
                del self._entries[key]
