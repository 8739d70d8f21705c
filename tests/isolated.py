"""Python run in a child process that sees the project and only some packages: a machine
without an extra, or with exactly one."""

from __future__ import annotations

import configparser
import importlib
import os
import pty
import subprocess
import sys
import threading
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from realdata import ROOT


def python_with_only(
    tmp_path: Path, packages: list[str], *args: str
) -> subprocess.CompletedProcess[str]:
    """Run ``python -S *args`` (no site directory) seeing the project and only ``packages``."""
    site = tmp_path / "site"
    site.mkdir()
    for name in packages:
        folder = Path(importlib.import_module(name).__file__ or "").parent
        (site / folder.name).symlink_to(folder)
        libs = folder.with_name(f"{folder.name}.libs")  # wheels' bundled shared libraries
        if libs.is_dir():
            (site / libs.name).symlink_to(libs)
    return subprocess.run(
        [sys.executable, "-S", *args],
        env=only_env(site),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def only_env(site: Path) -> dict[str, str]:
    """The environment of a ``python -S`` that imports from ``site`` and the project alone."""
    return {"PATH": os.environ["PATH"], "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}


def extra_requirements(extra: str) -> list[str]:
    """The requirements setup.cfg lists for ``extra`` (``"install"``: the run-time ones)."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    if extra == "install":
        text = config["options"]["install_requires"]
    else:
        text = config["options.extras_require"][extra]
    return [line.strip() for line in text.splitlines() if line.strip()]


def extra_names() -> list[str]:
    """The extras setup.cfg declares."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    return list(config["options.extras_require"])


def distributions(requirements: Iterable[str]) -> set[str]:
    """The installed distributions that ``requirements`` need, their dependencies included."""
    expanded: dict[str, set[str]] = {}  # a distribution's name: its extras followed so far
    wanted = [(Requirement(r), "") for r in requirements]
    while wanted:
        requirement, extra = wanted.pop()
        if requirement.marker and not requirement.marker.evaluate({"extra": extra}):
            continue
        dist = metadata.distribution(requirement.name)
        done = expanded.setdefault(dist.metadata["Name"].lower(), set())
        new = ({""} | requirement.extras) - done
        done |= new
        wanted += [(Requirement(line), asked) for line in dist.requires or [] for asked in new]
    return set(expanded)


def site_of(folder: Path, names: Iterable[str]) -> Path:
    """A folder of links to every top-level file of the installed distributions ``names``
    (packages, modules, bundled libraries and their metadata)."""
    folder.mkdir()
    for name in names:
        dist = metadata.distribution(name)
        tops = {Path(str(f)).parts[0] for f in dist.files or []}
        for top in tops - {"..", "__pycache__"}:
            link = folder / top
            if not link.exists():
                link.symlink_to(Path(str(dist.locate_file(top))))
    return folder


def python_on_terminal(tmp_path: Path, site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -S *args`` seeing the project and ``site``, its stderr a terminal (a pty)."""
    leader, follower = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-S", *args],
        env=only_env(site),
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=follower,
    )
    os.close(follower)
    drawn = bytearray()

    def drain() -> None:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                return
            if not chunk:
                return
            drawn.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    stdout, _ = child.communicate(timeout=120)
    reader.join(timeout=10)
    os.close(leader)
    return subprocess.CompletedProcess(
        child.args, child.returncode, stdout.decode(), drawn.decode(errors="replace")
    )
