"""The exceptions kvarchive raises (see the tree in ``kvarchive._errors``)."""

from ._errors import (
    ClientLimitExceededError,
    CredentialsError,
    EndpointUnreachableError,
    InvalidArgumentError,
    InvalidCodecPrivateDataError,
    InvalidMediaFrameError,
    KVArchiveError,
    MediaIncompleteError,
    MediaParseError,
    MissingCodecPrivateDataError,
    NoDataRetentionError,
    NotAuthorizedError,
    ResourceNotFoundError,
    ServiceError,
    UnsupportedStreamMediaTypeError,
    ValidationError,
    WrongEndpointError,
)
from ._matroska.recording import TrackListChangedError

__all__ = [
    "ClientLimitExceededError",
    "CredentialsError",
    "EndpointUnreachableError",
    "InvalidArgumentError",
    "InvalidCodecPrivateDataError",
    "InvalidMediaFrameError",
    "KVArchiveError",
    "MediaIncompleteError",
    "MediaParseError",
    "MissingCodecPrivateDataError",
    "NoDataRetentionError",
    "NotAuthorizedError",
    "ResourceNotFoundError",
    "ServiceError",
    "TrackListChangedError",
    "UnsupportedStreamMediaTypeError",
    "ValidationError",
    "WrongEndpointError",
]
