"""The reference pages name every public name, and the built site shows each one."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from docsite import DOCS, ROOT, load_hook

import kvarchive
import kvarchive.errors
import kvarchive.testing

PUBLIC = (kvarchive, kvarchive.errors, kvarchive.testing)


def directives() -> set[str]:
    """The objects the reference pages render, as ``::: path`` directives name them."""
    text = "\n".join(page.read_text() for page in (DOCS / "reference").glob("*.md"))
    return set(re.findall(r"^::: (\S+)$", text, re.MULTILINE))


def documented_as(module: ModuleType, name: str) -> set[str]:
    """The paths under which a name counts as documented (an error of kvarchive's
    ``__all__`` is documented once, as ``kvarchive.errors.X``)."""
    paths = {f"{module.__name__}.{name}"}
    if module is kvarchive and name in kvarchive.errors.__all__:
        paths.add(f"kvarchive.errors.{name}")
    if module is kvarchive and name == "errors":
        paths.add("kvarchive.errors")
    return paths


@pytest.mark.parametrize("module", PUBLIC, ids=lambda module: module.__name__)
def test_every_public_name_has_a_directive(module: ModuleType) -> None:
    """Each name of the module's ``__all__`` is rendered by a ``:::`` directive of the reference."""
    rendered = directives()
    missing = [name for name in module.__all__ if not documented_as(module, name) & rendered]
    assert not missing


def test_reference_renders_public_paths_only() -> None:
    """The directives name public paths, so the site shows what users import."""

    def private(path: str) -> bool:
        return any(part.startswith("_") and not part.startswith("__") for part in path.split("."))

    # kvarchive._errors: only its docstring, the tree of every error, above the public names.
    assert [path for path in directives() if private(path)] == ["kvarchive._errors"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built strictly into a temporary folder as CI builds it."""
    pytest.importorskip("mkdocs")
    folder = tmp_path_factory.mktemp("site")
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(folder)]
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return folder


def page_text(site: Path, page: str) -> str:
    """The words of a built page, its HTML tags dropped."""
    html = (site / page / "index.html").read_text()
    return re.sub(r"<[^>]+>", "", html)


@pytest.mark.parametrize(
    ("module", "page"),
    [(kvarchive, "reference/kvarchive"), (kvarchive.testing, "reference/testing")],
    ids=["kvarchive", "kvarchive.testing"],
)
def test_built_reference_shows_every_public_name(site: Path, module: ModuleType, page: str) -> None:
    """Each name of ``__all__`` is on its built reference page, under its public path."""
    text = page_text(site, page) + page_text(site, "reference/errors")
    missing = [
        name
        for name in module.__all__
        if not documented_as(module, name) & set(re.findall(r"[\w.]+", text))
    ]
    assert not missing


def test_built_reference_shows_signatures(site: Path) -> None:
    """The built reference shows a method's keyword arguments, read from the code."""
    text = page_text(site, "reference/kvarchive")
    assert "list_fragments" in text and "sampling_interval" in text and "endpoint_ttl" in text


def test_built_cli_reference_shows_every_option(site: Path) -> None:
    """The built command line page names every option of every command."""
    from kvarchive.cli._parser import build_parser

    text = page_text(site, "reference/cli")
    parser = build_parser()
    commands = [parser, *load_hook("cli_reference")._subcommands(parser).values()]
    flags = {
        flag for command in commands for arg in command._actions for flag in arg.option_strings
    }
    assert not [flag for flag in sorted(flags) if flag not in text]
