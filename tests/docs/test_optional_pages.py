"""Pages other work adds join the site only once their file exists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from docsite import load_hook

HOOK = load_hook("optional_pages")


def config(docs_dir: Path) -> dict[str, Any]:
    return {"docs_dir": str(docs_dir), "nav": [{"Home": "index.md"}, {"Guides": []}]}


def test_fidelity_page_is_left_out_while_missing(tmp_path: Path) -> None:
    """Without docs/testing/fidelity.md, neither the navigation nor the guide points at it."""
    built = HOOK.on_config(config(tmp_path))
    assert built["nav"][1] == {"Guides": []}
    page = HOOK.on_page_markdown(f"a\n{HOOK.MARKER}\nb", page=None, config=built)
    assert "fidelity" not in page


def test_fidelity_page_is_linked_once_it_exists(tmp_path: Path) -> None:
    """With docs/testing/fidelity.md, the navigation lists it and the guide links it."""
    (tmp_path / "testing").mkdir()
    (tmp_path / "testing" / "fidelity.md").write_text("# Fidelity\n")
    built = HOOK.on_config(config(tmp_path))
    assert built["nav"][1] == {"Guides": [{"Emulator fidelity": "testing/fidelity.md"}]}
    page = HOOK.on_page_markdown(f"a\n{HOOK.MARKER}\nb", page=None, config=built)
    assert "(../testing/fidelity.md)" in page
