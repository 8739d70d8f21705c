"""Figure 6: the time ``import kvarchive`` takes, against ``import boto3``, in fresh processes."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING, Callable

from common import (
    REGION,
    Row,
    interleave,
    median,
    target_row,
)

if TYPE_CHECKING:
    from cases import Context


def figure6_import(ctx: Context) -> list[Row]:
    """Wall time of fresh ``python -c`` processes importing kvarchive vs boto3."""
    endpoint = ctx.emu.endpoint_url

    def process(code: str) -> Callable[[], float]:
        def run() -> float:
            subprocess.run([sys.executable, "-c", code], check=True)
            return 1.0

        return run

    client_kv = (
        "import kvarchive; kvarchive.ArchivedMediaClient("
        f"endpoint_url={endpoint!r}, region_name={REGION!r})"
    )
    client_raw = (
        "import boto3; boto3.client('kinesis-video-archived-media', "
        f"endpoint_url={endpoint!r}, region_name={REGION!r})"
    )
    sides = {
        "kv": process("import kvarchive"),
        "raw": process("import boto3"),
        "kv client": process(client_kv),
        "raw client": process(client_raw),
    }
    runs = interleave(sides, ctx.sizes.import_reps)
    ms = {side: [t.wall * 1e3 for t in timings] for side, timings in runs.items()}
    diff = median([a - b for a, b in zip(ms["kv"], ms["raw"])])
    client_diff = median([a - b for a, b in zip(ms["kv client"], ms["raw client"])])
    eager = _imports_boto3()
    ctx.note(
        "6",
        "wall clock of whole `python -c` processes (interpreter start included on both sides); "
        f"`import kvarchive` {'IMPORTS' if eager else 'does not import'} boto3; "
        "ArchivedMediaClient(...) makes its boto3 Session but no botocore client until the "
        "first call, so the second row compares unequal work",
    )
    n = ctx.sizes.import_reps
    return [
        target_row(
            "6",
            "import kvarchive (vs import boto3)",
            kv=median(ms["kv"]),
            raw=median(ms["raw"]),
            unit="ms",
            ratio=diff,
            op="<=",
            limit=20,
            n=n,
            raw_label="import boto3",
            ratio_text="kv-raw ",
            limit_text="+20 ms",
            ratio_format="{:+.0f} ms",
        ),
        Row(
            "6",
            "import + ArchivedMediaClient(...) vs + boto3.client(...)",
            median(ms["kv client"]),
            median(ms["raw client"]),
            "ms",
            client_diff,
            "(info)",
            "info",
            n,
            "import boto3; boto3.client(...)",
            ratio_format="{:+.0f} ms",
        ),
    ]


def _imports_boto3() -> bool:
    """Whether ``import kvarchive`` alone loads boto3 (checked in a fresh process)."""
    code = "import sys, kvarchive; print('boto3' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return out.stdout.strip() == "True"
