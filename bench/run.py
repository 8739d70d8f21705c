"""Run kvarchive's benchmarks against the raw boto3 way, side by side, and print a table.

    python bench/run.py            # full run (several minutes)
    python bench/run.py --quick    # about a minute
    python bench/run.py --only 1,5 --json results.json

Starts the emulator (kvarchive.testing) in a child process, runs each figure
of cases.py with the kvarchive and raw sides interleaved, and reports medians
of the repetitions. Ratios are kvarchive/raw unless the target says otherwise,
taken per repetition (both sides back to back) and then the median.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

from common import EmulatorProcess, Row, machine_info, use_dummy_credentials

COLUMNS = ("fig", "figure", "kvarchive", "raw", "raw side", "ratio", "target", "n", "result")


def _value(value: Optional[float], unit: str) -> str:
    if value is None:
        return "-"
    if unit in ("MB/s", "MB/cpu-s"):
        text = f"{value:.0f}"
    elif unit in ("ms", "s") and value < 10:
        text = f"{value:.2f}"
    else:
        text = f"{value:.1f}"
    return f"{text} {unit}"


def _cells(row: Row) -> tuple[str, ...]:
    ratio = "-" if row.ratio is None else row.ratio_format.format(row.ratio)
    n = str(row.n) if row.n else "-"
    return (
        row.figure,
        row.name,
        _value(row.kv, row.unit),
        _value(row.raw, row.unit),
        row.raw_label,
        ratio,
        row.target,
        n,
        row.status,
    )


def format_table(rows: list[Row]) -> str:
    """The rows as a fixed-width text table."""
    cells = [COLUMNS, *(_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    right = {2, 3, 5, 7}
    lines = []
    for index, line in enumerate(cells):
        parts = [
            text.rjust(width) if column in right else text.ljust(width)
            for column, (text, width) in enumerate(zip(line, widths))
        ]
        lines.append("  ".join(parts).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _print_machine(machine: dict[str, Any]) -> None:
    print(
        f"machine: {machine['platform']} ({machine['machine']}), {machine['cpu_model']}, "
        f"{machine['cpu_count']} CPUs ({machine['cpus_usable']} usable)"
    )
    print(
        f"python {machine['python']} ({machine['python_impl']}); boto3 {machine['boto3']}, "
        f"botocore {machine['botocore']}, urllib3 {machine['urllib3']}, "
        f"kvarchive {machine['kvarchive']}; ebmlite {machine['ebmlite']}, "
        f"pyinstrument {machine['pyinstrument']}"
    )


def main(argv: Optional[list[str]] = None) -> int:
    """Run the selected figures and print (and optionally save) the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, about a minute")
    parser.add_argument("--json", metavar="PATH", help="also save the results as JSON")
    parser.add_argument("--only", metavar="FIGS", help="comma-separated figures, e.g. 1,3,7")
    parser.add_argument(
        "--plain-emulator",
        action="store_true",
        help="no media cache in the emulator (it then caps media reads near 450 MB/s)",
    )
    args = parser.parse_args(argv)

    use_dummy_credentials()  # before boto3 makes any client
    import cases

    keys = cases.select(args.only)
    sizes = cases.QUICK if args.quick else cases.FULL
    machine = machine_info()
    _print_machine(machine)
    mode = "quick" if args.quick else "full"
    print(f"mode: {mode}; figures: {', '.join(keys)}", flush=True)

    started = time.perf_counter()
    rows: list[Row] = []
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="kvarchive-bench-"))
        emu = stack.enter_context(EmulatorProcess(plain=args.plain_emulator))
        ctx = cases.Context(emu=emu, sizes=sizes, tmpdir=Path(tmp))
        ctx.note(
            "all",
            "kvarchive clients use rate_limit=False in figures 1-5: the client-side limiter "
            "spaces calls to 5/s per stream and operation, which would measure pacing, not "
            "overhead; figure 7 uses the default client",
        )
        if emu.media_cache:
            ctx.note(
                "all",
                "the emulator runs in its own process and keeps each served fragment's "
                "bytes (Emulator(media_cache_bytes=...), same answers): it makes them at "
                "about 1 ms per fragment, on one core, which would set the rate",
            )
        for key in keys:
            begin = time.perf_counter()
            print(f"... figure {key}", file=sys.stderr, flush=True)
            try:
                rows.extend(cases.FIGURES[key](ctx))
            except Exception as exc:
                traceback.print_exc()
                name = f"{cases.FIGURES[key].__name__} failed"
                error = f"{type(exc).__name__}: {exc}"
                rows.append(Row(key, name, None, None, "", None, "", "ERROR", 0, note=error))
                ctx.note(key, f"ERROR {type(exc).__name__}: {exc}")
            took = time.perf_counter() - begin
            print(f"    figure {key} took {took:.1f} s", file=sys.stderr, flush=True)
        notes = ctx.notes
    elapsed = time.perf_counter() - started

    print()
    print(format_table(rows))
    print()
    print("ratio: median over repetitions of (kvarchive / raw) unless the target names it;")
    print("values: medians over n repetitions; per-call figures take each repetition's median call")
    for note in notes:
        print(f"note {note}")
    for row in rows:
        if row.note:
            print(f"note [{row.figure}] {row.name.strip()}: {row.status}: {row.note}")
    failed = [row for row in rows if row.status in ("FAIL", "ERROR")]
    verdict = ", ".join(f"{row.figure} {row.name.strip()}" for row in failed) or "none"
    print(f"targets missed: {verdict}")
    print(f"total time: {elapsed:.0f} s ({mode})")

    if args.json:
        payload = {
            "started": datetime.now(timezone.utc).isoformat(),
            "mode": mode,
            "seconds": round(elapsed, 1),
            "machine": machine,
            "rows": [row.as_dict() for row in rows],
            "notes": notes,
        }
        Path(args.json).write_text(json.dumps(payload, indent=2) + "\n")
        print(f"saved {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
