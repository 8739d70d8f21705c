"""``kvarchive export``: many streams into shard files and a manifest, in threads or on Dask."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from exports import files, rows, two_streams

from kvarchive.cli import main
from kvarchive.testing import Emulator

T0 = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
RANGE = ["--start", "2026-01-01T12:00:00Z", "--end", "2026-01-01T13:00:00Z"]


@pytest.fixture
def base(emulator: Emulator) -> list[str]:
    """The options that point the command line at the emulator, with two streams in it."""
    two_streams(emulator)
    return ["--endpoint-url", emulator.endpoint_url, "--region", "us-east-1"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``main(argv)``; return its status, stdout and stderr."""
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_export_prints_the_manifest_and_a_table_per_stream(
    base: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two streams on four threads: the manifest's path, then one row per stream with its counts."""
    out = tmp_path / "export"
    args = ["export", "--stream-name", "cam", "--stream-name", "door", *RANGE, "--shard", "20s"]
    status, stdout, stderr = run(capsys, *args, "--workers", "4", "-o", str(out), *base)
    assert status == 0, stderr
    lines = stdout.splitlines()
    assert lines[0] == f"manifest: {out / 'manifest.jsonl'}"
    assert lines[1].split() == ["STREAM", "SHARDS", "FRAGMENTS", "BYTES", "SKIPPED", "FAILED"]
    cam_bytes = sum(r["bytes"] for r in rows(out) if r["stream"] == "cam")
    assert lines[2].split() == ["cam", "3", "25", str(cam_bytes), "0", "0"]
    assert lines[3].split()[:3] == ["door", "2", "12"]
    assert len(rows(out)) == 5


def test_export_json_and_a_rerun_that_skips_everything(
    base: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--output json gives the same counts as plain values; run again, every shard is skipped."""
    args = ["export", "--stream-name", "cam", *RANGE, "--shard", "0.5m", "-o", str(tmp_path)]
    assert run(capsys, *args, *base)[0] == 0
    status, stdout, _ = run(capsys, *args, "--output", "json", *base)
    record = json.loads(stdout)
    assert status == 0
    assert record["manifest"] == str(tmp_path / "manifest.jsonl")
    assert record["bytes_written"] == 0 and record["failed"] == []
    (cam,) = record["streams"]
    assert cam["stream"] == "cam" and cam["shards"] == cam["skipped"] == 2
    assert cam["fragments"] == 25


def test_a_stream_named_before_the_command_is_exported(
    base: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--stream-name given before "export", as the AWS CLI allows, names the one stream."""
    status, _, stderr = run(
        capsys, "--stream-name", "door", "export", *RANGE, "-o", str(tmp_path), *base
    )
    assert status == 0, stderr
    assert {r["stream"] for r in rows(tmp_path)} == {"door"}


@pytest.mark.parametrize(
    "extra",
    [["--shard", "ten minutes"], ["--workers", "0"], ["--workers", "2", "--scheduler", "x:1"]],
)
def test_bad_export_options_are_usage_errors(
    base: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str]
) -> None:
    """A shard length that is no length, no workers, or both --workers and --scheduler: exit 2."""
    args = ["export", "--stream-name", "cam", *RANGE, "-o", str(tmp_path), *extra, *base]
    status, _, stderr = run(capsys, *args)
    assert status == 2 and "kvarchive export: error:" in stderr


def test_a_failed_shard_fails_the_command_after_the_others(
    base: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With one shard's file blocked, the table is printed and the command exits 1 with one line
    naming the shard and its error."""
    (tmp_path / "cam" / "20260101T120020Z.mkv").mkdir(parents=True)
    args = ["export", "--stream-name", "cam", *RANGE, "--shard", "20s", "-o", str(tmp_path)]
    status, stdout, stderr = run(capsys, *args, *base)
    assert status == 1
    assert stdout.splitlines()[2].split() == ["cam", "3", "25", stdout.split()[-3], "0", "1"]
    (line,) = stderr.strip().splitlines()
    assert line.startswith("kvarchive: error: 1 of 3 shards failed")
    assert "cam/20260101T120020Z.mkv: ValidationError" in line


def test_export_on_a_dask_scheduler_writes_what_threads_write(
    base: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--scheduler submits to a running Dask cluster; its files and manifest are the threads'."""
    distributed = pytest.importorskip(
        "distributed", reason="dask.distributed is not installed (pip install kvarchive[dask])"
    )
    worker_env = {"AWS_ACCESS_KEY_ID": "AKIADASK", "AWS_SECRET_ACCESS_KEY": "dask-secret"}
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=True, dashboard_address=":0", env=worker_env
    )
    args = ["export", "--stream-name", "cam", "--stream-name", "door", *RANGE, "--shard", "20s"]
    with cluster:
        scheduler = cluster.scheduler_address
        status, _, stderr = run(
            capsys, *args, "--scheduler", scheduler, "-o", str(tmp_path / "d"), *base
        )
    assert status == 0, stderr
    assert run(capsys, *args, "-o", str(tmp_path / "t"), *base)[0] == 0
    assert files(tmp_path / "d") == files(tmp_path / "t")


def slow_stream(emulator: Emulator) -> list[str]:
    """A stream "slow" of 15 shards of 10 s (5 fragments of 256 KiB each) sent at 200 kB/s per
    connection, so that a shard takes over 6 s; the export's arguments for it."""
    emulator.add_stream("slow", fragment_count=75, start=T0, payload_size=256 * 1024)
    emulator.bandwidth(200_000)
    args = ["export", "--stream-name", "slow", *RANGE, "--shard", "10s"]
    return [*args, "--endpoint-url", emulator.endpoint_url, "--region", "us-east-1"]


def interrupt_after_rows(child: subprocess.Popen[bytes], manifest: Path, count: int) -> float:
    """SIGINT ``child`` a second after ``manifest`` holds ``count`` rows; return when it went."""
    deadline = time.monotonic() + 60
    while not manifest.exists() or len(manifest.read_text().splitlines()) < count:
        assert child.poll() is None and time.monotonic() < deadline, child.communicate()
        time.sleep(0.02)
    time.sleep(1.0)  # the next shards are a second into their 6 s
    sent = time.monotonic()
    child.send_signal(signal.SIGINT)
    return sent


@pytest.mark.parametrize("workers", [[], ["--workers", "3"]], ids=["default", "workers"])
def test_ctrl_c_stops_an_export_at_once_and_the_next_run_fetches_only_the_rest(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], workers: list[str]
) -> None:
    """SIGINT to an export on threads mid-way: exit 130 within 2 s, a manifest row for every
    whole file and no other file, and the same command again requests only the rest."""
    out = tmp_path / "export"
    args = [*slow_stream(emulator), *workers, "-o", str(out)]
    child = subprocess.Popen(
        [sys.executable, "-m", "kvarchive", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    sent = interrupt_after_rows(child, out / "manifest.jsonl", 3 if workers else 5)
    _, stderr = child.communicate(timeout=60)
    assert time.monotonic() - sent < 2.0
    assert child.returncode == 130, stderr
    finished = {row["file"] for row in rows(out)}
    assert 3 <= len(finished) < 15
    assert set(files(out)) == finished | {"manifest.jsonl"}  # no partial or temporary file
    emulator.bandwidth(None)
    emulator.clear_requests()
    status, stdout, stderr = run(capsys, *args, "--output", "json")
    assert status == 0, stderr
    (slow,) = json.loads(stdout)["streams"]
    assert slow["shards"] == 15 and slow["skipped"] == len(finished)
    assert emulator.count("GetMediaForFragmentList") == 15 - len(finished)
    assert {row["file"] for row in rows(out)} == set(files(out)) - {"manifest.jsonl"}
