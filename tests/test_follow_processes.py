"""Followers in processes of their own, killed with SIGKILL and restarted, on an S3 checkpoint."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from follow_checks import assert_followed

from kvarchive.testing import Emulator

WORKER = Path(__file__).resolve().parent / "follow_worker.py"


def logged(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def wait_for_lines(path: Path, count: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while len(logged(path)) < count:
        assert time.monotonic() < deadline, f"fewer than {count} fragments handled in {timeout}s"
        time.sleep(0.02)


def test_killed_followers_lose_nothing_and_repeat_at_most_the_fragment_in_hand(
    emulator: Emulator, s3_bucket: tuple[Any, str], moto_server_url: str, tmp_path: Path
) -> None:
    """Two SIGKILLs mid-run and two restarts, the last once the stream stopped growing: every
    fragment handled, in order, and only a fragment in hand at a kill twice."""
    _, bucket = s3_bucket
    emulator.add_stream("cam", fragment_count=1, fragment_duration_ms=100, payload_size=64)
    producer = emulator.start_producing("cam", visibility_delay=(0.0, 0.3))
    log = tmp_path / "handled.txt"
    start = datetime.now(timezone.utc).replace(microsecond=0)
    until = start + timedelta(seconds=4)
    command = [sys.executable, str(WORKER), emulator.endpoint_url, "cam", str(log)]
    command += [moto_server_url, bucket, "cam.json", start.isoformat(), until.isoformat()]
    last_before_kill = []
    for _ in range(2):
        with subprocess.Popen(command) as worker:
            wait_for_lines(log, len(logged(log)) + 4)
            worker.send_signal(signal.SIGKILL)
            assert worker.wait(timeout=5) == -signal.SIGKILL
        last_before_kill.append(logged(log)[-1])
    subprocess.run(command, check=True, timeout=30)  # to until, while the stream grows
    producer.stop()
    subprocess.run(command, check=True, timeout=30)  # what the run before left, if anything

    handled = logged(log)
    once = list(dict.fromkeys(handled))
    assert_followed(once, emulator.stream("cam").fragments, start=start, until=until)
    repeated = [n for i, n in enumerate(handled) if n in handled[:i]]
    assert set(repeated) <= set(last_before_kill)  # only a fragment in hand at a kill
    assert len(repeated) <= 2
