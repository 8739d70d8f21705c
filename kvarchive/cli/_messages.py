"""Messages in the command line's own words: its flags, not Python's parameters, and its times.

The library names what is wrong by its keyword arguments (``sampling_interval
must be at least 200``) and writes times as ISO 8601; on the command line the
same message names the flag that carries the value (``--interval must be at
least 200``) and gives times as the tables do (``2026-12-08 00:24:30.267Z``).
Quoted text is the user's own value and is left as it is.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from typing import Optional

from kvarchive._times import compact_time, from_iso

__all__ = ["in_flags", "in_own_times"]

# The library's keyword arguments that messages name, by the command-line option that carries
# each (the same name, unless said otherwise); other words are left alone ("set region in your
# AWS profile" names no option).
_OPTION_OF = {
    **{
        name: name
        for name in (
            "start",
            "end",
            "until",
            "format",
            "width",
            "height",
            "expires",
            "playback_mode",
            "timestamp_type",
            "container_format",
            "discontinuity_mode",
            "display_fragment_number",
            "display_fragment_timestamp",
            "max_media_playlist_fragment_results",
            "max_manifest_fragment_results",
            "stream_name",
            "stream_arn",
            "concurrency",
            "shard",
            "poll",
            "settle",
            "every",
            "keyframes_only",
            "checkpoint",
        )
    },
    "sampling_interval": "interval",
    "jpeg_quality": "quality",
    "path": "outfile",
    "directory": "outfile",
    "out_dir": "outfile",
}
_QUOTED = re.compile(r"('[^']*'|\"[^\"]*\")")
# A keyword argument as the library writes it: ``name``, ``name=``, or ``name='VALUE'``.
_KEYWORD = re.compile(r"(?<![\w\-.])([a-z][a-z0-9_]*)(=)?(?![\w\-])")
_KEYWORD_VALUE = re.compile(r"(?<![\w\-.'\"])([a-z][a-z0-9_]*)='([^']*)'")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?(?!\d)")


def in_flags(message: str, parser: argparse.ArgumentParser) -> str:
    """``message`` with each keyword argument that an option of ``parser`` carries named as
    that option (``playback_mode='LIVE'`` as ``--playback-mode LIVE``)."""
    flags = _flags(parser)

    def option(name: str) -> Optional[str]:
        return flags.get(_OPTION_OF.get(name, ""))

    def with_value(found: re.Match[str]) -> str:
        name, value = found.groups()
        flag = option(name)
        return found.group(0) if flag is None else f"{flag} {value}"

    def alone(found: re.Match[str]) -> str:
        return option(found.group(1)) or found.group(0)

    message = _KEYWORD_VALUE.sub(with_value, message)
    return _outside_quotes(message, lambda part: _KEYWORD.sub(alone, part))


def in_own_times(message: str) -> str:
    """``message`` with each ISO 8601 time in it as the tables give times."""

    def own(found: re.Match[str]) -> str:
        try:
            return compact_time(from_iso(found.group(0)))
        except ValueError:
            return found.group(0)

    return _outside_quotes(message, lambda part: _TIME.sub(own, part))


def _flags(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Each option's destination, and the long flag that sets it."""
    flags: dict[str, str] = {}
    for action in parser._actions:
        long = [flag for flag in action.option_strings if flag.startswith("--")]
        if long:
            flags[action.dest] = long[0]
    return flags


def _outside_quotes(message: str, change: Callable[[str], str]) -> str:
    """``message`` with ``change`` applied to all but its quoted parts."""
    parts = _QUOTED.split(message)
    return "".join(part if index % 2 else change(part) for index, part in enumerate(parts))
