"""The layers keep to their rooms: what each part of kvarchive may import, read from its source."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import kvarchive

PACKAGE = Path(kvarchive.__file__).resolve().parent
HTTP_STACK = ("boto3", "botocore", "urllib3", "http")  # the AWS SDK and what it talks HTTP with
# The scanner's hot loop is one function on purpose: a call costs more than an element.
LONG_ON_PURPOSE = {"kvarchive._matroska.scanner"}
MAX_LINES = 400


def modules(under: str = "") -> Iterator[tuple[str, Path]]:
    """``(dotted name, path)`` of every module of kvarchive below ``under`` (a dotted name)."""
    folder = PACKAGE.joinpath(*under.split(".")[1:]) if under else PACKAGE
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


def imports(name: str, path: Path) -> set[str]:
    """Every module ``name`` imports, anywhere in it (type-checking and lazy imports too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def kvarchive_modules(found: set[str]) -> set[str]:
    """Of ``found``, the names of kvarchive's own modules (not names imported from them)."""
    known = {name for name, _ in modules()}
    return {name for name in found if name in known}


def test_the_imports_are_read_as_python_resolves_them() -> None:
    """The reader of imports resolves relative ones: _client imports kvarchive._aws.calls' Caller."""
    found = imports("kvarchive._client", PACKAGE / "_client.py")
    assert "kvarchive._aws.operations" in found
    assert "kvarchive._errors" in kvarchive_modules(found)


def test_matroska_imports_nothing_from_aws_nor_the_layers_above() -> None:
    """kvarchive._matroska reads and writes bytes: no boto3, botocore or urllib3, and of
    kvarchive only its errors, times and types."""
    base = {"kvarchive._errors", "kvarchive._times", "kvarchive._types"}
    for name, path in modules("kvarchive._matroska"):
        found = imports(name, path)
        assert not {n for n in found if n.split(".")[0] in HTTP_STACK}, name
        outside = {n for n in kvarchive_modules(found) if not n.startswith("kvarchive._matroska")}
        assert outside <= base, (name, outside - base)


def test_only_the_aws_edge_imports_boto() -> None:
    """boto3, botocore and urllib3 are imported in kvarchive._aws, and besides only where the
    command line makes its own session and the emulator hands out one."""
    for name, path in modules():
        found = {n for n in imports(name, path) if n.split(".")[0] in HTTP_STACK}
        if found and not name.startswith(("kvarchive._aws", "kvarchive.cli", "kvarchive.testing")):
            raise AssertionError(f"{name} imports {sorted(found)}")


def test_media_and_decoding_reach_the_aws_edge_only_through_the_seam() -> None:
    """MediaStream and its bodies ask the error seam what a dropped connection is; the decoder
    needs nothing of AWS."""
    for under, allowed in (
        ("kvarchive._media", {"kvarchive._aws.translate"}),
        ("kvarchive._decode", set()),
    ):
        for name, path in modules(under):
            aws = {
                n for n in kvarchive_modules(imports(name, path)) if n.startswith("kvarchive._aws")
            }
            assert aws <= allowed, (name, aws)


def test_the_library_does_not_import_the_command_line_or_the_emulator() -> None:
    """The library's modules import neither kvarchive.cli nor kvarchive.testing (the reverse is fine)."""
    for name, path in modules():
        if name.startswith(("kvarchive.cli", "kvarchive.testing")) or name == "kvarchive.__main__":
            continue
        found = kvarchive_modules(imports(name, path))
        assert not {n for n in found if n.startswith(("kvarchive.cli", "kvarchive.testing"))}, name


def test_modules_stay_small() -> None:
    """No module of kvarchive is over 400 lines, but the scanner, whose hot loop is one function."""
    long = {
        name: count
        for name, path in modules()
        if (count := len(path.read_text().splitlines())) > MAX_LINES and name not in LONG_ON_PURPOSE
    }
    assert long == {}
