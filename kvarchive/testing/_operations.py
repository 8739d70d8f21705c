"""The emulated operations: request validation and responses, free of HTTP.

Each operation takes the decoded JSON request and returns a :class:`Response`
or raises :class:`~._checks.ApiError`, validating as the service does (the
checks and the NextToken codec are in :mod:`._checks`, the limits in
``kvarchive._service``). Choices where the service is vague or unhelpful:

- ListFragments without ``FragmentSelector`` (and without ``NextToken``) is an
  ``InvalidArgumentException``; the service answers an unhelpful ``InternalFailure``.
  Fragments are selected by their start timestamp within [Start, End], inclusive,
  and listed in a seeded shuffle (the same query gives the same order).
- GetClip, HLS and DASH select fragments that start within [Start, End], as
  the API reference's ClipTimestampRange says. GetClip stops silently at 200
  fragments or 100 MB (100 MiB here), as the service does.
- GetImages samples ``StartTimestamp + k * SamplingInterval`` up to
  ``EndTimestamp``, both included (the API reference calls the range
  inclusive); without ``SamplingInterval`` it samples every 3000 ms. An instant
  gets the image of the fragment covering it, if that fragment *starts* within
  [Start, End]; otherwise ``NO_MEDIA``, as the service does for an instant in a
  fragment that began before ``StartTimestamp`` (boto/boto3#3712). An empty
  range (End not after Start) is refused: the service documents no answer for it.
- Each HLS/DASH session gets its own token, in a URL on the emulator's data
  endpoint, where :mod:`._playback` serves its playlists and fragments.
- Arguments are validated before the stream's data is looked at, so a bad
  argument is ``InvalidArgumentException`` even where no fragment exists.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any, Callable, Optional

import attrs

from kvarchive import _service as service
from kvarchive.testing._checks import (
    MAX_SPAN_US,
    ApiError,
    decode_token,
    encode_token,
    enum_param,
    fragment_selector,
    int_param,
    invalid,
    struct_param,
    time_us,
)
from kvarchive.testing._images import image_size
from kvarchive.testing._mp4 import Mp4Sample, mp4_header
from kvarchive.testing._playback.sessions import SessionRequest, SessionStore
from kvarchive.testing._streams import EmulatedStream, FragmentRecord, MediaCache

__all__ = [
    "API_NAMES",
    "CONTROL_OPERATIONS",
    "DATA_OPERATIONS",
    "Response",
    "Service",
]

CONTROL_OPERATIONS = {"/getDataEndpoint": "GetDataEndpoint", "/describeStream": "DescribeStream"}
DATA_OPERATIONS = {
    "/listFragments": "ListFragments",
    "/getMediaForFragmentList": "GetMediaForFragmentList",
    "/getClip": "GetClip",
    "/getImages": "GetImages",
    "/getHLSStreamingSessionURL": "GetHLSStreamingSessionURL",
    "/getDASHStreamingSessionURL": "GetDASHStreamingSessionURL",
    # Live media, which the emulator does not serve; named so requests are recorded by name.
    "/getMedia": "GetMedia",
    "/putMedia": "PutMedia",
}
# GetDataEndpoint's APIName also names the live-media APIs.
API_NAMES = ("PUT_MEDIA", "GET_MEDIA", *service.API_NAMES)
# The emulator stops a clip at 100 MiB; the service documents "100 MB".
_CLIP_MAX_BYTES = 100 * 2**20
_IMAGES_PAGE = 25


@attrs.frozen
class Response:
    """A response body: JSON bodies carry a length; ``streamed`` ones follow the framing."""

    chunks: Iterable[bytes]
    length: int
    content_type: str = "application/json"
    status: int = 200
    streamed: bool = False

    @classmethod
    def json(cls, value: Any, status: int = 200) -> Response:
        """A JSON document body."""
        body = json.dumps(value, separators=(",", ":")).encode()
        return cls([body], len(body), status=status)


class Service:
    """Streams and the operations over them; shared by the emulator's servers."""

    def __init__(
        self,
        *,
        region: str,
        account_id: str,
        seed: int,
        sessions: SessionStore,
        data_endpoint: Callable[[], str],
        clock: Callable[[], float] = time.time,
        media: Optional[MediaCache] = None,
    ) -> None:
        self.region = region
        self.account_id = account_id
        self.seed = seed
        self.sessions = sessions
        self._data_endpoint = data_endpoint
        self._clock = clock
        self._media = media or MediaCache(0)
        self._lock = threading.Lock()
        self._streams: dict[str, EmulatedStream] = {}

    def add_stream(self, stream: EmulatedStream) -> None:
        """Hold ``stream`` (a stream of the same name is replaced)."""
        with self._lock:
            self._streams[stream.name] = stream

    def stream(self, name: str) -> EmulatedStream:
        """The stream called ``name`` (KeyError if none)."""
        with self._lock:
            return self._streams[name]

    def arn(self, name: str, creation_ms: int) -> str:
        """The ARN the service would give a stream created at ``creation_ms``."""
        return f"arn:aws:kinesisvideo:{self.region}:{self.account_id}:stream/{name}/{creation_ms}"

    def stream_key(self, params: dict[str, Any]) -> str:
        """The stream a request names, for throttling (unvalidated)."""
        arn = params.get("StreamARN")
        if isinstance(arn, str):
            match = service.STREAM_ARN.fullmatch(arn)
            return match.group(1) if match else arn
        return str(params.get("StreamName", ""))

    def resolve(self, params: dict[str, Any]) -> EmulatedStream:
        """The stream named by ``StreamName`` or ``StreamARN``."""
        name = params.get("StreamName")
        arn = params.get("StreamARN")
        if name is None and arn is None:
            raise invalid("StreamName or StreamARN must be specified")
        if name is not None and (
            not isinstance(name, str) or not service.STREAM_NAME.fullmatch(name)
        ):
            raise invalid(f"StreamName is invalid: {name!r}")
        if arn is not None and (not isinstance(arn, str) or not service.STREAM_ARN.fullmatch(arn)):
            raise invalid(f"StreamARN is invalid: {arn!r}")
        with self._lock:
            if arn is not None:
                found = next((s for s in self._streams.values() if s.arn == arn), None)
                if found is None:
                    raise ApiError("ResourceNotFoundException", f"The stream {arn} does not exist")
                if name is not None and name != found.name:
                    raise invalid("StreamName and StreamARN name different streams")
                return found
            stream = self._streams.get(str(name))
        if stream is None:
            raise ApiError(
                "ResourceNotFoundException",
                f"The requested stream {name} under account {self.account_id} was not found.",
            )
        return stream

    def call(self, operation: str, params: dict[str, Any]) -> Response:
        """Run ``operation``; raises :class:`ApiError` for an error answer."""
        handler = getattr(self, f"_op_{operation}", None)
        if handler is None:
            raise ApiError("InvalidArgumentException", f"{operation} is not emulated")
        response: Response = handler(params)
        return response

    # -- control plane ---------------------------------------------------------

    def _op_GetDataEndpoint(self, params: dict[str, Any]) -> Response:
        if "APIName" not in params:
            raise invalid("APIName is required")
        enum_param(params, "APIName", API_NAMES, "")
        self.resolve(params)
        return Response.json({"DataEndpoint": self._data_endpoint()})

    def _op_DescribeStream(self, params: dict[str, Any]) -> Response:
        stream = self.resolve(params)
        info = {
            "DeviceName": "kvarchive-emulator",
            "StreamName": stream.name,
            "StreamARN": stream.arn,
            "MediaType": "video/h264",
            "KmsKeyId": f"arn:aws:kms:{self.region}:{self.account_id}:alias/aws/kinesisvideo",
            "Version": "1",
            "Status": "ACTIVE",
            "CreationTime": _epoch_seconds(stream.creation_ms),
            "DataRetentionInHours": stream.retention_hours,
        }
        return Response.json({"StreamInfo": info})

    # -- data plane ------------------------------------------------------------

    def _op_ListFragments(self, params: dict[str, Any]) -> Response:
        stream = self.resolve(params)
        max_results = (
            int_param(params, "MaxResults", 1, service.LIST_MAX_RESULTS) or service.LIST_MAX_RESULTS
        )
        token = params.get("NextToken")
        if token is not None:
            state = decode_token(token)
            if state.get("s") != stream.name:
                raise invalid("NextToken does not belong to this stream")
            kind, start, end, offset = state["t"], state["a"], state["b"], state["o"]
        else:
            if "FragmentSelector" not in params:
                # The service answers InternalFailure here; an explicit error helps more.
                raise invalid("FragmentSelector is required on the first ListFragments call")
            kind, start, end = fragment_selector(params, "FragmentSelector")
            offset = 0
        selected = stream.listed(kind, start, end, self.seed)
        page = selected[offset : offset + max_results]
        body: dict[str, Any] = {"Fragments": [_fragment_json(f) for f in page]}
        if offset + max_results < len(selected):
            body["NextToken"] = encode_token(
                {"s": stream.name, "t": kind, "a": start, "b": end, "o": offset + max_results}
            )
        return Response.json(body)

    def _op_GetMediaForFragmentList(self, params: dict[str, Any]) -> Response:
        stream = self.resolve(params)
        numbers = params.get("Fragments")
        most = service.MEDIA_MAX_FRAGMENTS
        if not isinstance(numbers, list) or not 1 <= len(numbers) <= most:
            raise invalid(f"Fragments must list 1 to {most} fragment numbers")
        fragments: list[FragmentRecord] = []
        for number in numbers:
            if not isinstance(number, str) or not number.isdigit() or len(number) > 128:
                raise invalid(f"Fragment number is invalid: {number!r}")
            fragment = stream.fragment(number)
            if fragment is None:
                raise ApiError(
                    "ResourceNotFoundException",
                    f"Fragment {number} was not found in stream {stream.name}",
                )
            fragments.append(fragment)

        def chunks() -> Iterator[bytes]:
            for fragment in fragments:
                yield from self._media.chunks(fragment)

        return Response(chunks(), sum(f.size for f in fragments), "video/webm", streamed=True)

    def _check_retention(self, stream: EmulatedStream) -> None:
        if stream.retention_hours == 0:
            raise ApiError("NoDataRetentionException", f"Stream {stream.name} does not retain data")

    def _op_GetClip(self, params: dict[str, Any]) -> Response:
        stream = self.resolve(params)
        self._check_retention(stream)
        if "ClipFragmentSelector" not in params:
            raise invalid("ClipFragmentSelector is required")
        kind, start, end = fragment_selector(params, "ClipFragmentSelector")
        if end - start > MAX_SPAN_US:
            raise invalid("The clip's time range must be within 24 hours")
        chosen: list[FragmentRecord] = []
        total = 0
        # The service silently stops at 200 fragments or 100 MB.
        for fragment in stream.starting_within(kind, start, end):
            if len(chosen) == service.CLIP_MAX_FRAGMENTS or (
                chosen and total + fragment.size > _CLIP_MAX_BYTES
            ):
                break
            chosen.append(fragment)
            total += fragment.size
        if not chosen:
            raise ApiError(
                "ResourceNotFoundException", "No fragments found in the requested time range"
            )
        frames = [(f, frame) for f in chosen for frame in f.source.frames()]
        samples = [
            Mp4Sample(frame.track, f.producer_ms + frame.offset_ms, frame.keyframe, frame.size)
            for f, frame in frames
        ]
        last = chosen[-1]
        header = mp4_header(stream.tracks, samples, last.producer_ms + last.duration_ms)

        def chunks() -> Iterator[bytes]:
            yield header
            for _, frame in frames:
                yield frame.data()

        length = len(header) + sum(s.size for s in samples)
        return Response(chunks(), length, "video/mp4", streamed=True)

    def _op_GetImages(self, params: dict[str, Any]) -> Response:
        stream = self.resolve(params)
        self._check_retention(stream)
        for required in ("ImageSelectorType", "StartTimestamp", "EndTimestamp", "Format"):
            if required not in params:
                raise invalid(f"{required} is required")
        kind = enum_param(params, "ImageSelectorType", service.TIMESTAMP_TYPES, "")
        fmt = enum_param(params, "Format", service.IMAGE_FORMATS, "")
        start = time_us(params["StartTimestamp"], "StartTimestamp")
        end = time_us(params["EndTimestamp"], "EndTimestamp")
        if end <= start:
            raise invalid("EndTimestamp must be after StartTimestamp")
        if end - start > service.IMAGES_MAX_SPAN_MS * 1000:
            raise invalid("The time range of GetImages must be at most 300 seconds")
        interval_ms = (
            int_param(params, "SamplingInterval", service.IMAGES_MIN_INTERVAL_MS, None) or 3000
        )
        quality = 80
        config = struct_param(params, "FormatConfig")
        for key, value in config.items():
            if key != "JPEGQuality":
                raise invalid(f"FormatConfig key {key!r} is not supported")
            if not isinstance(value, str) or not value.isdigit() or not 1 <= int(value) <= 100:
                raise invalid("JPEGQuality must be 1..100")
            quality = int(value)
        width = int_param(params, "WidthPixels", 1, service.IMAGE_MAX_WIDTH)
        height = int_param(params, "HeightPixels", 1, service.IMAGE_MAX_HEIGHT)
        size = image_size(stream.image_size, width, height)
        page_size = min(
            int_param(params, "MaxResults", 1, service.IMAGES_MAX_RESULTS) or _IMAGES_PAGE,
            _IMAGES_PAGE,
        )
        offset = 0
        if params.get("NextToken") is not None:
            state = decode_token(params["NextToken"])
            if (state.get("s"), state.get("a"), state.get("b")) != (stream.name, start, end):
                raise invalid("NextToken does not match this request")
            offset = int(state.get("o", 0))
        interval_us = interval_ms * 1000
        total = (end - start) // interval_us + 1
        images = []
        for index in range(offset, min(total, offset + page_size)):
            at = start + index * interval_us
            image: dict[str, Any] = {"TimeStamp": _epoch_seconds(at // 1000)}
            fragment = stream.covering(kind, at)
            if fragment is None or fragment.timestamp_ms(kind) * 1000 < start:
                image["Error"] = "NO_MEDIA"
            else:
                data = stream.image(fragment, fmt, size, quality)
                image["ImageContent"] = base64.b64encode(data).decode()
            images.append(image)
        body: dict[str, Any] = {"Images": images}
        if offset + page_size < total:
            body["NextToken"] = encode_token(
                {"s": stream.name, "a": start, "b": end, "o": offset + page_size}
            )
        return Response.json(body)

    def _session_url(self, protocol: str, params: dict[str, Any], path: str) -> str:
        """Open a session (HLS or DASH) as ``params`` ask: its URL on the data endpoint."""
        stream = self.resolve(params)
        self._check_retention(stream)
        request = SessionRequest.from_params(protocol, stream, params, self._clock)
        token = self.sessions.open(request).token
        return f"{self._data_endpoint()}{path}?SessionToken={token}"

    def _op_GetHLSStreamingSessionURL(self, params: dict[str, Any]) -> Response:
        url = self._session_url("HLS", params, "/hls/v1/getHLSMasterPlaylist.m3u8")
        return Response.json({"HLSStreamingSessionURL": url})

    def _op_GetDASHStreamingSessionURL(self, params: dict[str, Any]) -> Response:
        url = self._session_url("DASH", params, "/dash/v1/getDASHManifest.mpd")
        return Response.json({"DASHStreamingSessionURL": url})


def _epoch_seconds(ms: int) -> float:
    """Epoch seconds with milliseconds, as the service writes timestamps."""
    return round(ms / 1000, 3)


def _fragment_json(fragment: FragmentRecord) -> dict[str, Any]:
    return {
        "FragmentNumber": fragment.number,
        "FragmentSizeInBytes": fragment.size,
        "ProducerTimestamp": _epoch_seconds(fragment.producer_ms),
        "ServerTimestamp": _epoch_seconds(fragment.server_ms),
        "FragmentLengthInMilliseconds": fragment.duration_ms,
    }
