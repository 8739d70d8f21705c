"""The one path every request takes: pacing, retries, endpoint recovery, error translation.

Everything botocore raises is translated here, so no ``ClientError`` or
``BotoCoreError`` escapes a public method.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterator, Mapping
from typing import Any, Callable, Optional

from kvarchive._aws.endpoints import Clients, EndpointCache
from kvarchive._aws.hints import no_credentials_message
from kvarchive._aws.throttle import Backoff, RateLimiter
from kvarchive._errors import (
    ClientLimitExceededError,
    CredentialsError,
    EndpointUnreachableError,
    KVArchiveError,
    WrongEndpointError,
    from_client_error,
)
from kvarchive._media.stream import Body
from kvarchive._validate import StreamRef, stream_key

__all__ = ["Caller"]

log = logging.getLogger("kvarchive")

_SNAKE_NAMES = {
    "GetDataEndpoint": "get_data_endpoint",
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
            if not isinstance(exc.__cause__, _botocore().dead_endpoint):
                raise
            log.info("%s: data endpoint stopped answering, resolving it again", operation)
            self._endpoints.drop(stream, api_name, url)
        url = self._endpoints.get(stream, api_name)
        return self._send(self._clients.data(url), operation, stream, params)

    def _send(
        self, client: Any, operation: str, stream: StreamRef, params: Mapping[str, Any]
    ) -> Any:
        """Make one call, retrying throttling per the backoff; raise only kvarchive errors.

        This is the one seam where botocore's exceptions are translated.
        """
        botocore = _botocore()
        method = getattr(client, _SNAKE_NAMES[operation])
        delays: Optional[Iterator[float]] = None
        attempt = 1
        while True:
            self._limiter.wait(stream_key(stream), operation)
            try:
                return method(**{stream[0]: stream[1]}, **params)
            except botocore.ClientError as exc:
                error = from_client_error(exc, operation)
                if not isinstance(error, ClientLimitExceededError):
                    raise error from exc
                delays = delays or self._backoff.delays()
                delay = next(delays, None)
                if delay is None:
                    raise error from exc
            except botocore.no_answer as exc:
                raise EndpointUnreachableError(f"{operation}: {exc}") from exc
            except botocore.no_credentials as exc:
                message = no_credentials_message(
                    "set AWS_PROFILE", "kvarchive.testing.Emulator().client() needs none"
                )
                raise CredentialsError(message) from exc
            except botocore.BotoCoreError as exc:
                raise KVArchiveError(f"{operation}: {exc}") from exc
            log.debug("%s throttled (attempt %d), retrying in %.3fs", operation, attempt, delay)
            attempt += 1
            self._sleep(delay)

    @staticmethod
    def field(response: Mapping[str, Any], name: str, operation: str) -> Any:
        """``response[name]``; its absence means the call reached the wrong endpoint."""
        if name not in response:
            raise WrongEndpointError(
                f"{operation} answered HTTP 200 without {name!r}: the request reached an "
                "endpoint that does not serve it (the data plane needs the endpoint "
                "GetDataEndpoint names)",
                code="InvalidResponse",
                operation=operation,
                status_code=_status(response),
                request_id=_request_id(response),
            )
        return response[name]

    @staticmethod
    def media_body(response: Mapping[str, Any], operation: str) -> tuple[Body, str]:
        """The streaming body and content type of a media answer, checked."""
        body = response.get("Payload")
        content_type = str(response.get("ContentType") or "")
        if body is None or content_type.startswith("application/json"):
            if body is not None:
                body.close()
            raise WrongEndpointError(
                f"{operation} answered HTTP 200 with {content_type or 'no'} content instead of "
                "media: the request reached an endpoint that does not serve it",
                code="InvalidResponse",
                operation=operation,
                status_code=_status(response),
                request_id=_request_id(response),
            )
        return body, content_type


class _BotocoreErrors:
    """botocore's exception classes, imported on first use (import kvarchive stays light)."""

    def __init__(self) -> None:
        from botocore import exceptions

        self.ClientError = exceptions.ClientError
        self.BotoCoreError = exceptions.BotoCoreError
        # The request got no answer at all.
        self.no_answer = (
            exceptions.EndpointConnectionError,
            exceptions.ConnectionClosedError,
            exceptions.ConnectTimeoutError,
            exceptions.ReadTimeoutError,
        )
        self.no_credentials = (exceptions.NoCredentialsError, exceptions.PartialCredentialsError)
        # The endpoint itself is gone: refused, or reset before any answer.
        self.dead_endpoint = (exceptions.EndpointConnectionError, exceptions.ConnectionClosedError)


@functools.lru_cache(maxsize=1)
def _botocore() -> _BotocoreErrors:
    return _BotocoreErrors()


def _status(response: Mapping[str, Any]) -> Any:
    return (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")


def _request_id(response: Mapping[str, Any]) -> Any:
    return (response.get("ResponseMetadata") or {}).get("RequestId")
