"""The ``kvarchive`` command line (``kvarchive.cli:main``, and ``python -m kvarchive``).

``_parser`` reads the arguments (each command's options in ``_options``),
``_commands`` runs one client operation per command, ``_follow`` follows a
stream until stopped (Ctrl-C included), ``_export`` runs ``kvarchive.export``
here or on a Dask scheduler, ``_output`` prints and writes results,
``_messages`` puts the library's messages in the command line's words (flags,
times), ``_times`` reads times such as ``-15m``, ``_demo`` runs the tour
against the emulator, ``_emulator`` serves it to other programs, ``_debug``
masks secrets in ``--debug`` logs, and ``_main`` ties them together with the
exit status.

Every operation goes through kvarchive's public API (``ArchivedMediaClient``
and its results). A few private helpers are shared on purpose, so that the
library and the command line behave and speak alike: ``_files`` (the one
rule for output paths, and files that appear only when whole),
``_aws.hints`` (what to do without a region or credentials), ``_progress``
(the progress bar), ``_redact`` (what a secret looks like), ``_service`` (the
enum spellings offered as choices, the stream name's pattern), ``_validate``
(the check ``images`` makes of ``--quality``, made by ``frames`` too),
``_times`` (ISO 8601, the epoch and the tables' format of times) and
``_decode`` (what to install when an extra that ``frames`` needs is missing).
"""

from kvarchive.cli._main import main

__all__ = ["main"]
