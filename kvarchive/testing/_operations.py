"""The emulated operations: request validation and responses, free of HTTP.

Each operation takes the decoded JSON request and returns a :class:`Response`
or raises :class:`ApiError`, validating as the service does (see
SERVICE-NOTES.md for the limits). Choices where the service is vague or unhelpful:

- ListFragments without ``FragmentSelector`` (and without ``NextToken``) is an
  ``InvalidArgumentException``; the service answers an unhelpful ``InternalFailure``.
  Fragments are selected by their start timestamp within [Start, End], inclusive,
  and listed in a seeded shuffle (the same query gives the same order).
- GetClip, HLS and DASH select fragments that start within [Start, End], as
  the API reference's ClipTimestampRange says. GetClip stops silently at 200
  fragments or 100 MB, as the service does.
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
import binascii
import json
import re
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Optional

import attrs

from kvarchive.testing._faults import ERROR_STATUS
from kvarchive.testing._fragments import rng
from kvarchive.testing._mp4 import Mp4Sample, mp4_header
from kvarchive.testing._playback.sessions import SessionRequest, SessionStore
from kvarchive.testing._streams import EmulatedStream, FragmentRecord

__all__ = [
    "API_NAMES",
    "CONTROL_OPERATIONS",
    "DATA_OPERATIONS",
    "ApiError",
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
API_NAMES = (
    "PUT_MEDIA",
    "GET_MEDIA",
    "LIST_FRAGMENTS",
    "GET_MEDIA_FOR_FRAGMENT_LIST",
    "GET_HLS_STREAMING_SESSION_URL",
    "GET_DASH_STREAMING_SESSION_URL",
    "GET_CLIP",
    "GET_IMAGES",
)
_SELECTOR_TYPES = ("PRODUCER_TIMESTAMP", "SERVER_TIMESTAMP")
_PLAYBACK_MODES = ("LIVE", "LIVE_REPLAY", "ON_DEMAND")
_ALWAYS_NEVER = ("ALWAYS", "NEVER")
_STREAM_NAME = re.compile(r"[a-zA-Z0-9_.-]{1,256}")
_STREAM_ARN = re.compile(
    r"arn:[a-z\d-]+:kinesisvideo:[a-z0-9-]+:[0-9]+:[a-z]+/([a-zA-Z0-9_.-]+)/[0-9]+"
)
_DAY_US = 86_400 * 10**6
_CLIP_MAX_FRAGMENTS = 200
_CLIP_MAX_BYTES = 100 * 2**20
_IMAGES_PAGE = 25
_LIVE_WINDOW_MS = 30_000


class ApiError(Exception):
    """An error answer: code, message and HTTP status (from the code by default)."""

    def __init__(self, code: str, message: str, status: Optional[int] = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status if status is not None else ERROR_STATUS.get(code, 400)


def _invalid(message: str) -> ApiError:
    return ApiError("InvalidArgumentException", message)


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


def _epoch(ms: int) -> float:
    """Epoch seconds with milliseconds, as the service writes timestamps."""
    return round(ms / 1000, 3)


def _time_us(value: Any, name: str) -> int:
    """A request timestamp (epoch number, possibly fractional, or ISO 8601) in microseconds."""
    if isinstance(value, bool) or value is None:
        raise _invalid(f"{name} is not a timestamp")
    if isinstance(value, str):
        try:
            value = Decimal(value)
        except InvalidOperation:
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise _invalid(f"{name} is not a timestamp: {value!r}") from None
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=timezone.utc)
            value = Decimal(str(parsed.timestamp()))
    if not isinstance(value, (int, Decimal)):
        raise _invalid(f"{name} is not a timestamp")
    return int(Decimal(value) * 1_000_000)


def _int(params: dict[str, Any], name: str, low: int, high: Optional[int]) -> Optional[int]:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)) or value != int(value):
        raise _invalid(f"{name} must be an integer")
    value = int(value)
    if value < low or (high is not None and value > high):
        bound = f"{low}..{high}" if high is not None else f">= {low}"
        raise _invalid(f"{name} must be {bound}, got {value}")
    return value


def _enum(params: dict[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = params.get(name, default)
    if value not in allowed:
        raise _invalid(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return str(value)


def _dict(params: dict[str, Any], name: str) -> dict[str, Any]:
    value = params.get(name) or {}
    if not isinstance(value, dict):
        raise _invalid(f"{name} must be a structure")
    return value


def _range(
    selector: dict[str, Any], name: str, *, required: bool = True
) -> tuple[Optional[int], Optional[int]]:
    """(start, end) in microseconds from a ``TimestampRange``; end before start is invalid."""
    timestamps = _dict(selector, "TimestampRange")
    raw_start = timestamps.get("StartTimestamp")
    raw_end = timestamps.get("EndTimestamp")
    if required and (raw_start is None or raw_end is None):
        raise _invalid(f"{name}.TimestampRange needs StartTimestamp and EndTimestamp")
    start = None if raw_start is None else _time_us(raw_start, "StartTimestamp")
    end = None if raw_end is None else _time_us(raw_end, "EndTimestamp")
    if start is not None and end is not None and end < start:
        raise _invalid("EndTimestamp must not be before StartTimestamp")
    return start, end


def _encode_token(value: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(value, separators=(",", ":")).encode()).decode()


def _decode_token(token: Any) -> dict[str, Any]:
    try:
        value = json.loads(base64.b64decode(str(token), validate=True))
    except (binascii.Error, ValueError):
        raise _invalid("NextToken is invalid") from None
    if not isinstance(value, dict):
        raise _invalid("NextToken is invalid")
    return value


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
    ) -> None:
        self.region = region
        self.account_id = account_id
        self.seed = seed
        self.sessions = sessions
        self._data_endpoint = data_endpoint
        self._clock = clock
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
            match = _STREAM_ARN.fullmatch(arn)
            return match.group(1) if match else arn
        return str(params.get("StreamName", ""))

    def resolve(self, params: dict[str, Any]) -> EmulatedStream:
        """The stream named by ``StreamName`` or ``StreamARN``."""
        name = params.get("StreamName")
        arn = params.get("StreamARN")
        if name is None and arn is None:
            raise _invalid("StreamName or StreamARN must be specified")
        if name is not None and (not isinstance(name, str) or not _STREAM_NAME.fullmatch(name)):
            raise _invalid(f"StreamName is invalid: {name!r}")
        if arn is not None and (not isinstance(arn, str) or not _STREAM_ARN.fullmatch(arn)):
            raise _invalid(f"StreamARN is invalid: {arn!r}")
        with self._lock:
            if arn is not None:
                found = next((s for s in self._streams.values() if s.arn == arn), None)
                if found is None:
                    raise ApiError("ResourceNotFoundException", f"The stream {arn} does not exist")
                if name is not None and name != found.name:
                    raise _invalid("StreamName and StreamARN name different streams")
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
            raise _invalid("APIName is required")
        _enum(params, "APIName", API_NAMES, "")
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
            "CreationTime": _epoch(stream.creation_ms),
            "DataRetentionInHours": stream.retention_hours,
        }
        return Response.json({"StreamInfo": info})

    # -- data plane ------------------------------------------------------------

    def _op_ListFragments(self, params: dict[str, Any]) -> Response:
        stream = self.resolve(params)
        max_results = _int(params, "MaxResults", 1, 1000) or 1000
        token = params.get("NextToken")
        if token is not None:
            state = _decode_token(token)
            if state.get("s") != stream.name:
                raise _invalid("NextToken does not belong to this stream")
            kind, start, end, offset = state["t"], state["a"], state["b"], state["o"]
        else:
            if "FragmentSelector" not in params:
                # The service answers InternalFailure here; an explicit error helps more.
                raise _invalid("FragmentSelector is required on the first ListFragments call")
            selector = _dict(params, "FragmentSelector")
            kind = _enum(selector, "FragmentSelectorType", _SELECTOR_TYPES, "")
            start_opt, end_opt = _range(selector, "FragmentSelector")
            assert start_opt is not None and end_opt is not None
            start, end, offset = start_opt, end_opt, 0
        selected = list(stream.starting_within(kind, start, end))
        # The service lists fragments in no particular order, even across pages.
        rng(self.seed, stream.name, kind, start, end).shuffle(selected)
        page = selected[offset : offset + max_results]
        body: dict[str, Any] = {"Fragments": [_fragment_json(f) for f in page]}
        if offset + max_results < len(selected):
            body["NextToken"] = _encode_token(
                {"s": stream.name, "t": kind, "a": start, "b": end, "o": offset + max_results}
            )
        return Response.json(body)

    def _op_GetMediaForFragmentList(self, params: dict[str, Any]) -> Response:
        stream = self.resolve(params)
        numbers = params.get("Fragments")
        if not isinstance(numbers, list) or not 1 <= len(numbers) <= 1000:
            raise _invalid("Fragments must list 1 to 1000 fragment numbers")
        fragments: list[FragmentRecord] = []
        for number in numbers:
            if not isinstance(number, str) or not number.isdigit() or len(number) > 128:
                raise _invalid(f"Fragment number is invalid: {number!r}")
            fragment = stream.fragment(number)
            if fragment is None:
                raise ApiError(
                    "ResourceNotFoundException",
                    f"Fragment {number} was not found in stream {stream.name}",
                )
            fragments.append(fragment)

        def chunks() -> Iterator[bytes]:
            for fragment in fragments:
                yield from fragment.iter_chunks()

        return Response(chunks(), sum(f.size for f in fragments), "video/webm", streamed=True)

    def _check_retention(self, stream: EmulatedStream) -> None:
        if stream.retention_hours == 0:
            raise ApiError("NoDataRetentionException", f"Stream {stream.name} does not retain data")

    def _op_GetClip(self, params: dict[str, Any]) -> Response:
        stream = self.resolve(params)
        self._check_retention(stream)
        if "ClipFragmentSelector" not in params:
            raise _invalid("ClipFragmentSelector is required")
        selector = _dict(params, "ClipFragmentSelector")
        kind = _enum(selector, "FragmentSelectorType", _SELECTOR_TYPES, "")
        start, end = _range(selector, "ClipFragmentSelector")
        assert start is not None and end is not None
        if end - start > _DAY_US:
            raise _invalid("The clip's time range must be within 24 hours")
        chosen: list[FragmentRecord] = []
        total = 0
        # The service silently stops at 200 fragments or 100 MB.
        for fragment in stream.starting_within(kind, start, end):
            if len(chosen) == _CLIP_MAX_FRAGMENTS or (
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
                raise _invalid(f"{required} is required")
        kind = _enum(params, "ImageSelectorType", _SELECTOR_TYPES, "")
        fmt = _enum(params, "Format", ("JPEG", "PNG"), "")
        start = _time_us(params["StartTimestamp"], "StartTimestamp")
        end = _time_us(params["EndTimestamp"], "EndTimestamp")
        if end <= start:
            raise _invalid("EndTimestamp must be after StartTimestamp")
        if end - start > 300 * 10**6:
            raise _invalid("The time range of GetImages must be at most 300 seconds")
        interval_ms = _int(params, "SamplingInterval", 200, None) or 3000
        quality = 80
        config = _dict(params, "FormatConfig")
        for key, value in config.items():
            if key != "JPEGQuality":
                raise _invalid(f"FormatConfig key {key!r} is not supported")
            if not isinstance(value, str) or not value.isdigit() or not 1 <= int(value) <= 100:
                raise _invalid("JPEGQuality must be 1..100")
            quality = int(value)
        width = _int(params, "WidthPixels", 1, 3840)
        height = _int(params, "HeightPixels", 1, 2160)
        size = _image_size(stream.image_size, width, height)
        page_size = min(_int(params, "MaxResults", 1, 100) or _IMAGES_PAGE, _IMAGES_PAGE)
        offset = 0
        if params.get("NextToken") is not None:
            state = _decode_token(params["NextToken"])
            if (state.get("s"), state.get("a"), state.get("b")) != (stream.name, start, end):
                raise _invalid("NextToken does not match this request")
            offset = int(state.get("o", 0))
        interval_us = interval_ms * 1000
        total = (end - start) // interval_us + 1
        images = []
        for index in range(offset, min(total, offset + page_size)):
            at = start + index * interval_us
            image: dict[str, Any] = {"TimeStamp": _epoch(at // 1000)}
            fragment = stream.covering(kind, at)
            if fragment is None or fragment.timestamp_ms(kind) * 1000 < start:
                image["Error"] = "NO_MEDIA"
            else:
                data = stream.image(fragment, fmt, size, quality)
                image["ImageContent"] = base64.b64encode(data).decode()
            images.append(image)
        body: dict[str, Any] = {"Images": images}
        if offset + page_size < total:
            body["NextToken"] = _encode_token(
                {"s": stream.name, "a": start, "b": end, "o": offset + page_size}
            )
        return Response.json(body)

    def _session_checks(
        self,
        params: dict[str, Any],
        selector_name: str,
        limit_name: str,
        enums: Mapping[str, tuple[str, ...]],
    ) -> SessionRequest:
        stream = self.resolve(params)
        self._check_retention(stream)
        chosen = {name: _enum(params, name, allowed, allowed[0]) for name, allowed in enums.items()}
        mode = _enum(params, "PlaybackMode", _PLAYBACK_MODES, "LIVE")
        timestamps = _enum(params, "DisplayFragmentTimestamp", _ALWAYS_NEVER, "NEVER")
        expires = _int(params, "Expires", 300, 43200) or 300
        limit = _int(params, limit_name, 1, 5000)
        selector = _dict(params, selector_name)
        kind = _enum(selector, "FragmentSelectorType", _SELECTOR_TYPES, "SERVER_TIMESTAMP")
        start, end = _range(selector, selector_name, required=False)
        request = SessionRequest(
            "HLS" if selector_name.startswith("HLS") else "DASH",
            stream,
            mode,
            kind,
            start,
            end,
            expires,
            limit,
            chosen.get("ContainerFormat", "FRAGMENTED_MP4"),
            # Without DiscontinuityMode: ALWAYS for server timestamps, NEVER for producer ones.
            params.get("DiscontinuityMode", "NEVER" if kind == "PRODUCER_TIMESTAMP" else "ALWAYS"),
            timestamps == "ALWAYS",
            chosen.get("DisplayFragmentNumber") == "ALWAYS",
        )
        if mode == "LIVE":
            if start is not None or end is not None:
                raise _invalid("TimestampRange must not be set in LIVE mode")
            now_ms = int(self._clock() * 1000)
            recent = stream.overlapping(kind, (now_ms - _LIVE_WINDOW_MS) * 1000, now_ms * 1000)
            if not recent:
                raise ApiError(
                    "ResourceNotFoundException",
                    "No fragments found in the stream in the last 30 seconds",
                )
            return request
        if start is None:
            raise _invalid(f"StartTimestamp is required in {mode} mode")
        if mode == "ON_DEMAND":
            if end is None:
                raise _invalid("EndTimestamp is required in ON_DEMAND mode")
            if end - start > _DAY_US:
                raise _invalid("The time range must be within 24 hours")
        found = stream.starting_within(kind, start, end if end is not None else 2**62)
        if not found:
            raise ApiError(
                "ResourceNotFoundException", "No fragments found in the requested time range"
            )
        return request

    def _op_GetHLSStreamingSessionURL(self, params: dict[str, Any]) -> Response:
        enums = {
            "ContainerFormat": ("FRAGMENTED_MP4", "MPEG_TS"),
            "DiscontinuityMode": ("ALWAYS", "NEVER", "ON_DISCONTINUITY"),
        }
        request = self._session_checks(
            params, "HLSFragmentSelector", "MaxMediaPlaylistFragmentResults", enums
        )
        token = self.sessions.open(request).token
        url = f"{self._data_endpoint()}/hls/v1/getHLSMasterPlaylist.m3u8?SessionToken={token}"
        return Response.json({"HLSStreamingSessionURL": url})

    def _op_GetDASHStreamingSessionURL(self, params: dict[str, Any]) -> Response:
        enums = {"DisplayFragmentNumber": _ALWAYS_NEVER}
        request = self._session_checks(
            params, "DASHFragmentSelector", "MaxManifestFragmentResults", enums
        )
        token = self.sessions.open(request).token
        url = f"{self._data_endpoint()}/dash/v1/getDASHManifest.mpd?SessionToken={token}"
        return Response.json({"DASHStreamingSessionURL": url})


def _fragment_json(fragment: FragmentRecord) -> dict[str, Any]:
    return {
        "FragmentNumber": fragment.number,
        "FragmentSizeInBytes": fragment.size,
        "ProducerTimestamp": _epoch(fragment.producer_ms),
        "ServerTimestamp": _epoch(fragment.server_ms),
        "FragmentLengthInMilliseconds": fragment.duration_ms,
    }


def _image_size(
    native: tuple[int, int], width: Optional[int], height: Optional[int]
) -> Optional[tuple[int, int]]:
    """The size asked for; one side alone keeps the stream's aspect ratio."""
    if width is None and height is None:
        return None
    if width is None:
        assert height is not None
        width = max(1, round(height * native[0] / native[1]))
    if height is None:
        height = max(1, round(width * native[1] / native[0]))
    return width, height
