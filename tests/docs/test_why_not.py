"""The "why does X not work" page is generated from the requirements kv.inspect() checks."""

from __future__ import annotations

import re

from docsite import DOCS, load_hook

from kvarchive._inspect.requirements import REQUIREMENTS

HOOK = load_hook("why_not")


def test_each_api_has_a_section_with_its_needs_and_source() -> None:
    """Every requirement of the table is a section holding its sentence and its source."""
    parts = re.split(r"^## (.+)$", HOOK.render(), flags=re.MULTILINE)
    sections = dict(zip(parts[1::2], parts[2::2]))
    assert list(sections) == [r.api for r in REQUIREMENTS]
    for requirement in REQUIREMENTS:
        text = sections[requirement.api]
        assert requirement.needs in text and requirement.source.split("#")[0] in text


def test_the_page_holds_the_marker_the_hook_replaces() -> None:
    """docs/guides/why-not.md is where the generated requirements go."""
    assert HOOK.MARKER in (DOCS / "guides" / "why-not.md").read_text()
