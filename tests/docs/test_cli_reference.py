"""The command line reference is generated from kvarchive's own parser, every option in it."""

from __future__ import annotations

import argparse
import re

from docsite import DOCS, load_hook

from kvarchive.cli._parser import build_parser

HOOK = load_hook("cli_reference")


def sections(text: str) -> dict[str, str]:
    """The generated text cut at its ``## ...`` headings, by heading."""
    parts = re.split(r"^## (.+)$", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2]))


def flags(parser: argparse.ArgumentParser) -> list[str]:
    return [flag for action in parser._actions for flag in action.option_strings]


def test_every_option_of_every_command_is_in_its_section_or_the_global_one() -> None:
    """Each command has a section, and each of its options is there or among the global ones."""
    parser = build_parser()
    found = sections(HOOK.render(parser))
    shared = found["Global options"]
    commands = HOOK._subcommands(parser)
    assert len(commands) >= 12
    for name, sub in commands.items():
        own = found[f"`kvarchive {name}`"]
        missing = [f for f in flags(sub) if f"`{f}`" not in own + shared]
        assert not missing, name


def test_each_option_row_carries_its_help() -> None:
    """An option's row holds the help text ``--help`` prints for it."""
    text = HOOK.render(build_parser())
    download = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    option = next(
        a for a in download.choices["download"]._actions if "--concurrency" in a.option_strings
    )
    expected = (option.help or "") % {"default": option.default}
    row = next(line for line in text.splitlines() if line.startswith("| `--concurrency`"))
    assert expected and expected in row
    choices = next(line for line in text.splitlines() if line.startswith("| `--playback-mode`"))
    assert "`LIVE_REPLAY`" in choices


def test_repeatable_stream_of_export_is_shown_as_such() -> None:
    """``export`` takes ``--stream-name`` many times, and its section says so."""
    export = sections(HOOK.render(build_parser()))["`kvarchive export`"]
    row = next(line for line in export.splitlines() if line.startswith("| `--stream-name`"))
    assert "repeatable" in row


def test_page_marker_is_replaced_by_the_reference() -> None:
    """The hook turns the command line page's marker into the generated reference."""
    page = (DOCS / "reference" / "cli.md").read_text()
    built = HOOK.on_page_markdown(page)
    assert HOOK.MARKER in page and HOOK.MARKER not in built
    assert "## `kvarchive download`" in built
