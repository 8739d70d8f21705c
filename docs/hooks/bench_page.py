"""MkDocs hook: the benchmark page, rendered from the results ``bench/run.py --json`` saved.

A page holding ``<!-- bench-results -->`` gets, in its place, the machine and the
table of ``bench/results.json``, formatted by ``bench/run.py``'s own cell
formatter, so the page shows what the benchmark measured and nothing pasted.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

MARKER = "<!-- bench-results -->"
BENCH = Path(__file__).resolve().parents[2] / "bench"
RESULTS = BENCH / "results.json"


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    """Replace the marker with the results (MkDocs calls this for every page)."""
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, render(json.loads(RESULTS.read_text())))


def render(results: dict[str, Any]) -> str:
    """One saved run as Markdown: when and where it ran, its table, its notes."""
    run = _bench_run()
    machine = results["machine"]
    lines = [
        f"Run of {results['started'][:10]} (`{results['mode']}` mode, "
        f"{results['seconds']:.0f} s), on {machine['platform']} ({machine['machine']}), "
        f"{machine['cpu_model']}, {machine['cpu_count']} CPUs ({machine['cpus_usable']} usable); "
        f"Python {machine['python']}, boto3 {machine['boto3']}, botocore {machine['botocore']}, "
        f"kvarchive {machine['kvarchive']}.",
        "",
        "| " + " | ".join(run.COLUMNS) + " |",
        "| " + " | ".join("---" for _ in run.COLUMNS) + " |",
    ]
    for fields in results["rows"]:
        cells = run._cells(run.Row(**fields))
        lines.append("| " + " | ".join(_cell(text) for text in cells) + " |")
    missed = [row for row in results["rows"] if row["status"] in ("FAIL", "ERROR")]
    verdict = ", ".join(f"{row['figure']} {row['name'].strip()}" for row in missed) or "none"
    lines += ["", f"Targets missed: {verdict}.", ""]
    lines += [f"- {_cell(note)}" for note in results["notes"]]
    for row in results["rows"]:
        if row["note"]:
            lines.append(f"- [{row['figure']}] {row['name'].strip()}: {_cell(row['note'])}")
    return "\n".join(lines) + "\n"


def _bench_run() -> Any:
    """``bench/run.py`` as a module (it imports its neighbours as top-level modules)."""
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    import run  # type: ignore[import-not-found]  # bench/ is scripts, not a package

    return run


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip() or " "
