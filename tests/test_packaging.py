"""The package as a user's machine builds it: Debian's own pip in a fresh venv, no upgrade."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SYSTEM_PYTHON = Path("/usr/bin/python3")  # the distribution's Python, with its own pip


def system_venv(folder: Path) -> Path:
    """A fresh venv of the system's Python with its bundled pip, or skip if it cannot make one."""
    if not SYSTEM_PYTHON.exists():
        pytest.skip("no /usr/bin/python3 on this machine")
    made = subprocess.run(
        [str(SYSTEM_PYTHON), "-m", "venv", str(folder)], capture_output=True, text=True, check=False
    )
    if made.returncode != 0:
        pytest.skip(f"the system's Python makes no venv (python3-venv missing?): {made.stderr}")
    return folder / "bin" / "pip"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    """``pip wheel --no-deps .`` run by the system's pip on a copy of the working tree."""
    tmp = tmp_path_factory.mktemp("wheel")
    pip = system_venv(tmp / "venv")
    source = tmp / "src"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(".*", "build", "dist", "*.egg-info", "__pycache__"),
    )
    return subprocess.run(
        [str(pip), "wheel", "--no-deps", ".", "-w", str(tmp / "out")],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def wheel_file(built: subprocess.CompletedProcess[str]) -> zipfile.ZipFile:
    """The wheel the build wrote."""
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    (wheel,) = Path(built.args[built.args.index("-w") + 1]).glob("kvarchive-*.whl")
    return zipfile.ZipFile(wheel)


def metadata(wheel: zipfile.ZipFile) -> Message:
    """The wheel's METADATA headers."""
    (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    return HeaderParser().parsestr(wheel.read(name).decode())


def test_system_pip_builds_the_wheel(built: subprocess.CompletedProcess[str]) -> None:
    """Debian's pip (no wheel package in its venv) builds the wheel through pyproject.toml."""
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    assert "bdist_wheel" not in built.stderr


def test_wheel_ships_the_licence_type_marker_and_emulator_data(
    built: subprocess.CompletedProcess[str],
) -> None:
    """The wheel holds the Apache-2.0 LICENSE, py.typed and every file of kvarchive/testing/data."""
    wheel = wheel_file(built)
    names = wheel.namelist()
    (licence,) = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
    assert wheel.read(licence) == (ROOT / "LICENSE").read_bytes()
    assert b"Apache License\n                           Version 2.0" in wheel.read(licence)
    assert "kvarchive/py.typed" in names
    data = sorted(p.name for p in (ROOT / "kvarchive" / "testing" / "data").iterdir())
    assert sorted(n.rsplit("/", 1)[1] for n in names if "/testing/data/" in n) == data


def test_wheel_metadata_names_python_author_urls_and_licence(
    built: subprocess.CompletedProcess[str],
) -> None:
    """METADATA requires Python 3.10, lists 3.10 to 3.13, and names author, URLs and licence."""
    headers = metadata(wheel_file(built))
    assert headers["Requires-Python"] == ">=3.10"
    python = "Programming Language :: Python :: 3."
    versions = [c for c in headers.get_all("Classifier", []) if c.startswith(python)]
    assert versions == [f"{python}{minor}" for minor in range(10, 14)]
    assert headers["Author"] and headers["License"] == "Apache-2.0"
    assert headers.get_all("Project-URL")
