"""Python run in a child process that sees the project and only some packages: a machine
without an extra."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

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
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    return subprocess.run(
        [sys.executable, "-S", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
