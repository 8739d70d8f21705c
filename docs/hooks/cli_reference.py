"""MkDocs hook: the command line reference, rendered from kvarchive's own argparse parser.

A page holding ``<!-- cli-reference -->`` gets, in its place, every command of
``kvarchive.cli._parser.build_parser()`` with each option and its help, so the
page cannot drift from what ``kvarchive --help`` says.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from typing import Any

MARKER = "<!-- cli-reference -->"


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    """Replace the marker with the reference (MkDocs calls this for every page)."""
    if MARKER not in markdown:
        return markdown
    from kvarchive.cli._parser import build_parser

    return markdown.replace(MARKER, render(build_parser()))


def render(parser: argparse.ArgumentParser) -> str:
    """The parser as Markdown: its global options once, then one section per command."""
    commands = _subcommands(parser)
    shared = _options(parser)
    seen = {_key(action) for action in shared}
    lines = [
        f"{_sentence(parser.description)} {_sentence(parser.epilog)}.",
        "",
        "## Global options",
        "",
        "Accepted before or after the command, as in the AWS CLI (`--version` before it).",
        "",
        *_table(shared),
    ]
    for name, sub in commands.items():
        own = [action for action in _options(sub) if _key(action) not in seen]
        lines += ["", f"## `{parser.prog} {name}`", "", _sentence(sub.description), ""]
        lines += _table(own) if own else ["No options besides the global ones."]
    return "\n".join(lines) + "\n"


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The commands, in the order the parser defines them."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """The arguments a user types: positionals and options, not the command's name."""
    return [
        action for action in parser._actions if not isinstance(action, argparse._SubParsersAction)
    ]


def _key(action: argparse.Action) -> tuple[tuple[str, ...], type]:
    """What makes two options the same: their flags and what they do (store or append)."""
    return tuple(action.option_strings), type(action)


def _table(actions: Iterable[argparse.Action]) -> list[str]:
    rows = ["| option | value | help |", "| --- | --- | --- |"]
    for action in actions:
        names = ", ".join(f"`{flag}`" for flag in action.option_strings) or f"`{action.metavar}`"
        rows.append(f"| {names} | {_value(action)} | {_cell(_help(action))} |")
    return rows


def _value(action: argparse.Action) -> str:
    """What the option takes: its choices or metavar, and whether it must be given."""
    if action.nargs == 0:
        parts = ["flag"]
    elif action.choices is not None:
        parts = [" \\| ".join(f"`{choice}`" for choice in action.choices)]
    else:
        parts = [f"`{action.metavar or action.dest.upper()}`"]
    if isinstance(action, argparse._AppendAction):
        parts.append("repeatable")
    if action.required and action.option_strings:
        parts.append("required")
    return ", ".join(parts)


def _help(action: argparse.Action) -> str:
    """The help text as ``--help`` prints it (``%(default)s`` and the like filled in)."""
    text = action.help or ""
    if "%(" in text:
        text = text % {**vars(action), "prog": ""}
    return text


def _sentence(text: str | None) -> str:
    return (text or "").strip()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
