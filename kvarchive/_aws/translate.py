"""Where botocore's exceptions and answers become kvarchive's: the one seam.

Every call runs inside :func:`translated` (``calls.Caller`` does it), which
decides what each botocore exception becomes, ``raise ... from`` it, so no
``ClientError`` or ``BotoCoreError`` escapes a public method:

- ``ClientError``: the service said no, a :class:`ServiceError` of the
  subclass its code names (:func:`from_client_error`);
- no answer at all (refused, reset, timed out; botocore has retried these
  per its ``retries`` already): :class:`EndpointUnreachableError`, and
  :func:`endpoint_gone` says whether the endpoint itself is gone, so that it
  is resolved again;
- no credentials: :class:`CredentialsError`; any other botocore error: a
  plain :class:`KVArchiveError`.

A media body read that fails mid-way is judged by :func:`is_connection_error`
(a dropped or stalled connection, which the media layer resumes) and, where
it cannot be resumed, turned into :class:`MediaIncompleteError` by
:func:`read_failure`. An answer of HTTP 200 without what the operation
returns means the call reached the wrong endpoint: :func:`answer_field` and
:func:`media_answer` raise :class:`WrongEndpointError`.

botocore is imported on first use, so that ``import kvarchive`` stays light.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Mapping
from typing import Any, Optional

from kvarchive._aws.hints import no_credentials_message
from kvarchive._errors import (
    CredentialsError,
    EndpointUnreachableError,
    KVArchiveError,
    MediaIncompleteError,
    ServiceError,
    WrongEndpointError,
    service_error,
)
from kvarchive._types import Body

__all__ = [
    "answer_field",
    "endpoint_gone",
    "from_client_error",
    "is_connection_error",
    "media_answer",
    "read_failure",
    "translated",
]


class _Botocore:
    """The exception classes the seam sorts by, imported once on first use."""

    def __init__(self) -> None:
        from http.client import HTTPException

        from botocore import exceptions
        from urllib3.exceptions import HTTPError

        self.ClientError = exceptions.ClientError
        self.BotoCoreError = exceptions.BotoCoreError
        # A call that got no answer at all: botocore wraps urllib3's errors in these.
        self.no_answer = (
            exceptions.EndpointConnectionError,
            exceptions.ConnectionClosedError,
            exceptions.ConnectTimeoutError,
            exceptions.ReadTimeoutError,
        )
        # Of those, the endpoint itself is gone: refused, or reset before any answer.
        self.dead_endpoint = (exceptions.EndpointConnectionError, exceptions.ConnectionClosedError)
        self.no_credentials = (exceptions.NoCredentialsError, exceptions.PartialCredentialsError)
        # A body read that failed mid-way: botocore's StreamingBody raises its own errors
        # (ResponseStreamingError, ReadTimeoutError) but lets urllib3's and http.client's
        # through, and a socket error may come bare.
        self.dropped_read = (
            exceptions.BotoCoreError,
            HTTPError,
            HTTPException,
            ConnectionError,
            TimeoutError,
        )


@functools.lru_cache(maxsize=1)
def _botocore() -> _Botocore:
    return _Botocore()


@contextlib.contextmanager
def translated(operation: str) -> Iterator[None]:
    """Run one botocore call; whatever botocore raises leaves as a KVArchiveError."""
    botocore = _botocore()
    try:
        yield
    except botocore.ClientError as exc:
        raise from_client_error(exc, operation) from exc
    except botocore.no_answer as exc:
        raise EndpointUnreachableError(f"{operation}: {exc}") from exc
    except botocore.no_credentials as exc:
        message = no_credentials_message(
            "set AWS_PROFILE", "kvarchive.testing.Emulator().client() needs none"
        )
        raise CredentialsError(message) from exc
    except botocore.BotoCoreError as exc:
        raise KVArchiveError(f"{operation}: {exc}") from exc


def from_client_error(exc: Any, operation: Optional[str] = None) -> ServiceError:
    """Translate a botocore ``ClientError`` into the matching ServiceError."""
    response = getattr(exc, "response", None) or {}
    error = response.get("Error") or {}
    metadata = response.get("ResponseMetadata") or {}
    headers = {k.lower(): v for k, v in (metadata.get("HTTPHeaders") or {}).items()}
    raw_type = headers.get("x-amz-errortype") or headers.get("x-amzn-errortype")
    code = str(error.get("Code") or (raw_type or "Unknown").split(":", 1)[0])
    return service_error(
        code,
        str(error.get("Message") or error.get("message") or code),
        operation=operation or getattr(exc, "operation_name", None),
        status_code=metadata.get("HTTPStatusCode"),
        error_type=raw_type,
        request_id=metadata.get("RequestId") or headers.get("x-amzn-requestid"),
    )


def endpoint_gone(error: EndpointUnreachableError) -> bool:
    """True when the endpoint refused or reset the connection: resolve it again and retry."""
    return isinstance(error.__cause__, _botocore().dead_endpoint)


def is_connection_error(exc: BaseException) -> bool:
    """True for the ways a body read fails when the connection drops or stalls."""
    return isinstance(exc, _botocore().dropped_read)


def read_failure(exc: Exception, what: str, position: int) -> Optional[MediaIncompleteError]:
    """What a failed read of ``what`` becomes, ``position`` bytes in.

    MediaIncompleteError for a dropped connection; None for anything else
    (a kvarchive error already, or a bug), which is raised as it is.
    """
    if isinstance(exc, KVArchiveError) or not is_connection_error(exc):
        return None
    return MediaIncompleteError(f"the connection dropped after {position} bytes of {what}: {exc}")


def answer_field(response: Mapping[str, Any], name: str, operation: str) -> Any:
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


def media_answer(response: Mapping[str, Any], operation: str) -> tuple[Body, str]:
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


def _status(response: Mapping[str, Any]) -> Any:
    return (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")


def _request_id(response: Mapping[str, Any]) -> Any:
    return (response.get("ResponseMetadata") or {}).get("RequestId")
