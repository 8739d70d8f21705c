"""The optional packages behind some features, and what a call says when one is missing.

Each extra of setup.cfg (``progress``, ``pandas``, ``decode``, ``images``,
``dask``, ``notebook``) is named here in the install line users copy, quoted
so that it works in every shell. A call that cannot work without its package
raises an ImportError naming the extra (:func:`require`); a nicety that the
call can do without, a progress bar, warns once per process and goes on
(:func:`optional`). Nothing is imported before a call needs it, so
``import kvarchive`` stays light.
"""

from __future__ import annotations

import importlib
import threading
import warnings
from types import ModuleType
from typing import Optional

from kvarchive._errors import KVArchiveWarning

__all__ = ["install_hint", "optional", "require"]

_warned: set[str] = set()
_warned_lock = threading.Lock()


def install_hint(extra: str) -> str:
    """The command that installs ``extra``, quoted for any shell."""
    return f'pip install "kvarchive[{extra}]"'


def require(extra: str, purpose: str, *modules: str) -> None:
    """Import ``modules``, or raise an ImportError saying ``purpose`` and how to install them."""
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ImportError(f"{purpose}: {install_hint(extra)}") from exc


def optional(extra: str, purpose: str, module: str) -> Optional[ModuleType]:
    """``module``, or None after warning (the first time in this process) what is left out."""
    try:
        return importlib.import_module(module)
    except ImportError:
        with _warned_lock:
            first = extra not in _warned
            _warned.add(extra)
        if first:
            warnings.warn(f"{purpose}: {install_hint(extra)}", KVArchiveWarning, stacklevel=2)
        return None
