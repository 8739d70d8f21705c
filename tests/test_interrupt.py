"""Ctrl-C during a download or an export: a real SIGINT to a child process, against a slow emulator."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from exports import files, rows

import kvarchive
from kvarchive.testing import Emulator

T0 = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
START, END = "2026-01-01T12:00:00Z", "2026-01-01T12:10:00Z"

# The library as a user's script uses it; after Ctrl-C it reports when the call
# gave up, and when it held no more sockets than the idle pooled connections
# (control plane and data plane, one each).
SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    from kvarchive import ArchivedMediaClient

    def sockets():
        links = []
        for fd in os.listdir("/proc/self/fd"):
            try:
                links.append(os.readlink(f"/proc/self/fd/{fd}"))
            except OSError:  # the descriptor listdir itself used
                pass
        return sum(link.startswith("socket:") for link in links)

    kv = ArchivedMediaClient(endpoint_url=sys.argv[1], region_name="us-east-1")
    deadline = time.monotonic() + 60
    try:
        kv.download(
            stream_name="cam", start=sys.argv[2], end=sys.argv[3], path=sys.argv[4],
            concurrency=int(sys.argv[5]),
        )
    except KeyboardInterrupt:
        print("interrupted", time.monotonic(), flush=True)
        while sockets() > 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        print("closed", time.monotonic(), flush=True)
        sys.exit(130)
    print("finished", flush=True)
    """
)


@pytest.fixture
def slow(emulator: Emulator) -> Emulator:
    """An emulator with 60 fragments of 64 KiB sent at 200 kB/s per connection."""
    emulator.add_stream("cam", fragment_count=60, start=T0, payload_size=64 * 1024)
    emulator.bandwidth(200_000)
    return emulator


def interrupt_when_fetching(
    emulator: Emulator, child: subprocess.Popen[str], connections: int
) -> float:
    """Send SIGINT once ``connections`` media requests are under way; return when it was sent."""
    deadline = time.monotonic() + 30
    while emulator.count("GetMediaForFragmentList") < connections:
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "the download never started"
        time.sleep(0.02)
    time.sleep(0.3)
    sent = time.monotonic()
    child.send_signal(signal.SIGINT)
    return sent


def interrupted(
    emulator: Emulator, argv: list[str], connections: int
) -> tuple[float, subprocess.CompletedProcess[str], float]:
    """Run ``argv``, SIGINT it mid-download; return when the signal went, the result, when it ended."""
    child = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    with child:
        try:
            sent = interrupt_when_fetching(emulator, child, connections)
            stdout, stderr = child.communicate(timeout=60)
            ended = time.monotonic()
        finally:
            child.kill()
    return sent, subprocess.CompletedProcess(argv, child.returncode, stdout, stderr), ended


@pytest.mark.parametrize("concurrency", [1, 4])
def test_ctrl_c_stops_a_library_download_at_once(
    slow: Emulator, tmp_path: Path, concurrency: int
) -> None:
    """After SIGINT, download() gives up within a second, drops its connections, leaves no file."""
    out = tmp_path / "out"
    out.mkdir()
    argv = [sys.executable, "-c", SCRIPT, slow.endpoint_url, START, END, str(out / "x.mkv")]
    sent, done, _ = interrupted(slow, [*argv, str(concurrency)], concurrency)
    requests = [r for r in slow.requests if r.operation == "GetMediaForFragmentList"]
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert "interrupted" in lines and "closed" in lines, done.stderr
    assert float(lines["interrupted"]) - sent < 1.0
    assert float(lines["closed"]) - sent < 1.0
    assert len(requests) == concurrency  # no new request, and no resume, after Ctrl-C
    assert done.returncode == 130
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("concurrency", [1, 4])
def test_ctrl_c_stops_the_cli_download_at_once(
    slow: Emulator, tmp_path: Path, concurrency: int
) -> None:
    """``kvarchive download`` exits 130 within a second of SIGINT, saying so, leaving no file."""
    out = tmp_path / "out"
    out.mkdir()
    argv = [sys.executable, "-m", "kvarchive", "--endpoint-url", slow.endpoint_url]
    argv += ["--region", "us-east-1", "download", "--stream-name", "cam", "--start", START]
    argv += ["--end", END, "-o", str(out / "x.mkv"), "--concurrency", str(concurrency)]
    sent, done, ended = interrupted(slow, argv, concurrency)
    assert ended - sent < 1.0
    assert done.returncode == 130
    assert done.stderr == "kvarchive: interrupted\n"  # what the user asked for: not an error
    assert done.stdout == ""
    assert list(out.iterdir()) == []


def test_the_emulator_is_slow_enough_to_interrupt(slow: Emulator) -> None:
    """The download above would take many seconds: the bound of one second means something."""
    stream = slow.stream("cam")
    assert stream.total_size / 4 / 200_000 > 4
    assert stream.fragments[-1].server_timestamp < T0 + timedelta(minutes=10)


# An export on a process pool, as a user's script runs one; Ctrl-C reaches this process alone
# (not its workers, as a terminal's would), so only the export can stop them.
EXPORT_SCRIPT = textwrap.dedent(
    """
    import sys
    from concurrent.futures import ProcessPoolExecutor
    import kvarchive

    if __name__ == "__main__":
        kv = kvarchive.ArchivedMediaClient(endpoint_url=sys.argv[1], region_name="us-east-1")
        try:
            with ProcessPoolExecutor(4) as pool:
                kvarchive.export(kv, "slow", sys.argv[2], sys.argv[3], sys.argv[4], shard=10,
                                 executor=pool)
        except KeyboardInterrupt:
            sys.exit(130)
    """
)


def test_ctrl_c_stops_an_export_on_a_process_pool_and_a_rerun_fetches_only_the_rest(
    emulator: Emulator, tmp_path: Path
) -> None:
    """SIGINT mid-way through an export on four worker processes: exit 130 within 2 s, a row for
    every whole file and no other file, and a second run requests only the missing shards."""
    emulator.add_stream("slow", fragment_count=60, start=T0, payload_size=256 * 1024)
    emulator.bandwidth(200_000)  # a shard of 5 fragments takes over 6 s
    out = tmp_path / "export"
    argv = [sys.executable, "-c", EXPORT_SCRIPT, emulator.endpoint_url, START, END, str(out)]
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with child:
        try:
            manifest = out / "manifest.jsonl"
            deadline = time.monotonic() + 60
            while not manifest.exists() or len(manifest.read_text().splitlines()) < 4:
                assert child.poll() is None and time.monotonic() < deadline, child.communicate()
                time.sleep(0.02)
            time.sleep(1.0)  # the next four shards are a second into their 6 s
            sent = time.monotonic()
            child.send_signal(signal.SIGINT)
            _, stderr = child.communicate(timeout=60)
            ended = time.monotonic()
        finally:
            child.kill()
    assert ended - sent < 2.0
    assert child.returncode == 130, stderr
    finished = {row["file"] for row in rows(out)}
    assert 4 <= len(finished) < 12
    assert set(files(out)) == finished | {"manifest.jsonl"}  # no partial or temporary file
    emulator.bandwidth(None)
    emulator.clear_requests()
    with emulator.client() as kv:
        result = kvarchive.export(kv, "slow", START, END, out, shard=10)
    assert len(result.shards) == 12 and result.failed == []
    assert sum(r.skipped for r in result.shards) == len(finished)
    assert emulator.count("GetMediaForFragmentList") == 12 - len(finished)
