"""``ArchivedMediaClient``: the archived-media operations, with endpoints handled.

Each method is one operation: it checks its arguments into request
parameters (``_params``), sends them to the AWS edge (``_aws.operations``)
and wraps the answer (``_models``, ``_paginate``, ``_media``). The jobs made
of many calls (``download``, ``download_clips``, ...) come from ``_jobs.Jobs``.
"""

from __future__ import annotations

import functools
import secrets
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Optional, Union

from ._aws.endpoints import Clients
from ._aws.operations import Operations
from ._aws.settings import ClientSettings
from ._aws.throttle import Backoff
from ._clips import warn_if_truncated
from ._errors import UsageError
from ._image_plan import from_ms
from ._jobs import Jobs
from ._media.stream import MediaStream
from ._models import Fragment
from ._paginate import FragmentPager, ImagePager
from ._params import (
    check_timestamp_type,
    fragment_numbers,
    fragment_selector,
    image_grid,
    image_params,
    session_params,
)
from ._service import API_NAMES, LIST_MAX_RESULTS, MAX_SPAN, MEDIA_MAX_FRAGMENTS
from ._types import StreamRef, TimeLike
from ._validate import check_choice, check_int, check_range, check_seconds, check_stream

__all__ = ["ArchivedMediaClient"]

# Copies of one client unpickled in one process (the shards a pool worker runs one after
# another, a Dask worker's copies) share one session, endpoint cache and rate limiter, kept
# for the life of the process: the worker then paces all their calls as one client.
_UNPICKLED: dict[str, tuple[Clients, Operations]] = {}
_UNPICKLED_LOCK = threading.Lock()

# Shorter ranges are not checked for GetClip's silent truncation (it would take
# 100 MB in a minute, over 13 Mbit/s, to reach its byte limit).
_CLIP_CHECK_SPAN = timedelta(seconds=60)


class ArchivedMediaClient(Jobs):
    """A client for the archive of Kinesis Video Streams.

    Resolves each operation's data endpoint with GetDataEndpoint, caches it
    for ``endpoint_ttl`` seconds per (stream, API name), and reuses one boto3
    client per endpoint. Thread-safe: share one client between threads.
    ``ClientLimitExceededException`` is retried per ``backoff``, and calls
    are paced per stream to the service's documented rates unless
    ``rate_limit`` is False.

    It pickles to its settings only (region, profile name, endpoint URL,
    botocore config, endpoint TTL, backoff, rate limiting), never credentials,
    tokens or cached endpoints; unpickled in another process, it makes its
    boto3 session there, on first use, from that machine's credential chain.
    A client made from a ``session`` with keys set in code refuses to pickle
    unless ``pickle_without_keys=True`` (the keys stay behind).
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
        pickle_without_keys: bool = False,
    ) -> None:
        check_seconds(endpoint_ttl, "endpoint_ttl")
        settings = ClientSettings(
            region_name=region_name,
            endpoint_url=endpoint_url,
            config=config,
            endpoint_ttl=endpoint_ttl,
            backoff=backoff,
            rate_limit=bool(rate_limit),
            pickle_without_keys=bool(pickle_without_keys),
        )
        self._clients, self._ops = _machinery(settings, session)
        self._lineage = secrets.token_hex(8)  # shared by its copies, names no secret
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

    def __getstate__(self) -> tuple[ClientSettings, str]:
        """The settings, the region resolved, and which client they are of: no credentials."""
        return self._clients.portable(), self._lineage

    def __setstate__(self, state: tuple[ClientSettings, str]) -> None:
        settings, self._lineage = state
        with _UNPICKLED_LOCK:
            shared = _UNPICKLED.get(self._lineage)
            if shared is None:
                shared = _UNPICKLED[self._lineage] = _machinery(settings, None)
        self._clients, self._ops = shared
        self._closed = threading.Event()

    # -- endpoints -------------------------------------------------------------------

    def data_endpoint(
        self,
        api_name: str,
        *,
        stream_name: Optional[str] = None,
        stream_arn: Optional[str] = None,
    ) -> str:
        """The data endpoint URL for ``api_name`` on a stream (GetDataEndpoint, cached)."""
        stream = self._stream(stream_name, stream_arn)
        api = check_choice(api_name, "api_name", API_NAMES)
        return self._ops.endpoints.get(stream, api)

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
        stream = self._stream(stream_name, stream_arn)
        first, last = check_range(start, end)
        selector_type = check_timestamp_type(timestamp_type)
        max_results = check_int(page_size, "page_size", 1, LIST_MAX_RESULTS)
        selector = fragment_selector(selector_type, first, last)
        fetch = functools.partial(self._ops.fragment_page, stream, selector, max_results)
        return FragmentPager(
            fetch, sort=bool(sort), timestamp_type=selector_type, start=first, end=last
        )

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
        stream = self._stream(stream_name, stream_arn)
        open_batch = functools.partial(self._ops.media, stream)
        numbers = fragment_numbers(fragments)
        return MediaStream.for_fragments(numbers, open_batch, batch_size=MEDIA_MAX_FRAGMENTS)

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
        stream = self._stream(stream_name, stream_arn)
        first, last = check_range(start, end, longest=MAX_SPAN, empty=False)
        selector_type = check_timestamp_type(timestamp_type)
        if check_truncation and last - first > _CLIP_CHECK_SPAN:
            warn_if_truncated(self._listed(stream, first, last, selector_type))
        params = {"ClipFragmentSelector": fragment_selector(selector_type, first, last)}
        body, content_type = self._ops.clip(stream, params)
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
        include_empty: bool = False,
    ) -> ImagePager:
        """Images at ``start + k * sampling_interval`` up to ``end`` (included), as a lazy pager.

        Calls GetImages, at most 300 s per request. The range is first listed
        (ListFragments) so that only instants where media is stored are asked
        for, a year with an hour of video costing what the hour does, and so
        that each request begins at the start of the fragment holding its first
        instant: the service makes images only from fragments that start
        inside a request, and ``start`` may fall inside one. Every instant
        where media is stored gives its image, the first one included.
        Instants without media are skipped; ``include_empty=True``
        yields them as ``Image(error="NO_MEDIA")`` (made locally, without a
        request, where nothing is stored). Images with ``MEDIA_ERROR`` are
        always yielded. ``width`` and ``height`` go together (the service
        refuses one alone).
        """
        stream = self._stream(stream_name, stream_arn)
        grid = image_grid(start, end, sampling_interval)
        selector_type = check_timestamp_type(timestamp_type)
        params = image_params(
            selector_type,
            format=format,
            page_size=page_size,
            width=width,
            height=height,
            jpeg_quality=jpeg_quality,
        )

        fetch = functools.partial(self._ops.image_page, stream, params)

        def list_page(
            low: int, high: int, token: Optional[str]
        ) -> tuple[list[Fragment], Optional[str]]:
            selector = fragment_selector(selector_type, from_ms(low), from_ms(high))
            return self._ops.fragment_page(stream, selector, LIST_MAX_RESULTS, token)

        return ImagePager(
            fetch,
            list_page,
            grid=grid,
            timestamp_type=selector_type,
            include_empty=bool(include_empty),
        )

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
        stream = self._stream(stream_name, stream_arn)
        params = session_params(
            "HLS",
            playback_mode=playback_mode,
            start=start,
            end=end,
            timestamp_type=timestamp_type,
            display_fragment_timestamp=display_fragment_timestamp,
            expires=expires,
            max_results=max_media_playlist_fragment_results,
            container_format=container_format,
            discontinuity_mode=discontinuity_mode,
        )
        return self._ops.session_url("HLS", stream, params)

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
        stream = self._stream(stream_name, stream_arn)
        params = session_params(
            "DASH",
            playback_mode=playback_mode,
            start=start,
            end=end,
            timestamp_type=timestamp_type,
            display_fragment_timestamp=display_fragment_timestamp,
            expires=expires,
            max_results=max_manifest_fragment_results,
            display_fragment_number=display_fragment_number,
        )
        return self._ops.session_url("DASH", stream, params)

    # -- internals -------------------------------------------------------------------

    def _listed(
        self, stream: StreamRef, first: datetime, last: datetime, selector_type: str
    ) -> list[Fragment]:
        """Every fragment of ``[first, last]`` (checked arguments), sorted."""
        selector = fragment_selector(selector_type, first, last)
        fetch = functools.partial(self._ops.fragment_page, stream, selector, LIST_MAX_RESULTS)
        return list(FragmentPager(fetch, sort=True, timestamp_type=selector_type))

    def _stream(self, stream_name: Optional[str], stream_arn: Optional[str]) -> StreamRef:
        """The stream a call names, once the client is known to be open."""
        self._check_open()
        return check_stream(stream_name, stream_arn)

    def _check_open(self) -> None:
        if self._closed.is_set():
            raise UsageError("this ArchivedMediaClient is closed")

    def _s3(self) -> Any:
        """The S3 client of this client's boto3 session (boto3's own S3 endpoint settings)."""
        return self._clients.service("s3")


def _machinery(settings: ClientSettings, session: Any) -> tuple[Clients, Operations]:
    """The boto3 clients and operations of ``settings``: no session or connection until used."""
    clients = Clients(settings, session)
    operations = Operations(
        clients,
        endpoint_ttl=settings.endpoint_ttl,
        backoff=settings.backoff,
        rate_limit=settings.rate_limit,
    )
    return clients, operations
