"""kvarchive: the archive of Amazon Kinesis Video Streams, easy and safe from Python.

``ArchivedMediaClient`` is the entry point; see the README for a tour, and its
"Development" section for where things are.

Words that name several things:

fragment
    The service's unit of storage, a few seconds of a stream with a number
    and timestamps. ``Fragment`` describes one as ListFragments does
    (``FragmentPager`` lists them, ``FragmentList`` holds them);
    ``MediaFragment`` is one's media: its Matroska document (EBML header and
    Segment), bytes and tags, as ``MediaStream.iter_fragments`` yields them (in
    a local file, one document may be a whole recording). Inside,
    ``_matroska.fragment_info.FragmentInfo`` is what the scanner found of a
    document (where it lies, what its tags say) and ``_matroska.parts.FragmentParts``
    a document cut into elements for the recording writer. The emulator's
    ``FragmentRecord`` and ``SyntheticFragment`` are a stored fragment and the
    recipe of its bytes.
frame
    ``Frame`` is one Matroska block as stored: track, time, keyframe flag and
    the encoded bytes (``iter_frames``). ``DecodedFrame`` is a video frame
    decoded to an RGB picture (``_decode``). The emulator's frames (``Frame``,
    ``StoredFrame``, ``MediaFrame``, ``TimedFrame`` in ``testing``) are what its
    fragments and playback segments are written from.
stream
    A Kinesis video stream, named by ``stream_name=`` or ``stream_arn=``
    (``StreamRef`` internally); ``MediaStream`` is a media body being read, a
    file object; the emulator's ``EmulatedStream`` holds a stream's fragments.
endpoint
    ``endpoint_url=`` is the control plane (GetDataEndpoint); the data
    endpoint is what GetDataEndpoint names for a stream and API, where every
    archived-media call goes (``data_endpoint()``, cached).
session
    A ``boto3.Session`` (credentials, region), or a streaming session: the
    HLS or DASH URL and its session token, a secret.
timestamp, time
    A fragment's server and producer timestamps (aware UTC datetimes) select
    it; a frame's ``time_ns`` is its Matroska time and ``utc_time`` its
    wall-clock time.
"""

from . import _errors, errors
from ._audio.models import AudioChunk, AudioResult
from ._aws.throttle import Backoff
from ._checkpoint import Checkpoint, DynamoDBCheckpoint, FileCheckpoint, S3Checkpoint
from ._client import ArchivedMediaClient
from ._decode.decoded_frame import DecodedFrame
from ._decode.decoding import DecodedFrames
from ._errors import *  # noqa: F403 - every error is a top-level name too (kvarchive.errors.X)
from ._export import ExportResult, export
from ._follow import Follower
from ._inspect.report import Gap, Problem, StreamReport, Support, TrackReport
from ._matroska.frames import Frame
from ._media.stream import MediaStream
from ._models import DownloadResult, Fragment, FragmentList, Image, MediaFragment
from ._paginate import FragmentPager, ImagePager
from ._players import DASHPlayer, HLSPlayer
from ._public import publish
from ._shards import ExportShard, ShardResult

__version__ = "0.1.0.dev0"

__all__ = [
    "ArchivedMediaClient",
    "AudioChunk",
    "AudioResult",
    "Backoff",
    "Checkpoint",
    "DASHPlayer",
    "DecodedFrame",
    "DecodedFrames",
    "DownloadResult",
    "DynamoDBCheckpoint",
    "ExportResult",
    "ExportShard",
    "FileCheckpoint",
    "Follower",
    "Fragment",
    "FragmentList",
    "FragmentPager",
    "Frame",
    "Gap",
    "HLSPlayer",
    "Image",
    "ImagePager",
    "MediaFragment",
    "MediaStream",
    "Problem",
    "S3Checkpoint",
    "ShardResult",
    "StreamReport",
    "Support",
    "TrackReport",
    "__version__",
    "errors",
    "export",
]
__all__ += _errors.__all__

# kvarchive.Fragment, not kvarchive._models.Fragment (the errors are kvarchive.errors.X).
publish(globals(), __all__, __name__, "kvarchive._")
