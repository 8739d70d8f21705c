"""kvarchive: the archive of Amazon Kinesis Video Streams, easy and safe from Python.

``ArchivedMediaClient`` is the entry point; see the README for a tour.
"""

from . import _errors, errors
from ._aws.throttle import Backoff
from ._client import ArchivedMediaClient
from ._clips import ClipTruncationWarning
from ._decode.decoded_frame import DecodedFrame
from ._errors import *  # noqa: F403 - every error is a top-level name too (kvarchive.errors.X)
from ._matroska.frames import Frame
from ._media.stream import MediaStream
from ._models import DownloadResult, Fragment, FragmentList, Image, MediaFragment
from ._notebook import HLSPlayer
from ._paginate import FragmentPager, ImagePager

__version__ = "0.1.0.dev0"

__all__ = [
    "ArchivedMediaClient",
    "Backoff",
    "ClipTruncationWarning",
    "DecodedFrame",
    "DownloadResult",
    "Fragment",
    "FragmentList",
    "FragmentPager",
    "Frame",
    "HLSPlayer",
    "Image",
    "ImagePager",
    "MediaFragment",
    "MediaStream",
    "__version__",
    "errors",
]
__all__ += _errors.__all__

# Public names print as public (kvarchive.Fragment, not kvarchive._models.Fragment); the
# errors print as kvarchive.errors.X, set there.
for _name in __all__:
    _value = globals()[_name]
    if getattr(_value, "__module__", "").startswith("kvarchive._"):
        _value.__module__ = __name__
del _name, _value
