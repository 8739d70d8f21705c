"""Every example runs: the script and the Lambda handlers (the notebook: test_clean_machine)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from kvarchive.testing import Emulator

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


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
