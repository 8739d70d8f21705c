"""Every Python block of the docs runs as written with no AWS configuration, or says it needs AWS."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from docsite import DOCS, pages, python_blocks

BLOCKS = [
    pytest.param(code, needs_aws, id=f"{page.relative_to(DOCS)}:{index}")
    for page in pages()
    for index, (code, needs_aws) in enumerate(python_blocks(page), start=1)
]


def run_clean(code: str, home: Path) -> subprocess.CompletedProcess[str]:
    """``python -c code`` as ``env -i`` runs it: PATH and a HOME with no AWS configuration."""
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_docs_hold_blocks_of_both_kinds() -> None:
    """The extraction finds the docs' blocks: many that run on the emulator, some that need AWS."""
    runnable = [param for param in BLOCKS if not param.values[1]]
    assert len(runnable) >= 8
    assert len(BLOCKS) - len(runnable) >= 3


def test_no_block_on_the_emulator_is_marked_as_needing_aws() -> None:
    """A block that uses the emulator is run, never only compiled behind the AWS mark."""
    marked = [param.id for param in BLOCKS if param.values[1] and "Emulator" in param.values[0]]
    assert not marked


@pytest.mark.parametrize(("code", "needs_aws"), BLOCKS)
def test_block_runs_as_written(code: str, needs_aws: bool, tmp_path: Path) -> None:
    """A block runs to its end under env -i; one marked as needing AWS compiles."""
    if needs_aws:
        compile(code, "<docs>", "exec")
        return
    result = run_clean(code, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
