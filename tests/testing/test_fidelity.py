"""The emulator answers as the service does: one probe per row of docs/testing/fidelity.md.

Each probe drives the emulator with raw boto3 clients (or raw HTTP where boto3 hides the
wire) and checks the row's behaviour, and, where the call can succeed, that the same call
with valid parameters answers HTTP 200. The rows are read from the table by their id.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Optional

import attrs
import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from kvarchive._matroska.scanner import FragmentScanner
from kvarchive.testing import EmulatedStream, Emulator

TABLE = Path(__file__).resolve().parents[2] / "docs" / "testing" / "fidelity.md"
START = datetime(2026, 1, 1, tzinfo=timezone.utc)
# Server-side validation is under test, so botocore checks nothing first and never retries.
RAW = Config(
    retries={"total_max_attempts": 1},
    connect_timeout=2,
    read_timeout=30,
    parameter_validation=False,
)
ARCHIVED_APIS = (
    "LIST_FRAGMENTS",
    "GET_CLIP",
    "GET_IMAGES",
    "GET_MEDIA_FOR_FRAGMENT_LIST",
    "GET_HLS_STREAMING_SESSION_URL",
    "GET_DASH_STREAMING_SESSION_URL",
)
UNKNOWN_OPERATION = (
    b'{"Output":{"__type":"com.amazon.coral.service#UnknownOperationException"},"Version":"1.0"}'
)


def table_ids() -> list[str]:
    """The ids of the table's rows, in order: the first cell of every row under a header."""
    ids = []
    for line in TABLE.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] not in ("id", "") and not set(cells[0]) <= {"-"}:
            ids.append(cells[0])
    return ids


@attrs.define
class Env:
    """An emulator with stream ``cam`` (30 fragments of 2 s from START) and raw clients."""

    emu: Emulator
    cam: EmulatedStream
    control: Any
    data: Any
    client: Callable[..., Any]

    def numbers(self, *indexes: int) -> list[str]:
        return [self.cam.fragments[i].number for i in indexes]


Probe = Callable[[Env], None]
PROBES: dict[str, Probe] = {}


def probe(row: str) -> Callable[[Probe], Probe]:
    """Register the probe of table row ``row``."""

    def register(function: Probe) -> Probe:
        assert row not in PROBES, f"two probes for {row}"
        PROBES[row] = function
        return function

    return register


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEMULATORTEST0001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "emulator/test/secret")
    made: list[Any] = []

    def client(service: str, url: str, config: Config = RAW) -> Any:
        made.append(boto3.client(service, endpoint_url=url, region_name="us-east-1", config=config))
        return made[-1]

    with Emulator() as emu:
        cam = emu.add_stream("cam", fragment_count=30, start=START, payload_size=8 * 1024)
        control = client("kinesisvideo", emu.endpoint_url)
        data = client("kinesis-video-archived-media", emu.data_endpoint_url)
        yield Env(emu, cam, control, data, client)
        for made_client in made:
            made_client.close()


def refused(
    call: Callable[..., Any],
    code: str,
    status: int = 400,
    message: Optional[str] = None,
    **params: Any,
) -> dict[str, Any]:
    """Call, expecting the error ``code`` with HTTP ``status`` (and ``message``); its response."""
    with pytest.raises(ClientError) as caught:
        answer = call(**params)
        if "Payload" in answer:
            answer["Payload"].close()
    response: dict[str, Any] = caught.value.response
    assert response["Error"]["Code"] == code
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status
    if message is not None:
        assert response["Error"]["Message"] == message
    return response


def ok(answer: dict[str, Any]) -> dict[str, Any]:
    """Check HTTP 200 (and close a streamed body); the answer."""
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    if "Payload" in answer:
        answer["Payload"].close()
    return answer


def selector(start: datetime, end: datetime, kind: str = "SERVER_TIMESTAMP") -> dict[str, Any]:
    return {
        "FragmentSelectorType": kind,
        "TimestampRange": {"StartTimestamp": start, "EndTimestamp": end},
    }


def post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    """A raw POST of a JSON body: status, headers (lower-case names) and body bytes."""
    request = urllib.request.Request(url, json.dumps(body).encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def test_every_row_has_a_probe_and_every_probe_a_row() -> None:
    """The table and the probes name the same behaviours, each once."""
    ids = table_ids()
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(PROBES)


@pytest.mark.parametrize("row", table_ids())
def test_emulator_behaves_as_the_table_says(env: Env, row: str) -> None:
    """The emulator does what the row of the fidelity table says."""
    PROBES[row](env)


# -- control plane and endpoints -------------------------------------------------------


@probe("endpoint-archived")
def _(env: Env) -> None:
    urls = {
        env.control.get_data_endpoint(StreamName="cam", APIName=api)["DataEndpoint"]
        for api in ARCHIVED_APIS
    }
    assert urls == {env.emu.data_endpoint_url} != {env.emu.endpoint_url}
    ok(env.data.list_fragments(StreamName="cam", FragmentSelector=selector(START, START)))


@probe("endpoint-live")
def _(env: Env) -> None:
    for api in ("GET_MEDIA", "PUT_MEDIA"):
        url = env.control.get_data_endpoint(StreamName="cam", APIName=api)["DataEndpoint"]
        assert url == env.emu.live_endpoint_url
        assert url not in (env.emu.data_endpoint_url, env.emu.endpoint_url)


@probe("endpoint-own-operations")
def _(env: Env) -> None:
    status, _, body = post(env.emu.live_endpoint_url + "/listFragments", {"StreamName": "cam"})
    assert (status, body) == (200, UNKNOWN_OPERATION)
    status, _, body = post(env.emu.data_endpoint_url + "/getMedia", {"StreamName": "cam"})
    assert (status, body) == (200, UNKNOWN_OPERATION)


@probe("live-media-not-served")
def _(env: Env) -> None:
    media = env.client("kinesis-video-media", env.emu.live_endpoint_url)
    start = {"StartSelectorType": "NOW"}
    refused(media.get_media, "NotImplemented", 501, StreamName="cam", StartSelector=start)
    status, headers, _ = post(env.emu.live_endpoint_url + "/putMedia", {})
    assert (status, headers["x-amzn-errortype"].split(":")[0]) == (501, "NotImplemented")


@probe("control-plane-unknown-operation")
def _(env: Env) -> None:
    status, _, body = post(env.emu.endpoint_url + "/listFragments", {"StreamName": "cam"})
    assert (status, body, len(body)) == (200, UNKNOWN_OPERATION, 90)
    wrong = env.client("kinesis-video-archived-media", env.emu.endpoint_url)
    answer = ok(wrong.list_fragments(StreamName="cam", FragmentSelector=selector(START, START)))
    assert "Fragments" not in answer


@probe("unknown-stream")
def _(env: Env) -> None:
    message = "The requested stream is not found or not active."
    status, headers, body = post(env.emu.endpoint_url + "/describeStream", {"StreamName": "nope"})
    assert (status, json.loads(body)) == (404, {"Message": message})
    assert headers["x-amzn-errortype"].startswith("ResourceNotFoundException:")
    assert re.fullmatch(r"[0-9a-f-]{36}", headers["x-amzn-requestid"])
    arn = env.cam.arn.replace("/cam/", "/nope/")
    for call, params in [
        (env.control.get_data_endpoint, {"StreamARN": arn, "APIName": "GET_CLIP"}),
        (env.data.list_fragments, {"FragmentSelector": selector(START, START)}),
        (env.data.get_media_for_fragment_list, {"Fragments": env.numbers(0)}),
    ]:
        if "StreamARN" not in params:
            params["StreamName"] = "nope"
        refused(call, "ResourceNotFoundException", 404, message, **params)
    ok(env.control.describe_stream(StreamName="cam"))


@probe("api-name-enum")
def _(env: Env) -> None:
    get = env.control.get_data_endpoint
    refused(get, "InvalidArgumentException", StreamName="cam", APIName="GET_EVERYTHING")
    ok(get(StreamName="cam", APIName="GET_CLIP"))


@probe("describe-stream")
def _(env: Env) -> None:
    created = datetime(2025, 6, 1, 12, 30, 15, 250000, tzinfo=timezone.utc)
    key = "arn:aws:kms:us-east-1:123456789012:key/0e2c9e4a-1b2c-4d5e-8f90-123456789abc"
    added = env.emu.add_stream(
        "kept", start=START, retention_hours=720, kms_key_id=key, media_type="video/h265",
        created=created,
    )  # fmt: skip
    info = ok(env.control.describe_stream(StreamName="kept"))["StreamInfo"]
    assert info == {
        "DeviceName": "kvarchive-emulator",
        "StreamName": "kept",
        "StreamARN": added.arn,
        "MediaType": "video/h265",
        "KmsKeyId": key,
        "Version": "1",
        "Status": "ACTIVE",
        "CreationTime": created,
        "DataRetentionInHours": 720,
    }
    assert added.arn.endswith(f"/kept/{int(created.timestamp() * 1000)}")
    default = ok(env.control.describe_stream(StreamARN=env.cam.arn))["StreamInfo"]
    assert default["KmsKeyId"] == "arn:aws:kms:us-east-1:123456789012:alias/aws/kinesisvideo"
    assert (default["DataRetentionInHours"], default["MediaType"]) == (24, "video/h264")


@probe("list-streams")
def _(env: Env) -> None:
    for name in ("cam-2", "cam-1", "door"):
        env.emu.add_stream(name, fragment_count=1, start=START)
    condition = {"ComparisonOperator": "BEGINS_WITH", "ComparisonValue": "cam-"}
    first = ok(env.control.list_streams(MaxResults=1, StreamNameCondition=condition))
    assert [s["StreamName"] for s in first["StreamInfoList"]] == ["cam-1"]
    token = first["NextToken"]
    second = ok(
        env.control.list_streams(MaxResults=1, StreamNameCondition=condition, NextToken=token)
    )
    assert [s["StreamName"] for s in second["StreamInfoList"]] == ["cam-2"]
    assert "NextToken" not in second
    refused(env.control.list_streams, "InvalidArgumentException", NextToken=token)
    refused(env.control.list_streams, "InvalidArgumentException", MaxResults=10001)
    everything = env.control.get_paginator("list_streams").paginate(
        PaginationConfig={"PageSize": 2}
    )
    assert [s["StreamName"] for page in everything for s in page["StreamInfoList"]] == [
        "cam", "cam-1", "cam-2", "door",
    ]  # fmt: skip
    described = env.control.describe_stream(StreamName="door")["StreamInfo"]
    listed = env.control.list_streams(StreamNameCondition={**condition, "ComparisonValue": "door"})
    assert listed["StreamInfoList"] == [described]


# -- ListFragments and GetMediaForFragmentList ----------------------------------------


@probe("list-without-selector")
def _(env: Env) -> None:
    refused(env.data.list_fragments, "InternalFailure", 500, StreamName="cam")
    ok(env.data.list_fragments(StreamName="cam", FragmentSelector=selector(START, START)))


@probe("list-max-results")
def _(env: Env) -> None:
    query = {"StreamName": "cam", "FragmentSelector": selector(START, START + timedelta(1))}
    refused(env.data.list_fragments, "InvalidArgumentException", MaxResults=1001, **query)
    assert len(ok(env.data.list_fragments(MaxResults=1000, **query))["Fragments"]) == 30


@probe("list-unordered")
def _(env: Env) -> None:
    query = {"StreamName": "cam", "FragmentSelector": selector(START, START + timedelta(1))}
    listed = [f["FragmentNumber"] for f in ok(env.data.list_fragments(**query))["Fragments"]]
    assert listed != sorted(listed, key=int)
    assert sorted(listed, key=int) == env.numbers(*range(30))


@probe("list-token-bound")
def _(env: Env) -> None:
    query = {"StreamName": "cam", "MaxResults": 7}
    every = selector(START, START + timedelta(1))
    token = env.data.list_fragments(FragmentSelector=every, **query)["NextToken"]
    ok(env.data.list_fragments(FragmentSelector=every, NextToken=token, **query))
    ok(env.data.list_fragments(NextToken=token, **query))
    other = selector(START, START + timedelta(seconds=30))
    refused(
        env.data.list_fragments, "InvalidArgumentException",
        FragmentSelector=other, NextToken=token, **query,
    )  # fmt: skip


@probe("no-retention")
def _(env: Env) -> None:
    cold = env.emu.add_stream("cold", fragment_count=5, start=START, retention_hours=0)
    assert env.control.describe_stream(StreamName="cold")["StreamInfo"]["DataRetentionInHours"] == 0
    window = selector(START, START + timedelta(seconds=8))
    calls: list[tuple[Callable[..., Any], dict[str, Any]]] = [
        (env.data.list_fragments, {"FragmentSelector": window}),
        (env.data.get_clip, {"ClipFragmentSelector": window}),
        (
            env.data.get_images,
            {"ImageSelectorType": "SERVER_TIMESTAMP", "StartTimestamp": START,
             "EndTimestamp": START + timedelta(seconds=8), "Format": "JPEG"},
        ),
        (
            env.data.get_hls_streaming_session_url,
            {"PlaybackMode": "ON_DEMAND", "HLSFragmentSelector": window},
        ),
        (
            env.data.get_dash_streaming_session_url,
            {"PlaybackMode": "ON_DEMAND", "DASHFragmentSelector": window},
        ),
    ]  # fmt: skip
    for call, params in calls:
        refused(call, "NoDataRetentionException", StreamName="cold", **params)
        ok(call(StreamName="cam", **params))
    media = env.data.get_media_for_fragment_list
    refused(
        media, "NoDataRetentionException", StreamName="cold", Fragments=[cold.fragments[0].number]
    )
    ok(media(StreamName="cam", Fragments=env.numbers(0)))


@probe("media-unknown-fragment")
def _(env: Env) -> None:
    media = env.data.get_media_for_fragment_list
    missing = str(int(env.cam.fragments[-1].number) + 1)
    refused(
        media, "InvalidArgumentException", 400, "Fragment numbers are invalid",
        StreamName="cam", Fragments=[*env.numbers(0), missing],
    )  # fmt: skip
    ok(media(StreamName="cam", Fragments=env.numbers(0)))


@probe("media-max-fragments")
def _(env: Env) -> None:
    media = env.data.get_media_for_fragment_list
    many = env.numbers(0) * 1001
    refused(media, "InvalidArgumentException", StreamName="cam", Fragments=many)
    ok(media(StreamName="cam", Fragments=many[:1000]))


@probe("media-error-chunk")
def _(env: Env) -> None:
    failed = env.cam.fragments[1]
    env.emu.fail_fragment("cam", failed.number, code="4000", message="not available now")
    answer = env.data.get_media_for_fragment_list(StreamName="cam", Fragments=env.numbers(0, 1, 2))
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    with answer["Payload"] as payload:
        body = payload.read()
    scanner = FragmentScanner()
    found = [*scanner.feed(body), *scanner.finish()]
    assert [f.number for f in found] == env.numbers(0, 1, 2)
    chunk = found[1]
    assert (chunk.clusters, chunk.tracks) == (0, None)
    assert chunk.tag_list == [
        ("AWS_KINESISVIDEO_FRAGMENT_NUMBER", failed.number),
        ("AWS_KINESISVIDEO_EXCEPTION_ERROR_CODE", "4000"),
        ("AWS_KINESISVIDEO_EXCEPTION_MESSAGE", "not available now"),
    ]
    assert body[found[0].start : found[0].end] == env.cam.fragments[0].data()
    assert body[found[2].start : found[2].end] == env.cam.fragments[2].data()
    env.emu.reset_faults()
    again = env.data.get_media_for_fragment_list(StreamName="cam", Fragments=env.numbers(1))
    with again["Payload"] as payload:
        assert payload.read() == failed.data()


@probe("media-chunked")
def _(env: Env) -> None:
    answer = ok(env.data.get_media_for_fragment_list(StreamName="cam", Fragments=env.numbers(0)))
    assert answer["ContentType"] == "video/webm"
    assert answer["ResponseMetadata"]["HTTPHeaders"]["transfer-encoding"] == "chunked"


# -- GetClip ------------------------------------------------------------------------------


@probe("clip-empty-range")
def _(env: Env) -> None:
    clip = env.data.get_clip
    refused(
        clip,
        "InvalidArgumentException",
        StreamName="cam",
        ClipFragmentSelector=selector(START, START),
    )
    ok(clip(StreamName="cam", ClipFragmentSelector=selector(START, START + timedelta(seconds=5))))


@probe("clip-future-end")
def _(env: Env) -> None:
    fresh = env.emu.add_stream("fresh", fragment_count=3).fragments[0].server_timestamp
    soon = datetime.now(timezone.utc) + timedelta(minutes=10)
    clip = env.data.get_clip
    refused(clip, "InvalidArgumentException", StreamName="fresh",
            ClipFragmentSelector=selector(fresh, soon))  # fmt: skip
    by_producer = selector(fresh - timedelta(seconds=5), soon, "PRODUCER_TIMESTAMP")
    ok(clip(StreamName="fresh", ClipFragmentSelector=by_producer))


@probe("clip-span")
def _(env: Env) -> None:
    clip = env.data.get_clip
    day = timedelta(hours=24)
    too_long = selector(START, START + day + timedelta(seconds=1))
    refused(clip, "InvalidArgumentException", StreamName="cam", ClipFragmentSelector=too_long)
    ok(clip(StreamName="cam", ClipFragmentSelector=selector(START, START + day)))


@probe("clip-no-fragments")
def _(env: Env) -> None:
    message = "No fragments found in the stream for the streaming request."
    before = selector(START - timedelta(hours=2), START - timedelta(hours=1))
    refused(env.data.get_clip, "ResourceNotFoundException", 404, message, StreamName="cam",
            ClipFragmentSelector=before)  # fmt: skip
    ok(
        env.data.get_clip(
            StreamName="cam", ClipFragmentSelector=selector(START, START + timedelta(seconds=1))
        )
    )


def clip_samples(env: Env, stream: str) -> int:
    """How many samples (one a fragment here) the clip of all of ``stream`` holds."""
    answer = env.data.get_clip(
        StreamName=stream, ClipFragmentSelector=selector(START, START + timedelta(1))
    )
    with answer["Payload"] as payload:
        head = payload.read(64 * 1024)  # ftyp and moov come first
    stsz = head.index(b"stsz")
    return int.from_bytes(head[stsz + 12 : stsz + 16], "big")


@probe("clip-200-fragments")
def _(env: Env) -> None:
    env.emu.add_stream("many", fragment_count=230, fragment_duration_ms=1000, frame_rate=1,
                       start=START, payload_size=64)  # fmt: skip
    assert clip_samples(env, "many") == 200


@probe("clip-100-mb")
def _(env: Env) -> None:
    big = env.emu.add_stream("big", fragment_count=110, fragment_duration_ms=1000, frame_rate=1,
                             start=START, payload_size=1_000_000)  # fmt: skip
    sizes = [f.size for f in big.fragments]
    # 100 MB, not 100 MiB (104,857,600 bytes): with 1 MB fragments the two differ by 4.
    kept = max(k for k in range(len(sizes) + 1) if sum(sizes[:k]) <= 100_000_000)
    assert sum(sizes[: kept + 4]) <= 100 * 2**20
    assert clip_samples(env, "big") == kept


# -- GetImages ------------------------------------------------------------------------


def images(env: Env, **change: Any) -> dict[str, Any]:
    query = {
        "StreamName": "cam",
        "ImageSelectorType": "SERVER_TIMESTAMP",
        "StartTimestamp": START,
        "EndTimestamp": START + timedelta(seconds=60),
        "SamplingInterval": 1000,
        "Format": "JPEG",
        **change,
    }
    return env.data.get_images(**{k: v for k, v in query.items() if v is not None})  # type: ignore[no-any-return]


def images_refused(env: Env, code: str = "InvalidArgumentException", **change: Any) -> None:
    refused(lambda: images(env, **change), code)


@probe("images-lone-size")
def _(env: Env) -> None:
    message = "Height and width for the images need to be provided or none."
    for size in ({"WidthPixels": 320}, {"HeightPixels": 240}):
        refused(lambda size=size: images(env, **size), "InvalidArgumentException", 400, message)
    ok(images(env, WidthPixels=320, HeightPixels=240))


@probe("images-empty-format-config")
def _(env: Env) -> None:
    images_refused(env, FormatConfig={})
    ok(images(env, FormatConfig={"JPEGQuality": "80"}))


@probe("images-token-bound")
def _(env: Env) -> None:
    token = images(env, MaxResults=25)["NextToken"]
    ok(images(env, MaxResults=25, NextToken=token))
    images_refused(env, MaxResults=25, NextToken=token, SamplingInterval=2000)
    images_refused(env, MaxResults=25, NextToken=token, StartTimestamp=START + timedelta(seconds=1))


@probe("images-first-empty")
def _(env: Env) -> None:
    # cam's fragments last 2 s from START: the one holding START + 1 s starts at START.
    answer = ok(
        images(
            env,
            StartTimestamp=START + timedelta(seconds=1),
            EndTimestamp=START + timedelta(seconds=3),
        )
    )
    assert [i.get("Error") for i in answer["Images"]] == ["NO_MEDIA", None, None]


@probe("images-pages")
def _(env: Env) -> None:
    assert len(ok(images(env, MaxResults=100))["Images"]) == 25
    images_refused(env, MaxResults=101)


@probe("images-limits")
def _(env: Env) -> None:
    images_refused(env, EndTimestamp=START + timedelta(seconds=301))
    images_refused(env, SamplingInterval=199)
    ok(images(env, EndTimestamp=START + timedelta(seconds=300), SamplingInterval=200))


# -- HLS and DASH sessions --------------------------------------------------------------


def sessions(env: Env) -> list[tuple[Callable[..., Any], str]]:
    """Each session call with the name of its selector parameter."""
    return [
        (env.data.get_hls_streaming_session_url, "HLSFragmentSelector"),
        (env.data.get_dash_streaming_session_url, "DASHFragmentSelector"),
    ]


@probe("session-empty-range")
def _(env: Env) -> None:
    for call, name in sessions(env):
        params = {"StreamName": "cam", "PlaybackMode": "ON_DEMAND"}
        refused(call, "InvalidArgumentException", **params, **{name: selector(START, START)})
        ok(call(**params, **{name: selector(START, START + timedelta(seconds=5))}))


@probe("session-future-end")
def _(env: Env) -> None:
    fresh = env.emu.add_stream("fresh", fragment_count=3).fragments[0].server_timestamp
    soon = datetime.now(timezone.utc) + timedelta(minutes=10)
    for call, name in sessions(env):
        params = {"StreamName": "fresh", "PlaybackMode": "ON_DEMAND"}
        refused(call, "InvalidArgumentException", **params, **{name: selector(fresh, soon)})
        by_producer = selector(fresh - timedelta(seconds=5), soon, "PRODUCER_TIMESTAMP")
        ok(call(**params, **{name: by_producer}))


@probe("live-replay-span")
def _(env: Env) -> None:
    for call, name in sessions(env):
        params = {"StreamName": "cam", "PlaybackMode": "LIVE_REPLAY"}
        too_long = selector(START, START + timedelta(hours=24, seconds=1))
        refused(call, "InvalidArgumentException", **params, **{name: too_long})
        open_ended = {
            "FragmentSelectorType": "SERVER_TIMESTAMP",
            "TimestampRange": {"StartTimestamp": START},
        }
        ok(call(**params, **{name: open_ended}))


@probe("session-no-fragments")
def _(env: Env) -> None:
    message = "No fragments found in the stream for the streaming request."
    before = selector(START - timedelta(hours=2), START - timedelta(hours=1))
    for call, name in sessions(env):
        refused(call, "ResourceNotFoundException", 404, message, StreamName="cam",
                PlaybackMode="ON_DEMAND", **{name: before})  # fmt: skip
        window = selector(START, START + timedelta(seconds=1))
        ok(call(StreamName="cam", PlaybackMode="ON_DEMAND", **{name: window}))


@probe("session-expires")
def _(env: Env) -> None:
    window = selector(START, START + timedelta(seconds=5))
    for call, name in sessions(env):
        params = {"StreamName": "cam", "PlaybackMode": "ON_DEMAND", name: window}
        for expires in (299, 43201):
            refused(call, "InvalidArgumentException", Expires=expires, **params)
        ok(call(Expires=300, **params))
        ok(call(Expires=43200, **params))


@probe("live-needs-recent")
def _(env: Env) -> None:
    env.emu.add_stream("fresh", fragment_count=3)
    for call, _ in sessions(env):
        refused(call, "ResourceNotFoundException", 404, StreamName="cam", PlaybackMode="LIVE")
        ok(call(StreamName="fresh", PlaybackMode="LIVE"))


@probe("dash-fragment-number")
def _(env: Env) -> None:
    window = {"DASHFragmentSelector": selector(START, START + timedelta(seconds=5))}

    def manifest(**extra: Any) -> str:
        url = env.data.get_dash_streaming_session_url(
            StreamName="cam", PlaybackMode="ON_DEMAND", **window, **extra
        )["DASHStreamingSessionURL"]
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.read().decode()  # type: ignore[no-any-return]

    assert "kvs:fn" not in manifest()
    assert "kvs:fn" not in manifest(DisplayFragmentNumber="NEVER")
    assert f'kvs:fn="{env.cam.fragments[0].number}"' in manifest(DisplayFragmentNumber="ALWAYS")


# -- throttling ---------------------------------------------------------------------------


@probe("throttled")
def _(env: Env) -> None:
    retrying = env.client(
        "kinesis-video-archived-media",
        env.emu.data_endpoint_url,
        Config(retries={"mode": "standard", "max_attempts": 5}),
    )
    env.emu.throttle("ListFragments", per_second=0.01)
    query = {"StreamName": "cam", "FragmentSelector": selector(START, START)}
    ok(retrying.list_fragments(**query))
    began = env.emu.count("ListFragments")
    refused(retrying.list_fragments, "ClientLimitExceededException", **query)
    assert env.emu.count("ListFragments") == began + 1  # not retried
    env.emu.throttle("ListFragments", None)
    ok(retrying.list_fragments(**query))
