"""The ``kvarchive`` command line (``kvarchive.cli:main``, and ``python -m kvarchive``)."""

from kvarchive.cli._main import main

__all__ = ["main"]
