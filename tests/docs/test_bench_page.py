"""The benchmark page is rendered from bench/results.json, as bench/run.py formats its table."""

from __future__ import annotations

import json

from docsite import DOCS, ROOT, load_hook

HOOK = load_hook("bench_page")
RESULTS = json.loads((ROOT / "bench" / "results.json").read_text())


def test_page_has_one_row_per_result() -> None:
    """Each row of the results file is one row of the page's table, in the same order."""
    lines = HOOK.render(RESULTS).splitlines()
    table = [line for line in lines if line.startswith("| ")][2:]
    assert len(table) == len(RESULTS["rows"])
    for line, row in zip(table, RESULTS["rows"]):
        assert line.startswith(f"| {row['figure']} | {row['name'].strip()}")
        assert line.rstrip(" |").endswith(row["status"])


def test_page_names_the_targets_missed() -> None:
    """The page says which targets the run missed, as bench/run.py's last lines do."""
    text = HOOK.render(RESULTS)
    missed = [row for row in RESULTS["rows"] if row["status"] in ("FAIL", "ERROR")]
    assert ("Targets missed: none." in text) == (not missed)
    assert all(row["name"].strip() in text for row in missed)


def test_page_marker_is_replaced_by_the_results() -> None:
    """The hook turns the benchmark page's marker into the table of the committed results."""
    page = (DOCS / "benchmarks.md").read_text()
    built = HOOK.on_page_markdown(page)
    assert HOOK.MARKER in page and HOOK.MARKER not in built
    assert RESULTS["machine"]["cpu_model"] in built
