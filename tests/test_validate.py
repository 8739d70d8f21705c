"""Bad input is a ValidationError naming the argument, raised before any request."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pytest

from kvarchive import ArchivedMediaClient, ValidationError
from kvarchive.testing import Emulator

T0 = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
T1 = T0 + timedelta(seconds=60)
ARN = "arn:aws:kinesisvideo:us-east-1:123456789012:stream/cam/1234567890123"
NAIVE_EARLY = datetime(2026, 1, 1, 11)
AWARE_LATE = datetime(2026, 1, 1, 13, tzinfo=timezone(timedelta(hours=5)))  # 08:00 UTC


def lf(**kw: Any) -> Callable[[ArchivedMediaClient], Any]:
    """list_fragments with a valid call's arguments, overridden by kw, iterated."""
    args = {"stream_name": "cam", "start": T0, "end": T1, **kw}
    return lambda kv: list(kv.list_fragments(**args))


def media(**kw: Any) -> Callable[[ArchivedMediaClient], Any]:
    """get_media_for_fragment_list with valid arguments overridden by kw."""
    args = {"stream_name": "cam", "fragments": ["1"], **kw}
    return lambda kv: kv.get_media_for_fragment_list(**args)


def clip(**kw: Any) -> Callable[[ArchivedMediaClient], Any]:
    """get_clip with valid arguments overridden by kw."""
    args = {"stream_name": "cam", "start": T0, "end": T1, **kw}
    return lambda kv: kv.get_clip(**args)


def images(**kw: Any) -> Callable[[ArchivedMediaClient], Any]:
    """get_images with valid arguments overridden by kw, iterated."""
    args = {"stream_name": "cam", "start": T0, "end": T1, **kw}
    return lambda kv: list(kv.get_images(**args))


def hls(**kw: Any) -> Callable[[ArchivedMediaClient], Any]:
    """get_hls_streaming_session_url with valid arguments overridden by kw."""
    args = {"stream_name": "cam", **kw}
    return lambda kv: kv.get_hls_streaming_session_url(**args)


def dash(**kw: Any) -> Callable[[ArchivedMediaClient], Any]:
    """get_dash_streaming_session_url with valid arguments overridden by kw."""
    args = {"stream_name": "cam", **kw}
    return lambda kv: kv.get_dash_streaming_session_url(**args)


def endpoint(api_name: Any = "GET_CLIP", **kw: Any) -> Callable[[ArchivedMediaClient], Any]:
    """data_endpoint with valid arguments overridden."""
    args = {"stream_name": "cam", **kw}
    return lambda kv: kv.data_endpoint(api_name, **args)


def download(tmp: str = "/nonexistent/x.mkv", **kw: Any) -> Callable[[ArchivedMediaClient], Any]:
    """download with valid arguments overridden by kw."""
    args = {"stream_name": "cam", "start": T0, "end": T1, "path": tmp, **kw}
    return lambda kv: kv.download(**args)


CASES: list[tuple[str, Callable[[ArchivedMediaClient], Any], str]] = [
    # stream identity
    ("neither name nor arn", lf(stream_name=None), "stream_name"),
    ("both name and arn", lf(stream_arn=ARN), "stream_arn"),
    ("empty name", lf(stream_name=""), "stream_name"),
    ("name with a slash", lf(stream_name="a/b"), "stream_name"),
    ("name too long", lf(stream_name="x" * 257), "stream_name"),
    ("name not a string", lf(stream_name=42), "stream_name"),
    ("bad arn", lf(stream_name=None, stream_arn="arn:aws:s3:::bucket"), "stream_arn"),
    ("empty arn", media(stream_name=None, stream_arn=""), "stream_arn"),
    ("neither for media", media(stream_name=None), "stream_name"),
    ("both for clip", clip(stream_arn=ARN), "stream_arn"),
    ("neither for endpoint", endpoint(stream_name=None), "stream_name"),
    # times
    ("end before start", lf(start=T1, end=T0), "end"),
    (
        "naive start after aware end",
        lf(start=NAIVE_EARLY + timedelta(hours=2), end=AWARE_LATE),
        "end",
    ),
    ("unparseable start", lf(start="yesterday"), "start"),
    ("start of wrong type", lf(start=[2026]), "start"),
    ("bool end", lf(end=True), "end"),
    ("negative epoch", clip(start=-1), "start"),
    ("clip longer than a day", clip(end=T0 + timedelta(hours=25)), "end - start"),
    ("clip of an empty range", clip(end=T0), "end must be after start"),
    (
        "session of an empty range",
        dash(playback_mode="LIVE_REPLAY", start=T0, end=T0),
        "end must be after start",
    ),
    ("images end before start", images(start=T1, end=T0), "end"),
    (
        "on-demand range over a day",
        hls(playback_mode="ON_DEMAND", start=T0, end=T0 + timedelta(days=2)),
        "end - start",
    ),
    # enums
    ("timestamp type misspelt", lf(timestamp_type="SERVER"), "timestamp_type"),
    ("timestamp type not a string", clip(timestamp_type=1), "timestamp_type"),
    ("unknown api name", endpoint("GET_MEDIA"), "api_name"),
    ("unknown image format", images(format="GIF"), "format"),
    ("unknown playback mode", hls(playback_mode="REPLAY"), "playback_mode"),
    ("unknown container", hls(container_format="MP4"), "container_format"),
    ("unknown discontinuity mode", hls(discontinuity_mode="SOMETIMES"), "discontinuity_mode"),
    (
        "unknown display timestamp",
        dash(display_fragment_timestamp="YES"),
        "display_fragment_timestamp",
    ),
    ("unknown display number", dash(display_fragment_number="YES"), "display_fragment_number"),
    # numbers
    ("page size zero", lf(page_size=0), "page_size"),
    ("page size over 1000", lf(page_size=1001), "page_size"),
    ("page size a float", lf(page_size=10.5), "page_size"),
    ("page size a bool", lf(page_size=True), "page_size"),
    ("image page size over 100", images(page_size=101), "page_size"),
    ("sampling interval under 200 ms", images(sampling_interval=199), "sampling_interval"),
    (
        "sampling interval as short timedelta",
        images(sampling_interval=timedelta(milliseconds=100)),
        "sampling_interval",
    ),
    ("width zero", images(width=0, height=240), "width"),
    ("width over 3840", images(width=3841, height=240), "width"),
    ("height over 2160", images(width=320, height=2161), "height"),
    ("width without height", images(width=320), "width and height go together"),
    ("height without width", images(height=240), "width and height go together"),
    ("jpeg quality zero", images(jpeg_quality=0), "jpeg_quality"),
    ("jpeg quality over 100", images(jpeg_quality=101), "jpeg_quality"),
    ("jpeg quality with PNG", images(format="PNG", jpeg_quality=50), "jpeg_quality"),
    ("expires under 300", hls(expires=299), "expires"),
    ("expires over 43200", dash(expires=43201), "expires"),
    (
        "hls fragment results over 5000",
        hls(max_media_playlist_fragment_results=5001),
        "max_media_playlist_fragment_results",
    ),
    (
        "dash fragment results zero",
        dash(max_manifest_fragment_results=0),
        "max_manifest_fragment_results",
    ),
    # playback modes and ranges
    ("live with a start", hls(start=T0), "LIVE"),
    ("live with an end", dash(end=T1), "LIVE"),
    ("replay without start", hls(playback_mode="LIVE_REPLAY"), "start"),
    ("on demand without end", dash(playback_mode="ON_DEMAND", start=T0), "end"),
    # fragments
    ("no fragments", media(fragments=[]), "fragments"),
    ("fragment not digits", media(fragments=["12a"]), "fragments"),
    ("fragment number too long", media(fragments=["1" * 129]), "fragments"),
    ("fragments as one string", media(fragments="123"), "fragments"),
    ("fragment an int", media(fragments=[123]), "fragments"),
    ("empty fragment number", media(fragments=[""]), "fragments"),
    # download
    ("download end before start", download(start=T1, end=T0), "end"),
    ("download neither stream", download(stream_name=None), "stream_name"),
]


@pytest.mark.parametrize(("case", "call", "named"), CASES, ids=[c[0] for c in CASES])
def test_invalid_input_is_refused_before_any_request(
    emulator: Emulator,
    kv: ArchivedMediaClient,
    case: str,
    call: Callable[[ArchivedMediaClient], Any],
    named: str,
) -> None:
    """Each invalid call raises ValidationError naming the argument; the emulator sees nothing."""
    emulator.add_stream("cam", fragment_count=2, start=T0, payload_size=64)
    with pytest.raises(ValidationError) as caught:
        call(kv)
    assert named in str(caught.value)
    assert emulator.count() == 0


def test_the_table_is_large_enough() -> None:
    """The table covers at least forty invalid inputs."""
    assert len(CASES) >= 40


def test_enum_spellings_are_case_insensitive(emulator: Emulator, kv: ArchivedMediaClient) -> None:
    """'server_timestamp' is taken as 'SERVER_TIMESTAMP' and sent exactly so."""
    emulator.add_stream("cam", fragment_count=2, start=T0, payload_size=64)
    list(
        kv.list_fragments(stream_name="cam", start=T0, end=T1, timestamp_type="producer_timestamp")
    )
    sent = [r for r in emulator.requests if r.operation == "ListFragments"][0]
    assert sent.params["FragmentSelector"]["FragmentSelectorType"] == "PRODUCER_TIMESTAMP"


def test_closed_client_refuses_calls(emulator: Emulator) -> None:
    """A closed client says so instead of sending anything."""
    from kvarchive import KVArchiveError

    kv = ArchivedMediaClient(endpoint_url=emulator.endpoint_url)
    kv.close()
    with pytest.raises(KVArchiveError, match="closed"):
        kv.data_endpoint("GET_CLIP", stream_name="cam")
    assert emulator.count() == 0
