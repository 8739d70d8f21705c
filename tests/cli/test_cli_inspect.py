"""``kvarchive inspect``: the report as text and as JSON with the same facts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kvarchive.cli import main
from kvarchive.testing import Emulator


def run(emulator: Emulator, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    base = ["--endpoint-url", emulator.endpoint_url, "--region", "us-east-1"]
    status = main([*base, "inspect", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_inspect_json_has_the_reports_facts(
    emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """``inspect --output json``: the tracks and each API's ok and reason, as kv.inspect() says."""
    emulator.add_sample_stream("cam")
    status, out, err = run(emulator, capsys, "--stream-name", "cam", "--output", "json")
    assert status == 0, err
    record: dict[str, Any] = json.loads(out)
    assert [t["format"] for t in record["tracks"]] == ["H.264", "AAC"]
    assert record["supports"]["HLS"] == {
        "ok": True,
        "reason": "HLS works, LIVE and ON_DEMAND",
        "live": True,
    }
    assert record["retention_hours"] == 24 and record["problems"] == []


def test_inspect_text_lists_every_api(
    emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """The default text names each API with yes, no or unknown and its reason."""
    emulator.add_sample_stream("cam", retention_hours=0)
    status, out, err = run(emulator, capsys, "--stream-name", "cam")
    assert status == 0, err
    lines = [line.strip() for line in out.splitlines()]
    assert (
        "GetClip: no - the stream keeps no archive (data retention 0 hours): the service answers NoDataRetentionException"
        in lines
    )
    assert sum(line.split(":")[0] in ("HLS", "DASH", "GetImages") for line in lines) == 3


def test_inspect_of_an_unknown_stream_exits_1_on_one_line(
    emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown stream: status 1 and the service's ResourceNotFound on one line."""
    status, out, err = run(emulator, capsys, "--stream-name", "nobody")
    assert (status, out) == (1, "")
    assert len(err.strip().splitlines()) == 1 and "ResourceNotFound" in err


def test_inspect_needs_a_stream(emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    """Without --stream-name or --stream-arn, the usage error names both flags."""
    status, out, err = run(emulator, capsys, "--output", "json")
    assert (status, out) == (2, "")
    assert "--stream-name --stream-arn is required" in err
