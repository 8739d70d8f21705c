"""The archived-media operations on the wire: request parameters in, checked answers out.

One method per operation, each naming its API (for the data endpoint) and
reading the answer into kvarchive's models; a missing field means the call
reached the wrong endpoint (``translate.answer_field``). The facade
(``kvarchive._client``) checks the arguments first and wraps what comes back.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Optional

from kvarchive._aws.calls import Caller
from kvarchive._aws.endpoints import Clients, EndpointCache
from kvarchive._aws.throttle import SERVICE_RATES, Backoff, RateLimiter
from kvarchive._aws.translate import answer_field, media_answer
from kvarchive._models import Fragment, Image
from kvarchive._types import Body, StreamRef

__all__ = ["Operations"]


class Operations:
    """The operations of one client: its endpoint cache, pacing and retries, shared by all."""

    def __init__(
        self, clients: Clients, *, endpoint_ttl: float, backoff: Backoff, rate_limit: bool
    ) -> None:
        self.endpoints = EndpointCache(self._resolve_endpoint, endpoint_ttl)
        limiter = RateLimiter(SERVICE_RATES if rate_limit else {})
        self._caller = Caller(clients, self.endpoints, backoff=backoff, limiter=limiter)

    def _resolve_endpoint(self, stream: StreamRef, api_name: str) -> str:
        """GetDataEndpoint: where ``api_name`` is served for ``stream`` (uncached)."""
        response = self._caller.control("GetDataEndpoint", stream, {"APIName": api_name})
        return str(answer_field(response, "DataEndpoint", "GetDataEndpoint"))

    def describe(self, stream: StreamRef) -> Mapping[str, Any]:
        """DescribeStream: the stream's ``StreamInfo`` (status, retention, key, media type...)."""
        response = self._caller.control("DescribeStream", stream, {})
        info: Mapping[str, Any] = answer_field(response, "StreamInfo", "DescribeStream")
        return info

    def fragment_page(
        self, stream: StreamRef, selector: Mapping[str, Any], max_results: int, token: Optional[str]
    ) -> tuple[list[Fragment], Optional[str]]:
        """ListFragments: one page of fragments after ``token`` (None first), and the next token."""
        params: dict[str, Any] = {"MaxResults": max_results, "FragmentSelector": selector}
        if token:
            params["NextToken"] = token
        response = self._caller.data("LIST_FRAGMENTS", "ListFragments", stream, params)
        items = answer_field(response, "Fragments", "ListFragments")
        return [Fragment.from_api(item) for item in items], response.get("NextToken")

    def media(self, stream: StreamRef, numbers: list[str]) -> tuple[Body, str]:
        """GetMediaForFragmentList: the streaming body of ``numbers`` and its content type."""
        operation = "GetMediaForFragmentList"
        params = {"Fragments": numbers}
        response = self._caller.data("GET_MEDIA_FOR_FRAGMENT_LIST", operation, stream, params)
        return media_answer(response, operation)

    def clip(self, stream: StreamRef, params: Mapping[str, Any]) -> tuple[Body, str]:
        """GetClip: the streaming MP4 body and its content type."""
        response = self._caller.data("GET_CLIP", "GetClip", stream, params)
        return media_answer(response, "GetClip")

    def image_page(  # noqa: PLR0917 - ImagePager's fetch(first, last, every, token), bound
        self,
        stream: StreamRef,
        params: Mapping[str, Any],
        first: datetime,
        last: datetime,
        every: int,
        token: Optional[str],
    ) -> tuple[list[Image], Optional[str]]:
        """GetImages: one page of images after ``token`` (None first), and the next token.

        ``params`` are those the requests of a range share; ``first``, ``last``
        and ``every`` (ms) are this request's times and interval.
        """
        params = dict(params, StartTimestamp=first, EndTimestamp=last, SamplingInterval=every)
        if token:
            params["NextToken"] = token
        response = self._caller.data("GET_IMAGES", "GetImages", stream, params)
        items = answer_field(response, "Images", "GetImages")
        return [Image.from_api(item) for item in items], response.get("NextToken")

    def session_url(self, kind: str, stream: StreamRef, params: Mapping[str, Any]) -> str:
        """Get{HLS,DASH}StreamingSessionURL (``kind``): the URL for players."""
        operation = f"Get{kind}StreamingSessionURL"
        response = self._caller.data(f"GET_{kind}_STREAMING_SESSION_URL", operation, stream, params)
        return str(answer_field(response, f"{kind}StreamingSessionURL", operation))
