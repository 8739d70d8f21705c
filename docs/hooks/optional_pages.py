"""MkDocs hook: pages other work adds, put in the navigation once their file exists.

``docs/testing/fidelity.md`` (how closely the emulator answers as the service
does) comes from other work: until it is there, neither the navigation nor the
testing guide points at it, so a strict build never names a missing page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

FIDELITY = "testing/fidelity.md"
MARKER = "<!-- fidelity-link -->"
SENTENCE = (
    "How closely the emulator answers as the service does, operation by operation: "
    "[the fidelity table](../testing/fidelity.md)."
)


def on_config(config: Any, **kwargs: Any) -> Any:
    """Add the fidelity page under the testing guide when its file exists."""
    if _exists(config):
        for section in config["nav"]:
            guides = section.get("Guides") if isinstance(section, dict) else None
            if guides is not None:
                guides.append({"Emulator fidelity": FIDELITY})
    return config


def on_page_markdown(markdown: str, page: Any, config: Any, **kwargs: Any) -> str:
    """Link the fidelity page from the testing guide when its file exists."""
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, SENTENCE if _exists(config) else "")


def _exists(config: Any) -> bool:
    return (Path(config["docs_dir"]) / FIDELITY).is_file()
