"""The one path every request takes: pacing, throttling retries, endpoint recovery.

Each call is made inside ``translate.translated``, the seam where botocore's
exceptions become kvarchive's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from typing import Any, Callable, Optional

from kvarchive._aws.endpoints import Clients, EndpointCache
from kvarchive._aws.throttle import Backoff, RateLimiter
from kvarchive._aws.translate import endpoint_gone, translated
from kvarchive._errors import ClientLimitExceededError, EndpointUnreachableError
from kvarchive._types import StreamRef
from kvarchive._validate import stream_key

__all__ = ["Caller"]

log = logging.getLogger("kvarchive")

_SNAKE_NAMES = {
    "GetDataEndpoint": "get_data_endpoint",
    "DescribeStream": "describe_stream",
    "ListFragments": "list_fragments",
    "GetMediaForFragmentList": "get_media_for_fragment_list",
    "GetClip": "get_clip",
    "GetImages": "get_images",
    "GetHLSStreamingSessionURL": "get_hls_streaming_session_url",
    "GetDASHStreamingSessionURL": "get_dash_streaming_session_url",
}


class Caller:
    """Sends calls for a client: to the right endpoint, at a safe pace, retried as needed."""

    def __init__(
        self,
        clients: Clients,
        endpoints: EndpointCache,
        *,
        backoff: Backoff,
        limiter: RateLimiter,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._clients = clients
        self._endpoints = endpoints
        self._backoff = backoff
        self._limiter = limiter
        self._sleep = sleep

    def control(self, operation: str, stream: StreamRef, params: Mapping[str, Any]) -> Any:
        """Call a control-plane operation on ``stream``."""
        return self._send(self._clients.control(), operation, stream, params)

    def data(
        self, api_name: str, operation: str, stream: StreamRef, params: Mapping[str, Any]
    ) -> Any:
        """Call a data-plane operation at ``stream``'s endpoint for ``api_name``.

        An endpoint that refuses or resets the connection before answering is
        dropped from the cache, resolved again, and the call tried once more.
        """
        url = self._endpoints.get(stream, api_name)
        try:
            return self._send(self._clients.data(url), operation, stream, params)
        except EndpointUnreachableError as exc:
            if not endpoint_gone(exc):
                raise
            log.info("%s: data endpoint stopped answering, resolving it again", operation)
            self._endpoints.drop(stream, api_name, url)
        url = self._endpoints.get(stream, api_name)
        return self._send(self._clients.data(url), operation, stream, params)

    def _send(
        self, client: Any, operation: str, stream: StreamRef, params: Mapping[str, Any]
    ) -> Any:
        """Make one call, retrying throttling per the backoff; raise only kvarchive errors."""
        method = getattr(client, _SNAKE_NAMES[operation])
        delays: Optional[Iterator[float]] = None
        attempt = 1
        while True:
            self._limiter.wait(stream_key(stream), operation)
            try:
                with translated(operation):
                    return method(**{stream[0]: stream[1]}, **params)
            except ClientLimitExceededError:
                delays = delays or self._backoff.delays()
                delay = next(delays, None)
                if delay is None:
                    raise
            log.debug("%s throttled (attempt %d), retrying in %.3fs", operation, attempt, delay)
            attempt += 1
            self._sleep(delay)
