"""Everything kvarchive raises, and every warning it gives.

::

    KVArchiveError
     ├── UsageError (also RuntimeError)        a bug in the calling code: a closed client, ...
     ├── ValidationError (also ValueError)     bad input, raised before any request
     ├── MediaParseError                       the media body is not valid Matroska
     ├── MediaIncompleteError                  a media body could not be fetched whole
     ├── TrackListChangedError                 the track list changes inside a recording
     ├── EndpointUnreachableError              no answer: refused, reset or timed out
     ├── CredentialsError                      no AWS credentials to sign the request with
     ├── CheckpointError                       a follower's checkpoint cannot be read or written
     │    └── CheckpointConflictError          another follower advanced the checkpoint first
     └── ServiceError                          the service said no
          ├── ResourceNotFoundError
          ├── InvalidArgumentError
          ├── ClientLimitExceededError         (retried by kvarchive before it surfaces)
          ├── NotAuthorizedError
          ├── NoDataRetentionError
          ├── UnsupportedStreamMediaTypeError
          ├── MissingCodecPrivateDataError
          ├── InvalidCodecPrivateDataError
          ├── InvalidMediaFrameError
          └── WrongEndpointError               HTTP 200 without the expected answer

    KVArchiveWarning (also UserWarning)
     ├── ClipTruncationWarning                 a GetClip range holds more than one clip returns
     └── LateFragmentWarning                   a followed fragment came out of order, or expired

A problem kvarchive can only report, not raise (a follower dropped without
``close()`` whose checkpoint cannot be saved), is a plain KVArchiveWarning;
``warnings.simplefilter("error", kvarchive.errors.KVArchiveWarning)`` turns
every one of them into an exception.

Every exception of botocore is translated at one seam,
``kvarchive._aws.translate``, and kept as ``__cause__``.

Misuse (a call on a closed client, ``iter_fragments`` where it cannot read)
is a programming error, not a failure of the service: it is a
:class:`UsageError`, also a ``RuntimeError``, as attrs and httpx keep misuse
apart, so that ``except ServiceError`` never meets it and a handler can let it
through (``except UsageError: raise``). It stays under KVArchiveError because
KVArchiveError is documented as the base of everything kvarchive raises, and
code written against that catches a closed client's error with it. A closed
MediaStream raises ``ValueError``, as every closed ``io`` file does.
"""

from __future__ import annotations

from typing import Any, Optional

__all__ = [
    "CheckpointConflictError",
    "CheckpointError",
    "ClientLimitExceededError",
    "ClipTruncationWarning",
    "CredentialsError",
    "EndpointUnreachableError",
    "InvalidArgumentError",
    "InvalidCodecPrivateDataError",
    "InvalidMediaFrameError",
    "KVArchiveError",
    "KVArchiveWarning",
    "LateFragmentWarning",
    "MediaIncompleteError",
    "MediaParseError",
    "MissingCodecPrivateDataError",
    "NoDataRetentionError",
    "NotAuthorizedError",
    "ResourceNotFoundError",
    "ServiceError",
    "TrackListChangedError",
    "UnsupportedStreamMediaTypeError",
    "UsageError",
    "ValidationError",
    "WrongEndpointError",
]


class KVArchiveError(Exception):
    """Base of everything kvarchive raises."""


class UsageError(KVArchiveError, RuntimeError):
    """kvarchive was used in a way it cannot work: a bug in the calling code, not a failure."""


class ValidationError(KVArchiveError, ValueError):
    """An argument the service would reject; raised before any request."""


class MediaParseError(KVArchiveError):
    """The media body holds bytes that cannot be Matroska.

    ``offset`` is the position in the body where the bad element starts, or None.
    """

    def __init__(self, message: str, offset: Optional[int] = None) -> None:
        super().__init__(message, offset)
        self.message = message
        self.offset = offset

    def __str__(self) -> str:
        if self.offset is None:
            return self.message
        return f"{self.message} (at byte {self.offset})"


class MediaIncompleteError(KVArchiveError):
    """A media body stopped early and could not be resumed.

    ``first_missing`` is the number of the first fragment not delivered.
    """

    def __init__(self, message: str, first_missing: Optional[str] = None) -> None:
        super().__init__(message, first_missing)
        self.message = message
        self.first_missing = first_missing

    def __str__(self) -> str:
        return self.message


class TrackListChangedError(KVArchiveError):
    """The track list (codecs, codec private data, tracks) changes inside the range.

    One Matroska file has one track list, so kvarchive stops rather than write
    a file players would misdecode. ``number`` is the first fragment with the
    new track list: download the range before it and from it separately.
    """

    def __init__(self, message: str, number: Optional[str] = None) -> None:
        super().__init__(message, number)
        self.message = message
        self.number = number

    def __str__(self) -> str:
        return self.message


class EndpointUnreachableError(KVArchiveError):
    """A request got no answer: the connection was refused, reset or timed out."""


class CredentialsError(KVArchiveError):
    """No AWS credentials were found (or only part of them), so no request could be signed."""


class CheckpointError(KVArchiveError):
    """A follower's checkpoint holds no state kvarchive can use, or could not be saved."""


class CheckpointConflictError(CheckpointError):
    """The checkpoint changed since this follower last read or wrote it.

    Another follower of the stream (or a hand edit) advanced it first; going
    on would deliver fragments twice, so this follower stops instead.
    """


class ServiceError(KVArchiveError):
    """The service answered with an error.

    Keeps the service's ``code``, ``message``, the ``operation`` called, the HTTP
    ``status_code``, the ``x-amz(n)-ErrorType`` header as ``error_type``, the
    ``request_id`` and whether kvarchive considers it ``retryable``.
    """

    retryable_codes = frozenset({"ClientLimitExceededException"})

    def __init__(
        self,
        message: str,
        *,
        code: str,
        operation: Optional[str] = None,
        status_code: Optional[int] = None,
        error_type: Optional[str] = None,
        request_id: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.operation = operation
        self.status_code = status_code
        self.error_type = error_type
        self.request_id = request_id

    @property
    def retryable(self) -> bool:
        """True when the same call may succeed if tried again later."""
        return self.code in self.retryable_codes or (self.status_code or 0) >= 500

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only arguments do not survive the default exception pickling.
        details = {
            "code": self.code,
            "operation": self.operation,
            "status_code": self.status_code,
            "error_type": self.error_type,
            "request_id": self.request_id,
        }
        return (_rebuild_service_error, (type(self), self.message, details))

    def __str__(self) -> str:
        parts = [f"{self.code}: {self.message}"]
        if self.operation:
            parts.append(f"operation={self.operation}")
        if self.request_id:
            parts.append(f"request_id={self.request_id}")
        return " ".join(parts)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, "
            f"operation={self.operation!r}, status_code={self.status_code!r}, "
            f"request_id={self.request_id!r})"
        )


def _rebuild_service_error(
    cls: type[ServiceError], message: str, details: dict[str, Any]
) -> ServiceError:
    return cls(message, **details)


class ResourceNotFoundError(ServiceError):
    """No such stream, or no fragments in the requested range."""


class InvalidArgumentError(ServiceError):
    """The service rejected an argument."""


class ClientLimitExceededError(ServiceError):
    """Throttled: too many calls; kvarchive retried with backoff before raising this."""


class NotAuthorizedError(ServiceError):
    """The credentials may not perform this call."""


class NoDataRetentionError(ServiceError):
    """The stream keeps no archive (data retention is zero)."""


class UnsupportedStreamMediaTypeError(ServiceError):
    """The stream's media type cannot be served by this call."""


class MissingCodecPrivateDataError(ServiceError):
    """The stream's fragments lack the codec private data this call needs."""


class InvalidCodecPrivateDataError(ServiceError):
    """The stream's codec private data is not valid for this call."""


class InvalidMediaFrameError(ServiceError):
    """A frame in the requested range could not be decoded (GetImages)."""


class WrongEndpointError(ServiceError):
    """HTTP 200 without the expected answer: the call reached the wrong endpoint."""


ERROR_CLASSES: dict[str, type[ServiceError]] = {
    "ResourceNotFoundException": ResourceNotFoundError,
    "InvalidArgumentException": InvalidArgumentError,
    "ClientLimitExceededException": ClientLimitExceededError,
    "NotAuthorizedException": NotAuthorizedError,
    "NoDataRetentionException": NoDataRetentionError,
    "UnsupportedStreamMediaTypeException": UnsupportedStreamMediaTypeError,
    "MissingCodecPrivateDataException": MissingCodecPrivateDataError,
    "InvalidCodecPrivateDataException": InvalidCodecPrivateDataError,
    "InvalidMediaFrameException": InvalidMediaFrameError,
}


class KVArchiveWarning(UserWarning):
    """Base of every warning kvarchive gives."""


class ClipTruncationWarning(KVArchiveWarning):
    """A GetClip range holds more than the service returns in one clip.

    ``fragment_count`` and ``size`` (bytes) are what the range holds.
    """

    def __init__(self, message: str, fragment_count: int = 0, size: int = 0) -> None:
        super().__init__(message)
        self.fragment_count = fragment_count
        self.size = size

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self), self.fragment_count, self.size))


class LateFragmentWarning(KVArchiveWarning):
    """A fragment could not be followed as promised: it is yielded out of order, or it expired.

    ListFragments showed it more than ``settle`` seconds after later fragments
    had been listed (raise ``settle`` to wait longer), or the stream's
    retention removed it before the follower reached it.
    """


def service_error(
    code: str,
    message: str,
    *,
    operation: Optional[str] = None,
    status_code: Optional[int] = None,
    error_type: Optional[str] = None,
    request_id: Optional[str] = None,
) -> ServiceError:
    """Build the ServiceError subclass that matches a service error ``code``."""
    cls = ERROR_CLASSES.get(code, ServiceError)
    return cls(
        message,
        code=code,
        operation=operation,
        status_code=status_code,
        error_type=error_type,
        request_id=request_id,
    )
