"""The documentation site's sources for the tests: its pages, their Python blocks, its hooks."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

from realdata import ROOT

DOCS = ROOT / "docs"
NEEDS_AWS = "<!-- needs-aws -->"
"""The line before a block that needs AWS: compiled, never run."""


def pages() -> list[Path]:
    """Every Markdown page of the site."""
    return sorted(DOCS.rglob("*.md"))


def python_blocks(page: Path) -> list[tuple[str, bool]]:
    """Each fenced ```python block of ``page``: its code, and whether it is marked as needing AWS."""
    text = page.read_text()
    blocks = []
    for match in re.finditer(r"```python\n(.*?)^```$", text, re.MULTILINE | re.DOTALL):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        blocks.append((match.group(1), before.strip() == NEEDS_AWS))
    return blocks


def load_hook(name: str) -> ModuleType:
    """The MkDocs hook ``docs/hooks/<name>.py``, imported as MkDocs imports it: by path."""
    path = DOCS / "hooks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"kvarchive_docs_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
