"""Figure 11: download(path="s3://...") against a download to disk, then boto3's upload_file."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common import (
    BENCH_DIR,
    MB,
    MIB,
    REGION,
    Row,
    judge,
    median,
    median_ratio,
    process_cpu_seconds,
    target_row,
)

if TYPE_CHECKING:
    from cases import Context

BUCKET = "kvarchive-bench"
PARTS_HELD = 3  # the target: at most three parts in memory, plus 64 MB


@contextlib.contextmanager
def moto_server() -> Iterator[tuple[str, int]]:
    """moto's S3 server in a process of its own on a free port; yields its URL and pid."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("moto_server did not start")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


def figure11_s3(ctx: Context) -> list[Row]:
    """A 200 MB recording to S3: time and peak RSS growth, ours against download + upload_file."""
    import boto3

    from kvarchive._aws.s3_upload import PART_SIZE

    stream = ctx.stream("s3", fragment_count=100, payload_size=2 * MIB, magic="never")
    end = (stream.last + timedelta(hours=1)).isoformat()  # past the last fragment
    reps = ctx.sizes.s3_reps
    with moto_server() as (url, moto_pid):
        boto3.client("s3", endpoint_url=url, region_name=REGION).create_bucket(Bucket=BUCKET)

        def child(side: str) -> dict[str, Any]:
            argv = [sys.executable, str(BENCH_DIR / "s3_child.py"), side, ctx.emu.endpoint_url]
            argv += [stream.name, stream.first.isoformat(), end, BUCKET, str(ctx.tmpdir)]
            env = {**os.environ, "AWS_ENDPOINT_URL_S3": url}
            servers = ctx.emu.cpu_seconds() + process_cpu_seconds(moto_pid)
            out = subprocess.run(argv, check=True, capture_output=True, text=True, env=env)
            result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
            servers = ctx.emu.cpu_seconds() + process_cpu_seconds(moto_pid) - servers
            result["all_cpu_seconds"] = result["cpu_seconds"] + servers  # servers: warm-up too
            if result["bytes"] != result["object_bytes"] or result["bytes"] < 200 * MB:
                raise RuntimeError(f"{side}: an object of {result['object_bytes']} bytes")
            return result

        for side in ("kv", "raw"):
            child(side)  # untimed: the emulator's cache and moto warmed for both
        runs: dict[str, list[dict[str, Any]]] = {"kv": [], "raw": []}
        for rep in range(reps):
            for side in ("kv", "raw") if rep % 2 == 0 else ("raw", "kv"):
                runs[side].append(child(side))
    if {run["bytes"] for done in runs.values() for run in done} != {runs["kv"][0]["bytes"]}:
        raise RuntimeError("the two sides wrote objects of different sizes")
    seconds = {side: [run["seconds"] for run in done] for side, done in runs.items()}
    cpu = {side: [run["all_cpu_seconds"] for run in done] for side, done in runs.items()}
    growth = {side: [run["growth_mb"] for run in done] for side, done in runs.items()}
    limit = PARTS_HELD * PART_SIZE / MB + 64
    size = f"{runs['kv'][0]['bytes'] / MB:.0f} MB"
    ctx.note(
        "11",
        f"{stream.count} fragments, {size}, to moto's S3 server (its own process); each side in "
        f"a fresh process, clients warmed, timed and measured there ({runs['kv'][0]['method']}); "
        "the raw side downloads with kvarchive to a local file (the whole object on local "
        "disk, which Lambda's /tmp may not hold), then boto3's upload_file; the emulator's "
        "cache and moto warmed by one untimed run of each side first; seconds of each repetition: "
        + "; ".join(
            f"{side} {', '.join(f'{t:.2f}' for t in times)}" for side, times in seconds.items()
        ),
    )
    return [
        target_row(
            "11",
            f"download() {size} to s3:// vs to disk + upload_file",
            kv=median(seconds["kv"]),
            raw=median(seconds["raw"]),
            unit="s",
            ratio=median_ratio(seconds["kv"], seconds["raw"]),
            op="<=",
            limit=0.9,
            n=reps,
            raw_label="download, upload_file",
        ),
        Row(
            "11",
            "  CPU s of the writer + emulator + moto",
            median(cpu["kv"]),
            median(cpu["raw"]),
            "s",
            median_ratio(cpu["kv"], cpu["raw"]),
            "(info)",
            "info",
            reps,
            "download, upload_file",
        ),
        Row(
            "11",
            "  peak RSS growth of each",
            median(growth["kv"]),
            median(growth["raw"]),
            "MB",
            None,
            f"kv <= {limit:.0f} MB (3 parts + 64)",
            judge(median(growth["kv"]), "<=", limit),
            reps,
            "download, upload_file",
        ),
    ]
