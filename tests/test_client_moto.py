"""The facade against moto: endpoints, streaming-session URLs and GetClip."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from kvarchive import ArchivedMediaClient, ResourceNotFoundError, ValidationError


@pytest.fixture
def sent(moto_stream: str) -> list[dict[str, Any]]:
    """Every request botocore sends from the test's session, as (url, JSON body)."""
    return []


@pytest.fixture
def kvm(moto_stream: str, sent: list[dict[str, Any]]) -> ArchivedMediaClient:
    """A client on moto whose session records each request it sends."""
    session = boto3.Session()

    def record(request: Any, **_: Any) -> None:
        body = request.body or b"{}"
        sent.append({"url": request.url, "body": json.loads(body)})

    session.events.register("before-send", record)
    return ArchivedMediaClient(session=session)


def test_data_endpoint_comes_from_get_data_endpoint(kvm: ArchivedMediaClient) -> None:
    """data_endpoint() returns what GetDataEndpoint names for the stream."""
    expected = boto3.client("kinesisvideo").get_data_endpoint(StreamName="cam", APIName="GET_CLIP")[
        "DataEndpoint"
    ]
    assert kvm.data_endpoint("GET_CLIP", stream_name="cam") == expected


def test_data_endpoint_is_cached(kvm: ArchivedMediaClient, sent: list[dict[str, Any]]) -> None:
    """Asking twice for the same (stream, API) costs one GetDataEndpoint."""
    kvm.data_endpoint("GET_CLIP", stream_name="cam")
    kvm.data_endpoint("GET_CLIP", stream_name="cam")
    kvm.data_endpoint("get_images", stream_name="cam")
    names = [r["body"].get("APIName") for r in sent if r["url"].endswith("/getDataEndpoint")]
    assert names == ["GET_CLIP", "GET_IMAGES"]


def test_hls_url_is_sent_to_the_data_endpoint(
    kvm: ArchivedMediaClient, sent: list[dict[str, Any]]
) -> None:
    """The HLS call goes to the data endpoint, not the control plane, and returns the URL."""
    url = kvm.get_hls_streaming_session_url(stream_name="cam")
    assert "getHLSMasterPlaylist.m3u8?SessionToken=" in url
    endpoint = kvm.data_endpoint("GET_HLS_STREAMING_SESSION_URL", stream_name="cam")
    assert sent[-1]["url"] == endpoint + "/getHLSStreamingSessionURL"
    assert sent[-1]["body"]["PlaybackMode"] == "LIVE"
    assert sent[-1]["body"]["Expires"] == 300


def test_dash_on_demand_sends_the_range_in_milliseconds(
    kvm: ArchivedMediaClient, sent: list[dict[str, Any]]
) -> None:
    """An ON_DEMAND DASH request carries both timestamps with their milliseconds."""
    url = kvm.get_dash_streaming_session_url(
        stream_name="cam",
        playback_mode="ON_DEMAND",
        start="2026-01-01T00:00:00.123Z",
        end=1767225660.5,
        expires=3600,
    )
    assert "getDASHManifest.mpd?SessionToken=" in url
    selector = sent[-1]["body"]["DASHFragmentSelector"]
    assert selector["TimestampRange"] == {
        "StartTimestamp": 1767225600.123,
        "EndTimestamp": 1767225660.5,
    }
    assert sent[-1]["body"]["Expires"] == 3600


def test_get_clip_streams_mp4(kvm: ArchivedMediaClient, sent: list[dict[str, Any]]) -> None:
    """GetClip returns a MediaStream with moto's body and content type."""
    with kvm.get_clip(stream_name="cam", start=1767225600.25, end=1767225610) as clip:
        data = clip.read()
    assert clip.content_type == "video/mp4"
    assert data
    assert (
        sent[-1]["body"]["ClipFragmentSelector"]["TimestampRange"]["StartTimestamp"]
        == 1767225600.25
    )


def test_unknown_stream_is_resource_not_found(kvm: ArchivedMediaClient) -> None:
    """An unknown stream raises ResourceNotFoundError keeping code, status and request id."""
    with pytest.raises(ResourceNotFoundError) as caught:
        kvm.get_hls_streaming_session_url(stream_name="missing")
    error = caught.value
    assert error.code == "ResourceNotFoundException"
    assert error.status_code == 404
    assert error.request_id
    assert isinstance(error.__cause__, ClientError)


def test_live_mode_refuses_a_range_before_any_request(
    kvm: ArchivedMediaClient, sent: list[dict[str, Any]]
) -> None:
    """LIVE with a start is a ValidationError and sends nothing."""
    with pytest.raises(ValidationError, match="LIVE"):
        kvm.get_hls_streaming_session_url(stream_name="cam", start=0)
    assert sent == []
