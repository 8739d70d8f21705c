"""Another shell, as a user opens one: a process that sees only the variables pasted into it."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import threading
from typing import IO

EXPORT = re.compile(r"export ([A-Z0-9_]+)=(\S+)")


def exported(lines: list[str]) -> dict[str, str]:
    """The variables that ``export NAME=VALUE`` lines among ``lines`` set."""
    return dict(found.groups() for line in lines if (found := EXPORT.fullmatch(line.strip())))


def in_new_shell(variables: dict[str, str], argv: list[str]) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` as ``env -i`` would, with only ``variables`` and PATH; capture its output."""
    env = {"PATH": os.environ["PATH"], **variables}
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)


def lines_of(stream: IO[str]) -> queue.Queue[str]:
    """The lines of ``stream`` as they come, read by a thread ("" at the end)."""
    found: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        with stream:
            for line in stream:
                found.put(line)
        found.put("")

    threading.Thread(target=pump, daemon=True).start()
    return found


def read_lines_until(lines: queue.Queue[str], last: str) -> list[str]:
    """The lines read from ``lines`` up to the first that starts with ``last`` (60 s at most)."""
    read: list[str] = []
    while True:
        line = lines.get(timeout=60)
        assert line, "the process ended first:\n" + "".join(read)
        read.append(line)
        if line.startswith(last):
            return read
