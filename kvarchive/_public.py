"""Public names print as public: the module users import them from, in tracebacks, reprs, pickles.

httpx does this for every name of its ``__all__``. A class's annotations are
resolved first, where they were written, because ``typing.get_type_hints``
(and attrs' ``resolve_types``, cattrs) look names up in the module that
``__module__`` names.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["publish"]


def publish(namespace: Mapping[str, Any], names: Iterable[str], module: str, private: str) -> None:
    """Set ``__module__`` to ``module`` on the classes and functions of ``names`` in ``namespace``
    that a module under ``private`` (a name prefix) defines."""
    for name in names:
        value = namespace[name]
        if not getattr(value, "__module__", "").startswith(private):
            continue
        if isinstance(value, type):
            _resolve_annotations(value)
        value.__module__ = module


def _resolve_annotations(cls: type) -> None:
    """Replace the class's own annotations (strings) by the objects they name, one by one."""
    own = cls.__dict__.get("__annotations__", {})  # noqa: RUF063 - inspect's is Python 3.10+
    for key, value in own.items():
        if not isinstance(value, str):
            continue
        # One annotation at a time, read in the class's own module.
        probe = type("probe", (), {"__annotations__": {key: value}, "__module__": cls.__module__})
        try:
            own[key] = typing.get_type_hints(probe)[key]
        except (NameError, TypeError):
            continue  # a name only type checkers import (DecodedFrame's numpy types)
