"""Run an example exactly as its docstring says, with no AWS account.

Each script in examples/ has, in its docstring, a paragraph that begins "With
no AWS account" followed by an indented block of shell lines. The lines that
start a service "in another shell" (``kvarchive emulator``, ``moto_server``)
are started here first and stopped at the end; every other line runs, in
order, in one bash in a fresh folder (``examples/`` linked into it, so the
paths read as from the project's root), whose environment has PATH, HOME,
LANG and the lines the services print to paste, nothing else (but a flag that
keeps Python from writing into examples/). ``pip install``
lines are taken as done: the tests' environment has every extra.
"""

from __future__ import annotations

import ast
import contextlib
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from shells import exported, lines_of, read_lines_until

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
MARKER = "With no AWS account"
MOTO_PORT = "5000"  # moto_server's port in the docstrings (-p, 127.0.0.1:): a free one here


def no_account_block(script: Path) -> list[str]:
    """The shell lines of the script's "With no AWS account" paragraph."""
    docstring = ast.get_docstring(ast.parse(script.read_text())) or ""
    lines = docstring.splitlines()
    begin = next(i for i, line in enumerate(lines) if line.startswith(MARKER))
    block: list[str] = []
    for line in lines[begin + 1 :]:
        if line.startswith("    "):
            block.append(line[4:])
        elif block:
            break
    return block


@contextlib.contextmanager
def emulator_service(command: str) -> Iterator[dict[str, str]]:
    """``kvarchive emulator ...`` run as written (on a free port), and the variables it prints."""
    words = shlex.split(command, comments=True)
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / words[0]), *words[1:], "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        printed = read_lines_until(lines_of(server.stdout), "export AWS_SECRET_ACCESS_KEY=")
        yield exported(printed)
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0


@contextlib.contextmanager
def moto_service(command: str) -> Iterator[dict[str, str]]:
    """``moto_server -p PORT`` run as written (on the free port that replaced 5000)."""
    words = shlex.split(command, comments=True)
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / words[0]), *words[1:]],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    port = int(words[words.index("-p") + 1])
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            assert server.poll() is None and time.monotonic() < deadline, "moto_server failed"
            time.sleep(0.1)
        yield {}
    finally:
        server.terminate()
        server.wait(timeout=30)


SERVICES = {"kvarchive emulator": emulator_service, "moto_server": moto_service}


def free_port() -> str:
    """A TCP port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return str(probe.getsockname()[1])


def run_example(name: str, folder: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run examples/<name>.py's "With no AWS account" lines in ``folder``; return the bash run."""
    block = "\n".join(no_account_block(EXAMPLES / f"{name}.py"))
    block = re.sub(rf"(?<=127\.0\.0\.1:){MOTO_PORT}\b|(?<=-p ){MOTO_PORT}\b", free_port(), block)
    services = [line for line in block.splitlines() if line.startswith(tuple(SERVICES))]
    script = "\n".join(
        line
        for line in block.splitlines()
        if line not in services and not line.startswith("pip install ")
    )
    (folder / "examples").symlink_to(EXAMPLES)
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(folder),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",  # no __pycache__ left in examples/ by `cd examples`
    }
    with contextlib.ExitStack() as stack:
        for line in services:
            start = next(SERVICES[prefix] for prefix in SERVICES if line.startswith(prefix))
            env.update(stack.enter_context(start(line)))
        return subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            env=env,
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
