"""What the service accepts: API names, enum spellings and limits, said once.

From botocore's service model (enums, minimums) and the Kinesis Video Streams
API reference and quotas (maximums, which botocore does not check). The
library checks arguments against them before any request, the command line
offers them as choices, and the emulator refuses what the service refuses.
"""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = [
    "ALWAYS_NEVER",
    "API_NAMES",
    "CLIP_MAX_BYTES",
    "CLIP_MAX_FRAGMENTS",
    "CONTAINER_FORMATS",
    "DISCONTINUITY_MODES",
    "EXPIRES_RANGE",
    "IMAGES_MAX_RESULTS",
    "IMAGES_MAX_SPAN_MS",
    "IMAGES_MIN_INTERVAL_MS",
    "IMAGE_FORMATS",
    "IMAGE_MAX_HEIGHT",
    "IMAGE_MAX_WIDTH",
    "LIST_MAX_RESULTS",
    "MAX_SPAN",
    "MEDIA_MAX_FRAGMENTS",
    "PLAYBACK_MODES",
    "SESSION_MAX_RESULTS",
    "STREAM_ARN",
    "STREAM_NAME",
    "TIMESTAMP_TYPES",
]

# Patterns and lengths from the service model (StreamName, ResourceARN).
STREAM_NAME = re.compile(r"[a-zA-Z0-9_.\-]{1,256}")
STREAM_ARN = re.compile(
    r"arn:[a-z\d\-]+:kinesisvideo:[a-z0-9\-]+:[0-9]+:[a-z]+/([a-zA-Z0-9_.\-]+)/[0-9]+"
)
"""A stream ARN; group 1 is the stream's name."""

# The APIName values of GetDataEndpoint that the archived-media operations use.
API_NAMES = (
    "LIST_FRAGMENTS",
    "GET_CLIP",
    "GET_IMAGES",
    "GET_MEDIA_FOR_FRAGMENT_LIST",
    "GET_HLS_STREAMING_SESSION_URL",
    "GET_DASH_STREAMING_SESSION_URL",
)
TIMESTAMP_TYPES = ("SERVER_TIMESTAMP", "PRODUCER_TIMESTAMP")
PLAYBACK_MODES = ("LIVE", "LIVE_REPLAY", "ON_DEMAND")
ALWAYS_NEVER = ("ALWAYS", "NEVER")
CONTAINER_FORMATS = ("FRAGMENTED_MP4", "MPEG_TS")
DISCONTINUITY_MODES = ("ALWAYS", "NEVER", "ON_DISCONTINUITY")
IMAGE_FORMATS = ("JPEG", "PNG")

LIST_MAX_RESULTS = 1000
"""ListFragments' MaxResults: 1 to 1000 fragments a page."""
MEDIA_MAX_FRAGMENTS = 1000
"""GetMediaForFragmentList: 1 to 1000 fragment numbers a request."""
CLIP_MAX_FRAGMENTS = 200
"""GetClip returns the first 200 fragments of a range (or 100 MB), silently."""
CLIP_MAX_BYTES = 100 * 1000 * 1000
"""GetClip returns the first 100 MB of a range (or 200 fragments), silently."""
MAX_SPAN = timedelta(hours=24)
"""The longest range of GetClip and of an ON_DEMAND or LIVE_REPLAY session."""
IMAGES_MAX_RESULTS = 100
"""GetImages' MaxResults (pages hold at most 25 images even so)."""
IMAGES_MAX_SPAN_MS = 300_000
"""GetImages refuses ``EndTimestamp - StartTimestamp`` over 300 s."""
IMAGES_MIN_INTERVAL_MS = 200
"""The shortest SamplingInterval GetImages takes (older docs said 3000)."""
IMAGE_MAX_WIDTH = 3840
IMAGE_MAX_HEIGHT = 2160
EXPIRES_RANGE = (300, 43200)
"""Seconds a streaming-session URL may be valid."""
SESSION_MAX_RESULTS = 5000
"""MaxMediaPlaylistFragmentResults and MaxManifestFragmentResults: 1 to 5000."""
