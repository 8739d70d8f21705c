"""kvarchive.export() on a Dask cluster of worker processes, against the emulator over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from exports import files, recorded, rows, two_streams

import kvarchive
from kvarchive.testing import Emulator

distributed = pytest.importorskip(
    "distributed", reason="dask.distributed is not installed (pip install kvarchive[dask])"
)

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
END = T0 + timedelta(hours=1)
SHARD = timedelta(seconds=20)
SAMPLE = ["car-park", "front-door", "loading-bay"]  # the example's emulated streams, sorted
# What every worker signs with: the emulator checks no signature, but botocore needs keys.
WORKER_ENV = {
    "AWS_ACCESS_KEY_ID": "AKIADASKWORKER",
    "AWS_SECRET_ACCESS_KEY": "dask-worker-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": "/nonexistent/kvarchive-tests/config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/kvarchive-tests/credentials",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Any]:
    """A local cluster of two worker processes, two threads each, and a client of it.

    Its HTTP server takes a free port: with None it still binds 8787, and a cluster of another
    test run on this machine then makes it warn (an error here).
    """
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=2, processes=True, dashboard_address=":0", env=WORKER_ENV
    )
    with cluster, distributed.Client(cluster) as client:
        yield client


@pytest.fixture
def streams(emulator: Emulator) -> list[str]:
    """Two streams: "cam" (3 shards of 20 s) and "door" (2)."""
    return two_streams(emulator)


def test_a_dask_cluster_writes_what_one_process_writes(
    emulator: Emulator, streams: list[str], tmp_path: Path, dask_client: Any
) -> None:
    """The same export in this process and on Dask worker processes gives byte-identical shard
    files and manifests, and its shards hold each stream's fragments once, in order."""
    kv = emulator.client()
    kvarchive.export(kv, streams, T0, END, tmp_path / "local", shard=SHARD)
    result = kvarchive.export(
        kv, streams, T0, END, tmp_path / "dask", shard=SHARD, executor=dask_client
    )
    assert result.failed == [] and len(result.shards) == 5
    assert files(tmp_path / "dask") == files(tmp_path / "local")
    for name in streams:
        shard_numbers = [
            n
            for row in rows(tmp_path / "dask")
            if row["stream"] == name
            for n in recorded(tmp_path / "dask" / row["file"])[0]
        ]
        assert shard_numbers == [f.number for f in emulator.stream(name).fragments]


def test_a_failed_first_attempt_is_run_again_as_a_new_task(
    emulator: Emulator, streams: list[str], tmp_path: Path, dask_client: Any
) -> None:
    """One refused request fails one shard's first attempt; its resubmission is a new task
    (not Dask's cached failure), and the export ends whole."""
    emulator.fail_next("GetMediaForFragmentList", "NotAuthorizedException")
    result = kvarchive.export(
        emulator.client(), streams, T0, END, tmp_path, shard=SHARD, executor=dask_client
    )
    assert result.failed == []
    assert sorted(r.attempts for r in result.shards) == [1, 1, 1, 1, 2]


def test_four_worker_threads_on_one_stream_keep_to_its_rate(
    emulator: Emulator, tmp_path: Path, dask_client: Any
) -> None:
    """With the emulator allowing 5 calls a second per stream, thirty quick shards on two
    processes of two threads all end on their first attempt, hardly a call throttled."""
    emulator.add_stream("cam", fragment_count=60, start=T0, payload_size=1024)
    for operation in ("GetMediaForFragmentList", "ListFragments", "GetDataEndpoint"):
        emulator.throttle(operation, 5)
    result = kvarchive.export(
        emulator.client(),
        ["cam"],
        T0,
        END,
        tmp_path,
        shard=timedelta(seconds=4),
        executor=dask_client,
    )
    assert len(result.shards) == 30 and result.failed == []
    assert all(r.attempts == 1 for r in result.shards)
    assert emulator.throttled_count < 10, emulator.throttled_count  # unpaced: dozens


def run_example(tmp_path: Path) -> list[str]:
    """Run examples/dask_export.py with no AWS configuration into tmp_path/out; its lines."""
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "dask_export.py"), "-o", "out"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.splitlines()


def test_the_dask_example_runs_on_a_clean_machine_and_resumes(tmp_path: Path) -> None:
    """examples/dask_export.py exports three streams on a local cluster with no AWS configuration;
    run again, as its docstring says, it finds every shard already written."""
    lines = run_example(tmp_path)
    assert lines[0] == f"manifest: {os.path.join('out', 'manifest.jsonl')}"
    # 15 minutes to the last whole hour in 2-minute shards: 8 cells of the grid.
    assert lines[1:4] == [f"{name}: 8 shards, 0 already written" for name in SAMPLE]
    assert lines[4].endswith("bytes written, 0 shards failed")
    assert len(rows(tmp_path / "out")) == 24
    before = files(tmp_path / "out")
    again = run_example(tmp_path)
    if again[1:4] != [f"{name}: 8 shards, 8 already written" for name in SAMPLE]:
        # Unless the hour turned between the runs: the emulator's recordings moved with it.
        assert datetime.now(timezone.utc).minute < 10, again
        return
    assert again[4] == "0 bytes written, 0 shards failed"
    assert files(tmp_path / "out") == before


def test_the_dask_example_stopped_by_ctrl_c_resumes_when_run_again(
    emulator: Emulator, tmp_path: Path
) -> None:
    """examples/dask_export.py on a cluster, SIGINT mid-way: it stops within 2 s leaving a row per
    whole file and no other file; run again as written, it requests only the missing shards."""
    # 48 fragments of 2 s from a whole minute, ten minutes ago: 8 shards of 12 s, each of
    # 6 fragments of 200 kB, which take 6 s at 200 kB/s.
    first = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=10)
    emulator.add_stream("slow", fragment_count=48, start=first, payload_size=200_000)
    emulator.bandwidth(200_000)
    env = {**WORKER_ENV, "AWS_ENDPOINT_URL_KINESIS_VIDEO": emulator.endpoint_url}
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=2, processes=True, dashboard_address=":0", env=env
    )
    with cluster:
        argv = [sys.executable, str(ROOT / "examples" / "dask_export.py")]
        argv += ["--scheduler", cluster.scheduler_address, "--stream-name", "slow"]
        argv += ["--region", "us-east-1", "--hours", "0.25", "--shard-minutes", "0.2"]
        argv += ["-o", str(tmp_path / "out")]
        run_env = {**os.environ, **env}
        child = subprocess.Popen(argv, env=run_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        with child:
            try:
                manifest = tmp_path / "out" / "manifest.jsonl"
                deadline = time.monotonic() + 120
                while not manifest.exists() or len(manifest.read_text().splitlines()) < 4:
                    assert child.poll() is None, child.communicate()
                    assert time.monotonic() < deadline
                    time.sleep(0.02)
                time.sleep(1.0)  # the next four shards are a second into their 6 s
                sent = time.monotonic()
                child.send_signal(signal.SIGINT)
                child.communicate(timeout=60)
                ended = time.monotonic()
            finally:
                child.kill()
        assert ended - sent < 2.0
        assert child.returncode == -signal.SIGINT  # the example leaves Ctrl-C to Python
        finished = {row["file"] for row in rows(tmp_path / "out")}
        assert 4 <= len(finished) < 8
        assert set(files(tmp_path / "out")) == finished | {"manifest.jsonl"}
        emulator.bandwidth(None)
        emulator.clear_requests()
        again = subprocess.run(argv, env=run_env, capture_output=True, text=True, check=False)
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout.splitlines()[1] == f"slow: 8 shards, {len(finished)} already written"
    assert emulator.count("GetMediaForFragmentList") == 8 - len(finished)
    assert len(rows(tmp_path / "out")) == 8
