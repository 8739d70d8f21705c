"""Each feature behind an extra, on a machine without it: an error or a warning naming it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from isolated import (
    distributions,
    extra_names,
    extra_requirements,
    only_env,
    python_on_terminal,
    site_of,
)
from realdata import ROOT

EMULATED = """
from datetime import timedelta
from kvarchive.testing import Emulator
emu = Emulator()
stream = emu.add_stream("cam", fragment_count=3, payload_size=256)
kv = emu.client()
start = stream.fragments[0].server_timestamp
end = start + timedelta(minutes=1)
"""


def core_site(tmp_path: Path) -> Path:
    """A folder holding kvarchive's run-time dependencies and nothing else."""
    return site_of(tmp_path / "site", distributions(extra_requirements("install")))


def run_core(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -S *args`` seeing the project and its run-time dependencies only."""
    return subprocess.run(
        [sys.executable, "-S", *args],
        env=only_env(core_site(tmp_path)),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_to_pandas_without_pandas_names_the_extra_before_any_request(tmp_path: Path) -> None:
    """Every to_pandas() without pandas raises an ImportError naming kvarchive[pandas], and
    the emulator sees no request."""
    code = (
        EMULATED
        + """
for table in (
    lambda: kv.list_fragments(stream_name="cam", start=start, end=end),
    lambda: kv.get_images(stream_name="cam", start=start, end=end, sampling_interval=1000),
    lambda: kvarchive.FragmentList([]),
):
    try:
        table().to_pandas()
    except ImportError as error:
        print(error)
print(emu.count())
"""
    )
    result = run_core(tmp_path, "-c", "import kvarchive" + code)
    assert result.returncode == 0, result.stderr
    *errors, requests = result.stdout.splitlines()
    assert errors == ['to_pandas() needs pandas: pip install "kvarchive[pandas]"'] * 3
    assert requests == "0"


def test_progress_bar_without_tqdm_warns_once_on_a_terminal(tmp_path: Path) -> None:
    """download(progress=True) on a terminal without tqdm warns once per process, naming
    kvarchive[progress], and downloads all the same."""
    code = (
        EMULATED
        + """
for n in range(2):
    print(kv.download(stream_name="cam", start=start, end=end, path=f"{n}.mkv", progress=True))
"""
    )
    result = python_on_terminal(tmp_path, core_site(tmp_path), "-W", "always", "-c", code)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 2
    assert all((tmp_path / f"{n}.mkv").stat().st_size > 0 for n in range(2))
    warned = re.findall(r"KVArchiveWarning: (.*)", result.stderr)
    assert [w.strip() for w in warned] == [
        'no progress bar: it needs tqdm: pip install "kvarchive[progress]"'
    ]


def test_export_on_a_scheduler_without_dask_names_the_extra(tmp_path: Path) -> None:
    """kvarchive export --scheduler without dask.distributed exits 1 with one line naming
    kvarchive[dask], writing nothing."""
    args = ["export", "--stream-name", "cam", "--start", "2026-01-01T12:00:00Z"]
    args += ["--end", "2026-01-01T12:10:00Z", "--scheduler", "tcp://127.0.0.1:9", "-o", "out"]
    args += ["--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:9"]
    result = run_core(tmp_path, "-m", "kvarchive", *args)
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.endswith('--scheduler needs dask.distributed: pip install "kvarchive[dask]"')
    assert not (tmp_path / "out").exists()


def test_install_lines_quote_their_extras_and_name_real_ones() -> None:
    """Every pip install line of the README, the docs and the examples quotes its extras (so a
    shell keeps the brackets) and names extras setup.cfg declares."""
    declared = set(extra_names())
    documents = [
        ROOT / "README.md",
        *sorted((ROOT / "docs").rglob("*.md")),
        *sorted((ROOT / "examples").glob("*.*")),
    ]
    lines = [line for doc in documents for line in doc.read_text().splitlines()]
    pattern = r"""pip install (?:-e )?(\\?["']?)(kvarchive|\.)\[([^\]]*)\](\\?["']?)"""
    installs = [m for line in lines for m in re.findall(pattern, line)]
    assert len(installs) >= 6
    for opening, name, extras, closing in installs:
        assert opening and opening == closing, f"unquoted: {name}[{extras}]"
        assert set(extras.split(",")) <= declared, extras
