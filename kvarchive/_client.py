"""``ArchivedMediaClient``: the archived-media operations, with endpoints handled."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, Optional, Union

from ._calls import Caller
from ._checkpoint import Checkpoint
from ._clips import (
    CLIP_MAX_FRAGMENTS,
    clip_ranges,
    plan_clips,
    warn_if_truncated,
)
from ._download import download_fragments, save_stream
from ._endpoints import Clients, EndpointCache
from ._errors import KVArchiveError, ValidationError
from ._follow import Follower, open_follower
from ._media import Body, MediaStream
from ._models import DownloadResult, Fragment, Image, MediaFragment
from ._paginate import FragmentPager, ImagePager
from ._throttle import SERVICE_RATES, Backoff, RateLimiter
from ._times import TimeLike, parse_time
from ._validate import (
    StreamRef,
    check_choice,
    check_fragment_number,
    check_int,
    check_range,
    check_stream,
    milliseconds,
)

__all__ = ["ArchivedMediaClient"]

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

# Limits from the service model and the Kinesis Video Streams quotas.
MAX_FRAGMENTS_PER_REQUEST = 1000
_MAX_CLIP_SPAN = timedelta(hours=24)
# Shorter ranges are not checked for GetClip's silent truncation (it would take
# 100 MB in a minute, over 13 Mbit/s, to reach its byte limit).
_CLIP_CHECK_SPAN = timedelta(seconds=60)
_CLIP_GROUP_BYTES = 80 * 1000 * 1000
_MAX_SESSION_SPAN = timedelta(hours=24)


class ArchivedMediaClient:
    """A client for the archive of Kinesis Video Streams.

    Resolves each operation's data endpoint with GetDataEndpoint, caches it
    for ``endpoint_ttl`` seconds per (stream, API name), and reuses one boto3
    client per endpoint. Thread-safe: share one client between threads.
    ``ClientLimitExceededException`` is retried per ``backoff``, and calls
    are paced per stream to the service's documented rates unless
    ``rate_limit`` is False.
    """

    def __init__(
        self,
        *,
        session: Any = None,
        region_name: Optional[str] = None,
        endpoint_url: Optional[str] = None,
        config: Any = None,
        endpoint_ttl: float = 300.0,
        backoff: Backoff = Backoff(),  # noqa: B008 - frozen value
        rate_limit: bool = True,
    ) -> None:
        if isinstance(endpoint_ttl, bool) or not isinstance(endpoint_ttl, (int, float)):
            raise ValidationError("endpoint_ttl must be a number of seconds")
        if endpoint_ttl < 0:
            raise ValidationError(f"endpoint_ttl must not be negative: {endpoint_ttl}")
        if session is None:
            import boto3

            session = boto3.Session()
        self._clients = Clients(
            session, region_name=region_name, endpoint_url=endpoint_url, config=config
        )
        self._endpoints = EndpointCache(self._resolve_endpoint, endpoint_ttl)
        self._caller = Caller(
            self._clients,
            self._endpoints,
            backoff=backoff,
            limiter=RateLimiter(SERVICE_RATES if rate_limit else {}),
        )
        self._closed = threading.Event()

    # -- lifecycle -------------------------------------------------------------------

    def close(self) -> None:
        """Close every connection pool; the client cannot be used afterwards."""
        self._closed.set()
        self._clients.close()

    def __enter__(self) -> ArchivedMediaClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = " closed" if self._closed.is_set() else ""
        return f"<ArchivedMediaClient{state}>"

    # -- endpoints -------------------------------------------------------------------

    def data_endpoint(
        self,
        api_name: str,
        *,
        stream_name: Optional[str] = None,
        stream_arn: Optional[str] = None,
    ) -> str:
        """The data endpoint URL for ``api_name`` on a stream (GetDataEndpoint, cached)."""
        self._check_open()
        stream = check_stream(stream_name, stream_arn)
        api = check_choice(api_name, "api_name", API_NAMES)
        return self._endpoints.get(stream, api)

    def _resolve_endpoint(self, stream: StreamRef, api_name: str) -> str:
        response = self._caller.control("GetDataEndpoint", stream, {"APIName": api_name})
        return self._caller.field(response, "DataEndpoint", "GetDataEndpoint")  # type: ignore[no-any-return]

    # -- ListFragments ---------------------------------------------------------------

    def list_fragments(
        self,
        *,
        stream_name: Optional[str] = None,
        stream_arn: Optional[str] = None,
        start: TimeLike,
        end: TimeLike,
        timestamp_type: str = "SERVER_TIMESTAMP",
        page_size: int = 1000,
        sort: bool = True,
    ) -> FragmentPager:
        """The fragments whose timestamp lies in ``[start, end]``, as a lazy pager.

        Calls ListFragments when iterated. Sorted by timestamp then number
        unless ``sort=False``.
        """
        self._check_open()
        stream = check_stream(stream_name, stream_arn)
        first, last = check_range(start, end)
        selector_type = check_choice(timestamp_type, "timestamp_type", TIMESTAMP_TYPES)
        max_results = check_int(page_size, "page_size", 1, 1000)
        selector = {
            "FragmentSelectorType": selector_type,
            "TimestampRange": {"StartTimestamp": first, "EndTimestamp": last},
        }

        def fetch(token: Optional[str]) -> tuple[list[Fragment], Optional[str]]:
            params: dict[str, Any] = {"MaxResults": max_results, "FragmentSelector": selector}
            if token:
                params["NextToken"] = token
            response = self._caller.data("LIST_FRAGMENTS", "ListFragments", stream, params)
            items = self._caller.field(response, "Fragments", "ListFragments")
            return [Fragment.from_api(item) for item in items], response.get("NextToken")

        return FragmentPager(fetch, sort=bool(sort), timestamp_type=selector_type)

    # -- media -----------------------------------------------------------------------

    def get_media_for_fragment_list(
        self,
        *,
        stream_name: Optional[str] = None,
        stream_arn: Optional[str] = None,
        fragments: Iterable[Union[str, Fragment]],
    ) -> MediaStream:
        """The media of the given fragments, in that order, as a stream of MKV bytes.

        Calls GetMediaForFragmentList, once per 1000 fragments.
        """
        self._check_open()
        stream = check_stream(stream_name, stream_arn)
        if isinstance(fragments, (str, bytes)):
            raise ValidationError("fragments must be a list of fragment numbers, not one string")
        numbers = [check_fragment_number(f) for f in fragments]
        if not numbers:
            raise ValidationError("fragments must name at least one fragment")

        def open_batch(batch: list[str]) -> tuple[Body, str]:
            response = self._caller.data(
                "GET_MEDIA_FOR_FRAGMENT_LIST",
                "GetMediaForFragmentList",
                stream,
                {"Fragments": batch},
            )
            return self._caller.media_body(response, "GetMediaForFragmentList")

        return MediaStream.for_fragments(numbers, open_batch, batch_size=MAX_FRAGMENTS_PER_REQUEST)

    def get_clip(
        self,
        *,
        stream_name: Optional[str] = None,
        stream_arn: Optional[str] = None,
        start: TimeLike,
        end: TimeLike,
        timestamp_type: str = "SERVER_TIMESTAMP",
        check_truncation: bool = True,
    ) -> MediaStream:
        """An MP4 clip of the fragments starting in ``[start, end]``, as a stream (GetClip).

        The service silently stops at 200 fragments or 100 MB. For ranges over
        a minute, kvarchive first lists the range (one ListFragments call) and
        warns with ClipTruncationWarning if the clip is bound to be cut short;
        ``check_truncation=False`` skips that. ``download_clips`` gets it all.
        """
        self._check_open()
        stream = check_stream(stream_name, stream_arn)
        first, last = check_range(start, end, longest=_MAX_CLIP_SPAN)
        selector_type = check_choice(timestamp_type, "timestamp_type", TIMESTAMP_TYPES)
        selector = {
            "FragmentSelectorType": selector_type,
            "TimestampRange": {"StartTimestamp": first, "EndTimestamp": last},
        }
        if check_truncation and last - first > _CLIP_CHECK_SPAN:
            listed = self.list_fragments(
                stream_name=stream_name,
                stream_arn=stream_arn,
                start=first,
                end=last,
                timestamp_type=selector_type,
                sort=False,
            )
            warn_if_truncated(list(listed))
        response = self._caller.data(
            "GET_CLIP", "GetClip", stream, {"ClipFragmentSelector": selector}
        )
        body, content_type = self._caller.media_body(response, "GetClip")
        return MediaStream(body, content_type, description="GetClip")

    # -- images ----------------------------------------------------------------------

    def get_images(
        self,
        *,
        stream_name: Optional[str] = None,
        stream_arn: Optional[str] = None,
        start: TimeLike,
        end: TimeLike,
        sampling_interval: Union[int, timedelta] = 1000,
        format: str = "JPEG",
        timestamp_type: str = "SERVER_TIMESTAMP",
        width: Optional[int] = None,
        height: Optional[int] = None,
        jpeg_quality: Optional[int] = None,
        page_size: int = 100,
    ) -> ImagePager:
        """Images sampled every ``sampling_interval`` over ``[start, end]``, as a lazy pager.

        Calls GetImages per window of at most 300 s, following every page.
        """
        self._check_open()
        stream = check_stream(stream_name, stream_arn)
        first, last = check_range(start, end)
        interval = milliseconds(sampling_interval, "sampling_interval", 200)
        params: dict[str, Any] = {
            "ImageSelectorType": check_choice(timestamp_type, "timestamp_type", TIMESTAMP_TYPES),
            "SamplingInterval": interval,
            "Format": check_choice(format, "format", ("JPEG", "PNG")),
            "MaxResults": check_int(page_size, "page_size", 1, 100),
        }
        if width is not None:
            params["WidthPixels"] = check_int(width, "width", 1, 3840)
        if height is not None:
            params["HeightPixels"] = check_int(height, "height", 1, 2160)
        if jpeg_quality is not None:
            if params["Format"] != "JPEG":
                raise ValidationError("jpeg_quality applies only to format='JPEG'")
            quality = check_int(jpeg_quality, "jpeg_quality", 1, 100)
            params["FormatConfig"] = {"JPEGQuality": str(quality)}

        def fetch(window_start: Any, window_end: Any, token: Optional[str]) -> Any:
            request = dict(params, StartTimestamp=window_start, EndTimestamp=window_end)
            if token:
                request["NextToken"] = token
            response = self._caller.data("GET_IMAGES", "GetImages", stream, request)
            items = self._caller.field(response, "Images", "GetImages")
            return [Image.from_api(item) for item in items], response.get("NextToken")

        return ImagePager(fetch, start=first, end=last, sampling_interval_ms=interval)

    # -- streaming sessions ----------------------------------------------------------

    def get_hls_streaming_session_url(
        self,
        *,
        stream_name: Optional[str] = None,
        stream_arn: Optional[str] = None,
        playback_mode: str = "LIVE",
        start: Optional[TimeLike] = None,
        end: Optional[TimeLike] = None,
        timestamp_type: str = "SERVER_TIMESTAMP",
        container_format: str = "FRAGMENTED_MP4",
        discontinuity_mode: str = "ALWAYS",
        display_fragment_timestamp: str = "NEVER",
        expires: int = 300,
        max_media_playlist_fragment_results: Optional[int] = None,
    ) -> str:
        """An HLS master playlist URL for players (GetHLSStreamingSessionURL).

        The URL carries a session token: treat it as a secret.
        """
        self._check_open()
        stream = check_stream(stream_name, stream_arn)
        params = _session_params(
            "HLS",
            playback_mode=playback_mode,
            start=start,
            end=end,
            timestamp_type=timestamp_type,
            expires=expires,
            display_fragment_timestamp=display_fragment_timestamp,
        )
        params["ContainerFormat"] = check_choice(
            container_format, "container_format", ("FRAGMENTED_MP4", "MPEG_TS")
        )
        params["DiscontinuityMode"] = check_choice(
            discontinuity_mode, "discontinuity_mode", ("ALWAYS", "NEVER", "ON_DISCONTINUITY")
        )
        if max_media_playlist_fragment_results is not None:
            params["MaxMediaPlaylistFragmentResults"] = check_int(
                max_media_playlist_fragment_results, "max_media_playlist_fragment_results", 1, 5000
            )
        return self._session_url("HLS", stream, params)

    def get_dash_streaming_session_url(
        self,
        *,
        stream_name: Optional[str] = None,
        stream_arn: Optional[str] = None,
        playback_mode: str = "LIVE",
        start: Optional[TimeLike] = None,
        end: Optional[TimeLike] = None,
        timestamp_type: str = "SERVER_TIMESTAMP",
        display_fragment_timestamp: str = "NEVER",
        display_fragment_number: str = "NEVER",
        expires: int = 300,
        max_manifest_fragment_results: Optional[int] = None,
    ) -> str:
        """A DASH manifest URL for players (GetDASHStreamingSessionURL).

        The URL carries a session token: treat it as a secret.
        """
        self._check_open()
        stream = check_stream(stream_name, stream_arn)
        params = _session_params(
            "DASH",
            playback_mode=playback_mode,
            start=start,
            end=end,
            timestamp_type=timestamp_type,
            expires=expires,
            display_fragment_timestamp=display_fragment_timestamp,
        )
        params["DisplayFragmentNumber"] = check_choice(
            display_fragment_number, "display_fragment_number", ALWAYS_NEVER
        )
        if max_manifest_fragment_results is not None:
            params["MaxManifestFragmentResults"] = check_int(
                max_manifest_fragment_results, "max_manifest_fragment_results", 1, 5000
            )
        return self._session_url("DASH", stream, params)

    def _session_url(self, kind: str, stream: StreamRef, params: dict[str, Any]) -> str:
        """Call Get{kind}StreamingSessionURL and return the URL."""
        operation = f"Get{kind}StreamingSessionURL"
        response = self._caller.data(f"GET_{kind}_STREAMING_SESSION_URL", operation, stream, params)
        return str(self._caller.field(response, f"{kind}StreamingSessionURL", operation))

    # -- download --------------------------------------------------------------------

    def download(
        self,
        *,
        stream_name: Optional[str] = None,
        stream_arn: Optional[str] = None,
        start: TimeLike,
        end: TimeLike,
        path: Union[str, os.PathLike[str]],
        timestamp_type: str = "SERVER_TIMESTAMP",
        progress: bool = False,
        concurrency: int = 1,
    ) -> DownloadResult:
        """Save the fragments of ``[start, end]`` as one MKV recording at ``path``.

        Lists the range, fetches the fragments (over ``concurrency``
        connections at once, within the per-stream rate) and writes them in
        order as one file players read whole, through a temporary file renamed
        on success: a failure never leaves a partial file at ``path``.
        """
        self._check_open()
        workers = check_int(concurrency, "concurrency", 1, 32)
        fragments = self._listed(stream_name, stream_arn, start, end, timestamp_type)
        if not fragments:
            raise KVArchiveError(f"no fragments between {start} and {end}: nothing to download")

        def media(numbers: list[Fragment]) -> MediaStream:
            return self.get_media_for_fragment_list(
                stream_name=stream_name, stream_arn=stream_arn, fragments=numbers
            )

        return download_fragments(fragments, media, path, progress=progress, concurrency=workers)

    def download_clips(
        self,
        *,
        stream_name: Optional[str] = None,
        stream_arn: Optional[str] = None,
        start: TimeLike,
        end: TimeLike,
        directory: Union[str, os.PathLike[str]],
        timestamp_type: str = "SERVER_TIMESTAMP",
        max_fragments: int = CLIP_MAX_FRAGMENTS,
        max_bytes: int = _CLIP_GROUP_BYTES,
    ) -> list[DownloadResult]:
        """Save ``[start, end]`` as consecutive MP4 files ``clip-0001.mp4``... in ``directory``.

        Lists the range and asks GetClip for groups of at most ``max_fragments``
        fragments and ``max_bytes`` listed bytes, so no clip is cut short; the
        clips neither overlap nor leave gaps. Each file appears only when whole.
        """
        self._check_open()
        check_stream(stream_name, stream_arn)
        check_range(start, end)
        selector_type = check_choice(timestamp_type, "timestamp_type", TIMESTAMP_TYPES)
        limit = check_int(max_fragments, "max_fragments", 1, CLIP_MAX_FRAGMENTS)
        byte_limit = check_int(max_bytes, "max_bytes", 1)
        if not os.path.isdir(directory):
            raise ValidationError(f"directory does not exist: {os.fspath(directory)!r}")
        fragments = self._listed(stream_name, stream_arn, start, end, selector_type)
        groups = plan_clips(fragments, max_fragments=limit, max_bytes=byte_limit)
        results = []
        for index, (group, (first, last)) in enumerate(
            zip(groups, clip_ranges(groups, selector_type)), start=1
        ):
            clip = self.get_clip(
                stream_name=stream_name,
                stream_arn=stream_arn,
                start=first,
                end=last,
                timestamp_type=selector_type,
                check_truncation=False,
            )
            path = os.path.join(directory, f"clip-{index:04d}.mp4")
            results.append(save_stream(clip, path, len(group)))
        return results

    # -- following -------------------------------------------------------------------

    def follow(
        self,
        *,
        stream_name: Optional[str] = None,
        stream_arn: Optional[str] = None,
        start: Optional[TimeLike] = None,
        checkpoint: Optional[Checkpoint] = None,
        poll: float = 2.0,
        settle: float = 5.0,
        until: Optional[Union[TimeLike, timedelta]] = None,
        timestamp_type: str = "SERVER_TIMESTAMP",
    ) -> Follower[Fragment]:
        """Each fragment from ``start`` (default: now, or the checkpoint's position) once, in order.

        Polls ListFragments every ``poll`` seconds and holds each new fragment
        ``settle`` seconds so that late ones are still yielded in order; ends
        after ``until`` (a time, or a timedelta from now), or when closed. See
        :class:`Follower` for checkpoints and what counts as consumed.
        """
        options = dict(start=start, checkpoint=checkpoint, poll=poll, settle=settle, until=until)
        return self._follow(None, stream_name, stream_arn, timestamp_type, **options)

    def follow_media(
        self,
        *,
        stream_name: Optional[str] = None,
        stream_arn: Optional[str] = None,
        start: Optional[TimeLike] = None,
        checkpoint: Optional[Checkpoint] = None,
        poll: float = 2.0,
        settle: float = 5.0,
        until: Optional[Union[TimeLike, timedelta]] = None,
        timestamp_type: str = "SERVER_TIMESTAMP",
    ) -> Follower[MediaFragment]:
        """As :meth:`follow`, with each fragment's media, one fragment in memory at a time.

        Calls GetMediaForFragmentList for the fragments released together (up to 100 a call).
        """
        options = dict(start=start, checkpoint=checkpoint, poll=poll, settle=settle, until=until)
        media = self.get_media_for_fragment_list
        return self._follow(media, stream_name, stream_arn, timestamp_type, **options)

    def _follow(
        self,
        media: Any,
        stream_name: Optional[str],
        stream_arn: Optional[str],
        timestamp_type: str,
        **options: Any,
    ) -> Follower[Any]:
        """Check the stream, then build a Follower that lists (and fetches) through this client."""
        self._check_open()
        stream = check_stream(stream_name, stream_arn)
        selector_type = check_choice(timestamp_type, "timestamp_type", TIMESTAMP_TYPES)
        ref: dict[str, Any] = {"stream_name": stream_name, "stream_arn": stream_arn}

        def pages(first: datetime, last: datetime) -> Iterator[list[Fragment]]:
            listed = self.list_fragments(
                **ref, start=first, end=last, timestamp_type=selector_type, sort=False
            )
            return listed.pages()

        return open_follower(
            stream=stream,
            pages=pages,
            open_media=None if media is None else lambda batch: media(**ref, fragments=batch),
            timestamp_type=selector_type,
            **options,
        )

    # -- internals -------------------------------------------------------------------

    def _listed(
        self,
        stream_name: Optional[str],
        stream_arn: Optional[str],
        start: TimeLike,
        end: TimeLike,
        timestamp_type: str,
    ) -> list[Fragment]:
        """Every fragment of the range, sorted (validating the arguments first)."""
        pager = self.list_fragments(
            stream_name=stream_name,
            stream_arn=stream_arn,
            start=start,
            end=end,
            timestamp_type=timestamp_type,
        )
        return list(pager)

    def _check_open(self) -> None:
        if self._closed.is_set():
            raise KVArchiveError("this ArchivedMediaClient is closed")


def _session_params(
    kind: str,
    *,
    playback_mode: str,
    start: Optional[TimeLike],
    end: Optional[TimeLike],
    timestamp_type: str,
    expires: int,
    display_fragment_timestamp: str,
) -> dict[str, Any]:
    """Checked parameters shared by the HLS and DASH session calls."""
    mode = check_choice(playback_mode, "playback_mode", PLAYBACK_MODES)
    params: dict[str, Any] = {
        "PlaybackMode": mode,
        "Expires": check_int(expires, "expires", 300, 43200),
        "DisplayFragmentTimestamp": check_choice(
            display_fragment_timestamp, "display_fragment_timestamp", ALWAYS_NEVER
        ),
    }
    selector_type = check_choice(timestamp_type, "timestamp_type", TIMESTAMP_TYPES)
    if mode == "LIVE":
        if start is not None or end is not None:
            raise ValidationError("playback_mode='LIVE' takes no start or end")
        return params
    if start is None:
        raise ValidationError(f"playback_mode={mode!r} needs start")
    if mode == "ON_DEMAND" and end is None:
        raise ValidationError("playback_mode='ON_DEMAND' needs both start and end")
    time_range: Mapping[str, Any]
    if end is None:
        time_range = {"StartTimestamp": parse_time(start, "start")}
    else:
        first, last = check_range(start, end, longest=_MAX_SESSION_SPAN)
        time_range = {"StartTimestamp": first, "EndTimestamp": last}
    params[f"{kind}FragmentSelector"] = {
        "FragmentSelectorType": selector_type,
        "TimestampRange": time_range,
    }
    return params
