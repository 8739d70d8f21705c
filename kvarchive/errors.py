"""The exceptions kvarchive raises (the tree is drawn in ``kvarchive._errors``)."""

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
    TrackListChangedError,
    UnsupportedStreamMediaTypeError,
    UsageError,
    ValidationError,
    WrongEndpointError,
)

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
    "UsageError",
    "ValidationError",
    "WrongEndpointError",
]

# Tracebacks and reprs name the module users import them from.
for _name in __all__:
    globals()[_name].__module__ = __name__
del _name
