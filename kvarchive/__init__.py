"""kvarchive: the archive of Amazon Kinesis Video Streams, easy and safe from Python.

``ArchivedMediaClient`` is the entry point; see the README for a tour.
"""

from . import errors
from ._aws.throttle import Backoff
from ._client import ArchivedMediaClient
from ._clips import ClipTruncationWarning
from ._decode.decoded_frame import DecodedFrame
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
from ._matroska.frames import Frame
from ._media.stream import MediaStream
from ._models import DownloadResult, Fragment, FragmentList, Image, MediaFragment
from ._notebook import HLSPlayer
from ._paginate import FragmentPager, ImagePager

__version__ = "0.1.0.dev0"

__all__ = [
    "ArchivedMediaClient",
    "Backoff",
    "ClientLimitExceededError",
    "ClipTruncationWarning",
    "CredentialsError",
    "DecodedFrame",
    "DownloadResult",
    "EndpointUnreachableError",
    "Fragment",
    "FragmentList",
    "FragmentPager",
    "Frame",
    "HLSPlayer",
    "Image",
    "ImagePager",
    "InvalidArgumentError",
    "InvalidCodecPrivateDataError",
    "InvalidMediaFrameError",
    "KVArchiveError",
    "MediaFragment",
    "MediaIncompleteError",
    "MediaParseError",
    "MediaStream",
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
    "__version__",
    "errors",
]

# Public names print as public (kvarchive.Fragment, not kvarchive._models.Fragment); the
# errors print as kvarchive.errors.X, set there.
for _name in __all__:
    _value = globals()[_name]
    if getattr(_value, "__module__", "").startswith("kvarchive._"):
        _value.__module__ = __name__
del _name, _value
