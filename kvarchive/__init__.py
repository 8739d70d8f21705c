"""kvarchive: the archive of Amazon Kinesis Video Streams, easy and safe from Python.

``ArchivedMediaClient`` is the entry point; see the README for a tour.
"""

from . import errors
from ._checkpoint import Checkpoint, FileCheckpoint, S3Checkpoint
from ._client import ArchivedMediaClient
from ._clips import ClipTruncationWarning
from ._errors import (
    CheckpointConflictError,
    CheckpointError,
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
from ._follow import Follower
from ._follow_engine import LateFragmentWarning
from ._join import TrackListChangedError
from ._media import MediaStream
from ._models import DownloadResult, Fragment, FragmentList, Image, MediaFragment
from ._notebook import HLSPlayer
from ._paginate import FragmentPager, ImagePager
from ._throttle import Backoff

__version__ = "0.1.0.dev0"

__all__ = [
    "ArchivedMediaClient",
    "Backoff",
    "Checkpoint",
    "CheckpointConflictError",
    "CheckpointError",
    "ClientLimitExceededError",
    "ClipTruncationWarning",
    "CredentialsError",
    "DownloadResult",
    "EndpointUnreachableError",
    "FileCheckpoint",
    "Follower",
    "Fragment",
    "FragmentList",
    "FragmentPager",
    "HLSPlayer",
    "Image",
    "ImagePager",
    "InvalidArgumentError",
    "InvalidCodecPrivateDataError",
    "InvalidMediaFrameError",
    "KVArchiveError",
    "LateFragmentWarning",
    "MediaFragment",
    "MediaIncompleteError",
    "MediaParseError",
    "MediaStream",
    "MissingCodecPrivateDataError",
    "NoDataRetentionError",
    "NotAuthorizedError",
    "ResourceNotFoundError",
    "S3Checkpoint",
    "ServiceError",
    "TrackListChangedError",
    "UnsupportedStreamMediaTypeError",
    "ValidationError",
    "WrongEndpointError",
    "__version__",
    "errors",
]
