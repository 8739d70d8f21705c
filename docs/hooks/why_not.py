"""MkDocs hook: the "why does X not work on my stream" page, from kv.inspect()'s own table.

A page holding ``<!-- why-not -->`` gets, in its place, one section per API of
``kvarchive._inspect.requirements.REQUIREMENTS``: what it needs and where that
is documented, so the page says what ``kv.inspect()`` checks, never more or less.
"""

from __future__ import annotations

from typing import Any

MARKER = "<!-- why-not -->"


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    """Replace the marker with the requirements (MkDocs calls this for every page)."""
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, render())


def render() -> str:
    """Every requirement as Markdown: a summary table, then a section per API."""
    from kvarchive._inspect.requirements import LIVE_WINDOW, REQUIREMENTS

    lines = ["| API | needs |", "| --- | --- |"]
    lines += [f"| [{r.api}](#{_anchor(r.api)}) | {r.needs} |" for r in REQUIREMENTS]
    for requirement in REQUIREMENTS:
        lines += ["", f"## {requirement.api}", "", requirement.needs, ""]
        lines.append(f"Documented in {_link(requirement.source)}.")
    seconds = int(LIVE_WINDOW.total_seconds())
    lines += ["", f"A LIVE session counts a fragment as recent when it is at most {seconds} s old."]
    return "\n".join(lines) + "\n"


def _anchor(api: str) -> str:
    """The id MkDocs gives the heading ``## api``."""
    return api.lower()


def _link(source: str) -> str:
    """A Markdown link to ``source``: the AWS page by its name, or a page of this site."""
    if source.startswith("https://"):
        name = source.rsplit("/", 1)[-1].removesuffix(".html")
        return f"the API reference, [{name}]({source})"
    return f"kvarchive's reference, [{source.rsplit('#', maxsplit=1)[-1]}](../{source})"
