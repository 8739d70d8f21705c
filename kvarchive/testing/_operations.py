"""The emulated operations: request validation and responses, free of HTTP.

Each operation takes the decoded JSON request and returns a :class:`Response`
or raises :class:`~._checks.ApiError`, validating as the service does (the
checks and the NextToken codec are in :mod:`._checks`, the limits in
``kvarchive._service``). docs/testing/fidelity.md lists each behaviour with its
source. In short:

- ListFragments without ``FragmentSelector`` (and without ``NextToken``) answers
  ``InternalFailure`` (HTTP 500, which botocore retries), as the service does.
  Fragments are selected by their start timestamp within [Start, End], inclusive,
  and listed in a seeded shuffle (the same query gives the same order). A
  NextToken belongs to the request it came from: sent with other parameters, it
  is refused.
- GetClip, HLS and DASH select fragments that start within [Start, End], as
  the API reference's ClipTimestampRange says. GetClip stops silently at 200
  fragments or 100 MB (100,000,000 bytes), as the service does.
- GetImages: see :mod:`._get_images`.
- Each HLS/DASH session gets its own token, in a URL on the emulator's data
  endpoint, where :mod:`._playback` serves its playlists and fragments.
- Arguments are validated before the stream's data is looked at, so a bad
  argument is ``InvalidArgumentException`` even where no fragment exists.
- GetMedia and PutMedia, on their own endpoint, answer HTTP 501 ``NotImplemented``:
  the emulator serves no live media, and says so rather than blame the caller.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, Callable, Optional, Union

import attrs

from kvarchive import _service as service
from kvarchive._times import to_epoch_ms
from kvarchive.testing._checks import (
    ApiError,
    check_range,
    decode_token,
    encode_token,
    enum_param,
    epoch_seconds,
    fragment_selector,
    int_param,
    invalid,
)
from kvarchive.testing._control_plane import list_streams, stream_info
from kvarchive.testing._get_images import get_images
from kvarchive.testing._mkv_writer import error_chunk
from kvarchive.testing._mp4 import Mp4Sample, mp4_header
from kvarchive.testing._playback.sessions import NO_FRAGMENTS, SessionRequest, SessionStore
from kvarchive.testing._streams import (
    EmulatedStream,
    FragmentRecord,
    MediaCache,
    StreamDescription,
)

__all__ = [
    "API_NAMES",
    "ENDPOINT_OPERATIONS",
    "NOT_FOUND",
    "Response",
    "Service",
]

CONTROL_OPERATIONS = {
    "/getDataEndpoint": "GetDataEndpoint",
    "/describeStream": "DescribeStream",
    "/listStreams": "ListStreams",
}
DATA_OPERATIONS = {
    "/listFragments": "ListFragments",
    "/getMediaForFragmentList": "GetMediaForFragmentList",
    "/getClip": "GetClip",
    "/getImages": "GetImages",
    "/getHLSStreamingSessionURL": "GetHLSStreamingSessionURL",
    "/getDASHStreamingSessionURL": "GetDASHStreamingSessionURL",
}
# Live media, which the emulator does not serve, on an endpoint of its own as on AWS.
LIVE_OPERATIONS = {"/getMedia": "GetMedia", "/putMedia": "PutMedia"}
ENDPOINT_OPERATIONS = {
    "control": CONTROL_OPERATIONS,
    "data": DATA_OPERATIONS,
    "live": LIVE_OPERATIONS,
}
"""The operations each endpoint (by role) serves: path to operation name."""
# GetDataEndpoint's APIName also names the live-media APIs.
LIVE_API_NAMES = ("PUT_MEDIA", "GET_MEDIA")
API_NAMES = (*LIVE_API_NAMES, *service.API_NAMES)
NOT_FOUND = "The requested stream is not found or not active."
"""The service's message for a stream it does not have."""


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
        live_endpoint: Callable[[], str],
        failed_fragment: Callable[[str, str], Optional[tuple[str, str]]],
        clock: Callable[[], float] = time.time,
        media: Optional[MediaCache] = None,
    ) -> None:
        self.region = region
        self.account_id = account_id
        self.seed = seed
        self.sessions = sessions
        self._data_endpoint = data_endpoint
        self._live_endpoint = live_endpoint
        self._failed_fragment = failed_fragment
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

    def describe(
        self,
        name: str,
        start_ms: int,
        *,
        created: Optional[datetime],
        retention_hours: int,
        kms_key_id: Optional[str],
        media_type: Optional[str],
        audio: bool,
    ) -> StreamDescription:
        """What DescribeStream will say of a new stream whose first fragment is at ``start_ms``:
        created an hour before it unless ``created`` says, its media type from its tracks
        unless ``media_type`` says; its ARN holds its name and creation time, as the service's.
        """
        if isinstance(retention_hours, bool) or not isinstance(retention_hours, int):
            raise ValueError("retention_hours must be an int")
        if retention_hours < 0:
            raise ValueError("retention_hours must not be negative")
        creation_ms = start_ms - 3_600_000 if created is None else to_epoch_ms(created)
        arn = f"arn:aws:kinesisvideo:{self.region}:{self.account_id}:stream/{name}/{creation_ms}"
        default_type = "video/h264,audio/aac" if audio else "video/h264"
        return StreamDescription(
            arn, creation_ms, retention_hours, kms_key_id, media_type or default_type
        )

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
                    raise ApiError("ResourceNotFoundException", NOT_FOUND)
                if name is not None and name != found.name:
                    raise invalid("StreamName and StreamARN name different streams")
                return found
            stream = self._streams.get(str(name))
        if stream is None:
            raise ApiError("ResourceNotFoundException", NOT_FOUND)
        return stream

    def call(self, operation: str, params: dict[str, Any]) -> Response:
        """Run ``operation``; raises :class:`ApiError` for an error answer."""
        handler = getattr(self, f"_op_{operation}", None)
        if handler is None:  # GetMedia, PutMedia: not the caller's mistake, nor retried
            raise ApiError(
                "NotImplemented", f"The kvarchive emulator does not serve {operation}", 501
            )
        response: Response = handler(params)
        return response

    # -- control plane ---------------------------------------------------------

    def _op_GetDataEndpoint(self, params: dict[str, Any]) -> Response:
        if "APIName" not in params:
            raise invalid("APIName is required")
        api = enum_param(params, "APIName", API_NAMES, "")
        self.resolve(params)
        live = api in LIVE_API_NAMES
        return Response.json(
            {"DataEndpoint": (self._live_endpoint if live else self._data_endpoint)()}
        )

    def _op_DescribeStream(self, params: dict[str, Any]) -> Response:
        stream = self.resolve(params)
        return Response.json({"StreamInfo": stream_info(stream, self.region, self.account_id)})

    def _op_ListStreams(self, params: dict[str, Any]) -> Response:
        with self._lock:
            streams = list(self._streams.values())
        return Response.json(list_streams(streams, params, self.region, self.account_id))

    # -- data plane ------------------------------------------------------------

    def _op_ListFragments(self, params: dict[str, Any]) -> Response:
        stream = self.resolve(params)
        self._check_retention(stream)
        max_results = (
            int_param(params, "MaxResults", 1, service.LIST_MAX_RESULTS) or service.LIST_MAX_RESULTS
        )
        token = params.get("NextToken")
        if token is not None:
            state = decode_token(token)
            if state.get("s") != stream.name:
                raise invalid("NextToken does not belong to this stream")
            kind, start, end, offset = state["t"], state["a"], state["b"], state["o"]
            if "FragmentSelector" in params and fragment_selector(params, "FragmentSelector") != (
                kind,
                start,
                end,
            ):
                raise invalid("NextToken was issued for another FragmentSelector")
        else:
            if "FragmentSelector" not in params:
                # What the service answers (and botocore retries), unhelpful as it is.
                raise ApiError("InternalFailure", "Internal failure", 500)
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
        self._check_retention(stream)
        numbers = params.get("Fragments")
        most = service.MEDIA_MAX_FRAGMENTS
        if not isinstance(numbers, list) or not 1 <= len(numbers) <= most:
            raise invalid(f"Fragments must list 1 to {most} fragment numbers")
        for number in numbers:
            if not isinstance(number, str) or not number.isdigit() or len(number) > 128:
                raise invalid(f"Fragment number is invalid: {number!r}")
        fragments = [stream.fragment(number) for number in numbers]
        if None in fragments:
            raise invalid("Fragment numbers are invalid")
        # A fragment failed by emu.fail_fragment() comes as an error chunk, inside the 200.
        parts: list[Union[FragmentRecord, bytes]] = []
        for fragment in fragments:
            assert fragment is not None
            failure = self._failed_fragment(stream.name, fragment.number)
            parts.append(fragment if failure is None else error_chunk(fragment.number, *failure))

        def chunks() -> Iterator[bytes]:
            for part in parts:
                if isinstance(part, bytes):
                    yield part
                else:
                    yield from self._media.chunks(part)

        length = sum(len(p) if isinstance(p, bytes) else p.size for p in parts)
        return Response(chunks(), length, "video/webm", streamed=True)

    def _check_retention(self, stream: EmulatedStream) -> None:
        if stream.retention_hours == 0:
            raise ApiError("NoDataRetentionException", f"Stream {stream.name} does not retain data")

    def _check_playable(self, stream: EmulatedStream) -> None:
        """GetClip, HLS and DASH refuse VP8 and a track 1 without codec private data."""
        first = stream.tracks[0]
        if first.codec_id == "V_VP8":
            raise ApiError(
                "UnsupportedStreamMediaTypeException", "The codec V_VP8 is not supported"
            )
        if not first.codec_private:
            raise ApiError("MissingCodecPrivateDataException", "No codec private data in track 1")

    def _op_GetClip(self, params: dict[str, Any]) -> Response:
        stream = self.resolve(params)
        self._check_retention(stream)
        self._check_playable(stream)
        if "ClipFragmentSelector" not in params:
            raise invalid("ClipFragmentSelector is required")
        kind, start, end = fragment_selector(params, "ClipFragmentSelector")
        check_range(kind, start, end, self._clock())
        chosen: list[FragmentRecord] = []
        total = 0
        # The service silently stops at 200 fragments or 100 MB.
        for fragment in stream.starting_within(kind, start, end):
            if len(chosen) == service.CLIP_MAX_FRAGMENTS or (
                chosen and total + fragment.size > service.CLIP_MAX_BYTES
            ):
                break
            chosen.append(fragment)
            total += fragment.size
        if not chosen:
            raise ApiError("ResourceNotFoundException", NO_FRAGMENTS)
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
        return Response.json(get_images(stream, params))

    def _session_url(self, protocol: str, params: dict[str, Any], path: str) -> str:
        """Open a session (HLS or DASH) as ``params`` ask: its URL on the data endpoint."""
        stream = self.resolve(params)
        self._check_retention(stream)
        self._check_playable(stream)
        request = SessionRequest.from_params(protocol, stream, params, self._clock)
        token = self.sessions.open(request).token
        return f"{self._data_endpoint()}{path}?SessionToken={token}"

    def _op_GetHLSStreamingSessionURL(self, params: dict[str, Any]) -> Response:
        url = self._session_url("HLS", params, "/hls/v1/getHLSMasterPlaylist.m3u8")
        return Response.json({"HLSStreamingSessionURL": url})

    def _op_GetDASHStreamingSessionURL(self, params: dict[str, Any]) -> Response:
        url = self._session_url("DASH", params, "/dash/v1/getDASHManifest.mpd")
        return Response.json({"DASHStreamingSessionURL": url})


def _fragment_json(fragment: FragmentRecord) -> dict[str, Any]:
    return {
        "FragmentNumber": fragment.number,
        "FragmentSizeInBytes": fragment.size,
        "ProducerTimestamp": epoch_seconds(fragment.producer_ms),
        "ServerTimestamp": epoch_seconds(fragment.server_ms),
        "FragmentLengthInMilliseconds": fragment.duration_ms,
    }
