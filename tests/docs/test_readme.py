"""The README is a short front page: at most 150 lines, the demo and the tests first."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
DEMO = "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/kvarchive demo"
TESTS = (
    "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest -q"
)


def test_readme_is_at_most_150_lines() -> None:
    """The README holds at most 150 lines; the guides live on the site under docs/."""
    assert len(README.read_text().splitlines()) <= 150


def test_readme_starts_with_the_demo_then_the_tests() -> None:
    """The README's first two code blocks are the demo command, then the test command."""
    blocks = re.findall(r"```\w*\n(.*?)```", README.read_text(), re.DOTALL)
    assert [block.strip() for block in blocks[:2]] == [DEMO, TESTS]


def test_readme_links_point_at_pages_that_exist() -> None:
    """Every relative link of the README names a file of the repository."""
    links = re.findall(r"\]\(([^)#]+)\)", README.read_text())
    assert len(links) >= 10
    missing = [link for link in links if not (README.parent / link).is_file()]
    assert not missing
