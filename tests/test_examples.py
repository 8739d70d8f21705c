"""Every example runs: the script and the Lambda handlers (the notebook: test_clean_machine)."""

from __future__ import annotations

import array
import ast
import importlib.util
import json
import time
import urllib.parse
import urllib.request
import wave
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from example_commands import EXAMPLES, no_account_block, run_example
from follow_checks import assert_followed, within_rate

from kvarchive.testing import Emulator, call_voices


def load(name: str) -> ModuleType:
    """Import examples/<name>.py afresh, as a cold Lambda container would."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_download_script(emulator: Emulator, tmp_path: Path, capsys: Any) -> None:
    """The download script saves the last minutes of a stream as one file."""
    emulator.add_stream("cam", fragment_count=6, payload_size=512)  # ends now
    out = tmp_path / "last.mkv"
    script = load("download_last_minutes")
    code = script.main(
        [
            "--stream-name",
            "cam",
            "--minutes",
            "2",
            "-o",
            str(out),
            "--endpoint-url",
            emulator.endpoint_url,
        ]
    )
    assert code == 0
    assert out.read_bytes()[:4] == b"\x1a\x45\xdf\xa3"
    assert "6 fragments" in capsys.readouterr().out


def test_lambda_handlers_reuse_one_endpoint_resolution(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twenty invocations of the HLS handler cost one GetDataEndpoint in all."""
    emulator.add_stream("cam", fragment_count=5, payload_size=256)  # recent: LIVE works
    monkeypatch.setenv("KVARCHIVE_ENDPOINT_URL", emulator.endpoint_url)
    handler = load("lambda_handler")
    try:
        for _ in range(20):
            response = handler.hls_url({"queryStringParameters": {"stream": "cam"}}, None)
            assert response["statusCode"] == 200
            assert emulator.session_token in json.loads(response["body"])["url"]
        listed = handler.list_fragments(
            {"queryStringParameters": {"stream": "cam", "minutes": "5"}}, None
        )
        assert len(json.loads(listed["body"])["fragments"]) == 5
    finally:
        handler.KV.close()
    assert emulator.count("GetDataEndpoint") == 2  # one per API name
    assert emulator.count("GetHLSStreamingSessionURL") == 20


def test_lambda_handler_errors_are_http_answers(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A missing stream is a 404 with the request id; a bad argument is a 400 with no request."""
    monkeypatch.setenv("KVARCHIVE_ENDPOINT_URL", emulator.endpoint_url)
    handler = load("lambda_handler")
    try:
        missing = handler.hls_url({"queryStringParameters": {"stream": "nope"}}, None)
        bad = handler.hls_url({"queryStringParameters": {"stream": "cam", "expires": "5"}}, None)
    finally:
        handler.KV.close()
    assert missing["statusCode"] == 404
    assert json.loads(missing["body"])["request_id"]
    assert bad["statusCode"] == 400
    assert "expires" in json.loads(bad["body"])["error"]


# -- lambda_follow: a scheduled follower with an S3 checkpoint ---------------------------


class LambdaContext:
    """What the Lambda runtime passes as ``context``: here only the time left."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self.deadline - time.monotonic()) * 1000)


@pytest.mark.parametrize("store", ["s3", "dynamodb"])
def test_scheduled_runs_handle_every_fragment_exactly_once(
    emulator: Emulator,
    s3_bucket: tuple[Any, str],
    moto_server_url: str,
    monkeypatch: pytest.MonkeyPatch,
    store: str,
) -> None:
    """Three runs of 4 s with pauses between, on a stream listed late and out of order, then
    one more once it stops growing: every fragment handled once, in order, none lost; the
    position kept in S3, or in DynamoDB with CHECKPOINT_TABLE."""
    s3, bucket = s3_bucket
    dynamodb = boto3.client("dynamodb", endpoint_url=moto_server_url, region_name="us-east-1")
    if store == "dynamodb":
        table = f"kvarchive-follow-{bucket}"
        dynamodb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        monkeypatch.setenv("CHECKPOINT_TABLE", table)
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", moto_server_url)
    for name, value in {
        "KVARCHIVE_ENDPOINT_URL": emulator.endpoint_url,
        "AWS_ENDPOINT_URL_S3": moto_server_url,
        "STREAM_NAME": "cam",
        "CHECKPOINT_BUCKET": bucket,
        "SETTLE": "0.9",
        "POLL": "0.25",
        "MARGIN": "0.8",
    }.items():
        monkeypatch.setenv(name, value)
    emulator.add_stream("cam", fragment_count=1, fragment_duration_ms=250, payload_size=256)
    producer = emulator.start_producing("cam", visibility_delay=(0.0, 0.3))
    handler = load("lambda_follow")
    summaries = []
    began = time.time()
    try:
        for run in range(4):
            if run == 3:
                producer.stop()  # the last run handles what the others left, and nothing new
            context = LambdaContext(4.0)  # room for a cold client on a busy machine
            summaries.append(handler.handler({}, context))
            assert context.get_remaining_time_in_millis() > 0  # returned before the deadline
            time.sleep(0.3)  # between scheduled runs the stream grows unwatched
    finally:
        producer.stop()
        handler.KV.close()

    handled = [number for summary in summaries for number in summary["numbers"]]
    assert all(summary["fragments"] >= 2 for summary in summaries[:3])
    assert len(handled) >= 12
    fragments = emulator.stream("cam").fragments
    first = next(f.server_timestamp for f in fragments if f.number == handled[0])
    assert first.timestamp() - began < 0.4  # the first run started at its "now"
    until = datetime.fromisoformat(summaries[-1]["until"])
    assert fragments[-1].server_timestamp < until  # the last run's range covers the stream
    assert_followed(handled, fragments, start=first, until=until)
    if store == "dynamodb":
        item = dynamodb.get_item(TableName=table, Key={"key": {"S": "cam"}})["Item"]
        state = json.loads(item["state"]["S"])
    else:
        state = json.loads(s3.get_object(Bucket=bucket, Key="follow/cam.json")["Body"].read())
    assert state["last"]["number"] == handled[-1]
    for operation in ("ListFragments", "GetMediaForFragmentList"):
        times = [r.time for r in emulator.requests if r.operation == operation]
        assert within_rate(times), operation


# -- each script run exactly as its docstring says, with no AWS account -------------------


def test_every_script_says_how_to_run_it_with_no_aws_account() -> None:
    """Each script in examples/ has a "With no AWS account" block of commands."""
    for script in sorted(EXAMPLES.glob("*.py")):
        assert no_account_block(script), script.name


def test_download_script_runs_as_its_docstring_says(tmp_path: Path) -> None:
    """The download script's no-account commands save the emulator's 10 s sample as one MKV."""
    result = run_example("download_last_minutes", tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("last5.mkv: 10 fragments, ")
    assert (tmp_path / "last5.mkv").read_bytes()[:4] == b"\x1a\x45\xdf\xa3"


def test_lambda_handler_runs_as_its_docstring_says(tmp_path: Path) -> None:
    """The HLS handler's no-account invocation answers 200 with an emulator URL."""
    result = run_example("lambda_handler", tmp_path)
    assert result.returncode == 0, result.stderr
    response = ast.literal_eval(result.stdout)
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["url"].startswith("http://127.0.0.1:")


def test_lambda_follow_runs_as_its_docstring_says(tmp_path: Path) -> None:
    """The scheduled follower's no-account invocation returns a summary for the stream, having
    handled nothing on a stream that does not grow."""
    result = run_example("lambda_follow", tmp_path)
    assert result.returncode == 0, result.stderr
    summary = ast.literal_eval(result.stdout)
    assert summary["stream"] == "demo"
    assert summary["fragments"] == 0 and summary["numbers"] == []


def test_dask_export_runs_as_its_docstring_says(tmp_path: Path) -> None:
    """The Dask export's no-account command exports three emulated streams into export/."""
    result = run_example("dask_export", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[0] == "manifest: export/manifest.jsonl"
    assert lines[-1].endswith("bytes written, 0 shards failed")
    assert (tmp_path / "export" / "manifest.jsonl").stat().st_size > 0


# -- lambda_connect: a call's WAV at the contact's end -------------------------------------


def contact_end(stream: Any, parameters: dict[str, str]) -> dict[str, Any]:
    """The event Connect's disconnect flow sends for a call on ``stream``, its whole range."""
    first, last = stream.fragments[0], stream.fragments[-1]
    audio = {
        "StreamARN": stream.arn,
        "StartFragmentNumber": first.number,
        "StartTimestamp": str(first.producer_ms),
        "StopFragmentNumber": last.number,
        "StopTimestamp": str(last.producer_ms + last.duration_ms),
    }
    contact = {"ContactId": "c-42", "MediaStreams": {"Customer": {"Audio": audio}}}
    return {"Details": {"ContactData": contact, "Parameters": parameters}}


@pytest.mark.parametrize(
    ("parameters", "tracks"),
    [({}, (0, 1)), ({"AudioToCustomer": "false"}, (0,))],
    ids=["both sides", "customer only"],
)
def test_connect_handler_writes_the_calls_wav(
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    parameters: dict[str, str],
    tracks: tuple[int, ...],
) -> None:
    """At the contact's end the handler writes CALLS_DIR/<ContactId>.wav: the voices said."""
    stream = emulator.add_call_stream("call", fragment_count=6)
    monkeypatch.setenv("KVARCHIVE_ENDPOINT_URL", emulator.endpoint_url)
    monkeypatch.setenv("CALLS_DIR", str(tmp_path / "calls"))
    handler = load("lambda_connect")
    try:
        answer = handler.handler(contact_end(stream, parameters))
    finally:
        handler.KV.close()
    path = tmp_path / "calls" / "c-42.wav"
    assert answer["path"] == str(path) and answer["seconds"] == "6.000"
    with wave.open(str(path)) as wav:
        assert wav.getnchannels() == len(tracks) and wav.getframerate() == 8000
        assert wav.readframes(wav.getnframes()) == call_wav_frames(tracks)


def call_wav_frames(tracks: tuple[int, ...]) -> bytes:
    """The PCM frames of the emulator's six-second call with ``tracks`` interleaved."""
    voices = [array.array("h", call_voices()[t] * 2) for t in tracks]
    expected = array.array("h", bytes(2 * len(voices[0]) * len(voices)))
    for index, voice in enumerate(voices):
        expected[index :: len(voices)] = voice
    return expected.tobytes()


def connect_to_s3(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, moto_server_url: str, bucket: str
) -> tuple[Any, dict[str, str]]:
    """The emulated call and the handler's answer with CALLS_DIR in moto's S3 (60 s links)."""
    stream = emulator.add_call_stream("call", fragment_count=6)
    monkeypatch.setenv("KVARCHIVE_ENDPOINT_URL", emulator.endpoint_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server_url)
    monkeypatch.setenv("CALLS_DIR", f"s3://{bucket}/calls/")
    monkeypatch.setenv("PRESIGN_SECONDS", "60")
    handler = load("lambda_connect")
    try:
        return stream, handler.handler(contact_end(stream, {}))
    finally:
        handler.KV.close()


def test_connect_handler_links_the_calls_wav_in_s3(
    emulator: Emulator,
    kv: Any,
    monkeypatch: pytest.MonkeyPatch,
    moto_server_url: str,
    s3_bucket: tuple[Any, str],
    tmp_path: Path,
) -> None:
    """With CALLS_DIR in S3, the answer's presigned link serves the bytes a local download of
    the same range writes."""
    stream, answer = connect_to_s3(emulator, monkeypatch, moto_server_url, s3_bucket[1])
    assert answer["path"] == f"s3://{s3_bucket[1]}/calls/c-42.wav"
    audio = contact_end(stream, {})["Details"]["ContactData"]["MediaStreams"]["Customer"]
    local = kv.download_audio(
        stream_arn=stream.arn,
        start=datetime.fromtimestamp(int(audio["Audio"]["StartTimestamp"]) / 1000, timezone.utc),
        end=datetime.fromtimestamp(int(audio["Audio"]["StopTimestamp"]) / 1000, timezone.utc),
        path=tmp_path / "local.wav",
        timestamp_type="PRODUCER_TIMESTAMP",
    )
    with urllib.request.urlopen(answer["url"]) as response:
        assert response.read() == Path(local.path).read_bytes()


def test_connect_handler_links_last_presign_seconds(
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    moto_server_url: str,
    s3_bucket: tuple[Any, str],
) -> None:
    """The link the handler returns expires after PRESIGN_SECONDS."""
    _, answer = connect_to_s3(emulator, monkeypatch, moto_server_url, s3_bucket[1])
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(answer["url"]).query)
    assert query["X-Amz-Expires"] == ["60"]


def test_lambda_connect_runs_as_its_docstring_says(tmp_path: Path) -> None:
    """The Connect handler's no-account invocation puts the emulated call's six seconds in
    moto's S3, and its link serves them."""
    result = run_example("lambda_connect", tmp_path)
    assert result.returncode == 0, result.stderr
    answer = ast.literal_eval(result.stdout)
    assert answer["tracks"] == "AUDIO_FROM_CUSTOMER,AUDIO_TO_CUSTOMER"
    assert answer["seconds"] == "6.000"
    assert answer["path"] == "s3://calls/connect/example-contact.wav"
    with wave.open(str(tmp_path / "call.wav")) as wav:
        assert wav.getnchannels() == 2
        assert wav.readframes(wav.getnframes()) == call_wav_frames((0, 1))
