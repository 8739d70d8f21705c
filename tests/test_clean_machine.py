"""What a new user meets on a machine with no AWS configuration at all (``env -i``).

Every other test runs with planted credentials (conftest); these run their
code in a child process whose environment holds only PATH, HOME and LANG.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import wave
from pathlib import Path
from typing import Any

import pytest
from isolated import distributions, extra_requirements, only_env, site_of

ROOT = Path(__file__).resolve().parent.parent
CLOSED_PORT = "http://127.0.0.1:9"  # nothing listens: no request can leave the machine


def run_clean(
    args: list[str], home: Path, extra: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``args`` with an environment of PATH, HOME and LANG only (plus ``extra``)."""
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        # No instance metadata lookups from a test machine (they time out slowly).
        "AWS_EC2_METADATA_DISABLED": "true",
        **(extra or {}),
    }
    return subprocess.run(
        args, env=env, cwd=home, capture_output=True, text=True, timeout=timeout, check=False
    )


def doc_snippet(page: str, heading: str) -> str:
    """The first Python code block of ``page`` (README.md or a docs page) after ``heading``."""
    text = (ROOT / page).read_text()
    section = text[text.index(heading) :]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, f"no Python snippet after {heading!r}"
    return match.group(1)


def test_readme_script_tour_runs_with_no_aws_configuration(tmp_path: Path) -> None:
    """The README's first snippet ('In a script') runs as written on the emulator, under env -i:
    it lists the sample's 10 fragments, prints its frames, and writes a recording and a clip."""
    result = run_clean(
        [sys.executable, "-c", doc_snippet("README.md", "### In a script")], tmp_path
    )
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    assert all(len(row) == 5 for row in rows)  # the times are two words
    frames = [row for row in rows if row[3] in ("True", "False")]  # track, time, keyframe, size
    assert len(rows) - len(frames) == 10  # number, time, duration, size
    assert len(frames) >= 150
    assert (tmp_path / "last10.mkv").read_bytes()[:4] == b"\x1a\x45\xdf\xa3"
    clips = sorted((tmp_path / "clips").iterdir())
    assert clips and all(clip.read_bytes()[4:8] == b"ftyp" for clip in clips)


def test_testing_guide_snippet_runs_with_no_aws_configuration(tmp_path: Path) -> None:
    """The testing guide's first snippet runs as written, with no AWS configuration."""
    code = (
        doc_snippet("docs/guides/testing.md", "# Testing your own code")
        + "\nprint('snippet done')\n"
    )
    result = run_clean([sys.executable, "-c", code], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "snippet done" in result.stdout


def test_audio_guide_call_snippet_writes_the_calls_wav_with_no_aws_configuration(
    tmp_path: Path,
) -> None:
    """The audio guide's Connect call snippet runs under env -i and writes 6 s of two channels."""
    code = doc_snippet("docs/guides/audio.md", "## A call as a WAV file")
    result = run_clean([sys.executable, "-c", code], tmp_path)
    assert result.returncode == 0, result.stderr
    with wave.open(str(tmp_path / "call.wav")) as call:
        assert (call.getnchannels(), call.getframerate(), call.getnframes()) == (2, 8000, 48000)


def test_testing_guide_follower_snippet_runs_with_no_aws_configuration(tmp_path: Path) -> None:
    """The testing guide's snippet that follows a growing emulated stream runs under env -i."""
    code = doc_snippet("docs/guides/testing.md", "## A follower") + "\nprint('snippet done')\n"
    result = run_clean([sys.executable, "-c", code], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "followed" in result.stdout
    assert "snippet done" in result.stdout


def test_decoding_guide_snippet_runs_with_no_aws_configuration(tmp_path: Path) -> None:
    """The decoding guide's snippet runs as written and saves one JPEG a second."""
    result = run_clean(
        [sys.executable, "-c", doc_snippet("docs/guides/decoding.md", "# Decoding frames")],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    *frames, last = result.stdout.splitlines()
    assert re.fullmatch(r"\d+ of 150 frames decoded", last) and len(frames) in (10, 11)
    written = sorted(tmp_path.glob("*.jpg"))
    assert len(written) == len(frames) and all(p.read_bytes()[:2] == b"\xff\xd8" for p in written)


def test_export_guide_snippet_runs_with_no_aws_configuration(tmp_path: Path) -> None:
    """The export guide's first snippet exports two streams with no AWS configuration."""
    code = doc_snippet("docs/guides/export.md", "# Export at scale") + "\nprint('snippet done')\n"
    result = run_clean([sys.executable, "-c", code], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "snippet done" in result.stdout
    # 10 minutes of each stream in 2-minute shards: 5 cells of the grid, or 6 off it.
    manifest = (tmp_path / "export" / "manifest.jsonl").read_text().splitlines()
    assert 10 <= len(manifest) <= 12


def test_emulator_session_serves_raw_boto3_with_no_aws_configuration(tmp_path: Path) -> None:
    """emu.session() makes raw boto3 clients that reach the emulator with no AWS configuration."""
    code = (
        "from kvarchive.testing import Emulator\n"
        "with Emulator() as emu:\n"
        "    emu.add_stream('cam', fragment_count=3)\n"
        "    control = emu.session().client('kinesisvideo', endpoint_url=emu.endpoint_url)\n"
        "    answer = control.get_data_endpoint(StreamName='cam', APIName='LIST_FRAGMENTS')\n"
        "    print(answer['DataEndpoint'] == emu.data_endpoint_url)\n"
    )
    result = run_clean([sys.executable, "-c", code], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def notebook_extra(notebook: dict[str, Any]) -> str:
    """The extra the notebook's first cell says to install."""
    match = re.search(r'pip install "kvarchive\[(\w+)\]"', "".join(notebook["cells"][0]["source"]))
    assert match, "the notebook's first cell names no install"
    return match.group(1)


def isolated_kernel(folder: Path, extra: str) -> tuple[str, Path]:
    """A Jupyter kernel, under ``folder``, that sees the project and only what ``extra`` installs."""
    site = site_of(
        folder / "site", distributions(extra_requirements("install") + extra_requirements(extra))
    )
    spec = folder / "jupyter" / "kernels" / "only-extra"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-S", "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    env = {"PYTHONPATH": only_env(site)["PYTHONPATH"]}
    kernel = {"argv": argv, "display_name": extra, "language": "python", "env": env}
    (spec / "kernel.json").write_text(json.dumps(kernel))
    return spec.name, folder / "jupyter"


def test_quickstart_notebook_runs_with_only_the_install_it_names(tmp_path: Path) -> None:
    """examples/quickstart.ipynb runs top to bottom in a kernel that sees only the project and
    the extra its first cell names, with no AWS configuration."""
    pytest.importorskip("nbclient")
    notebook = ROOT / "examples" / "quickstart.ipynb"
    cells = json.loads(notebook.read_text())
    kernel, jupyter_path = isolated_kernel(tmp_path, notebook_extra(cells))
    executed = tmp_path / "executed.ipynb"
    code = (
        "import sys, nbformat\n"
        "from nbclient import NotebookClient\n"
        "nb = nbformat.read(sys.argv[1], as_version=4)\n"
        "nb.cells.append(nbformat.v4.new_code_cell(sys.argv[4]))\n"
        "NotebookClient(nb, timeout=120, kernel_name=sys.argv[3],\n"
        "               resources={'metadata': {'path': sys.argv[5]}}).execute()\n"
        "nbformat.write(nb, sys.argv[2])\n"
    )
    probe = "import importlib.util as u\nprint([u.find_spec(m) for m in ('tqdm', 'nbclient')])"
    args = [str(notebook), str(executed), kernel, probe, str(notebook.parent)]
    result = run_clean(
        [sys.executable, "-c", code, *args],
        tmp_path,
        {"JUPYTER_PATH": str(jupyter_path)},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    cells = json.loads(executed.read_text())["cells"]
    outputs = [o for cell in cells if cell["cell_type"] == "code" for o in cell["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert (
        "".join(outputs[-1]["text"]) == "[None, None]\n"
    )  # the kernel saw neither tqdm nor nbclient
    rich = [o for o in outputs if o["output_type"] == "execute_result"]
    assert any("<table>" in "".join(o["data"].get("text/html", "")) for o in rich)
    assert any("image/jpeg" in o["data"] for o in rich)
    assert any("image/png" in o["data"] for o in rich)  # the grid of decoded frames


def test_library_without_credentials_raises_one_clear_error(tmp_path: Path) -> None:
    """With no credentials anywhere, a call raises CredentialsError that says how to fix it."""
    code = (
        "from kvarchive import ArchivedMediaClient, CredentialsError\n"
        f"kv = ArchivedMediaClient(region_name='eu-west-1', endpoint_url={CLOSED_PORT!r})\n"
        "try:\n"
        "    kv.data_endpoint('LIST_FRAGMENTS', stream_name='cam')\n"
        "except CredentialsError as exc:\n"
        "    print(exc)\n"
    )
    result = run_clean([sys.executable, "-c", code], tmp_path)
    assert result.returncode == 0, result.stderr
    message = result.stdout.strip()
    assert message.startswith("no AWS credentials found")
    assert "AWS_ACCESS_KEY_ID" in message and "Emulator().client()" in message


def test_library_names_the_region_variable_boto3_reads(tmp_path: Path) -> None:
    """With only AWS_REGION set, the error says boto3 reads AWS_DEFAULT_REGION instead."""
    code = (
        "from kvarchive import ArchivedMediaClient, ValidationError\n"
        "kv = ArchivedMediaClient()\n"
        "try:\n"
        "    kv.data_endpoint('LIST_FRAGMENTS', stream_name='cam')\n"
        "except ValidationError as exc:\n"
        "    print(exc)\n"
    )
    result = run_clean([sys.executable, "-c", code], tmp_path, {"AWS_REGION": "eu-west-1"})
    assert result.returncode == 0, result.stderr
    assert "region_name=" in result.stdout
    assert "AWS_REGION is set, but boto3 reads AWS_DEFAULT_REGION" in result.stdout


def kvarchive_cli(*args: str) -> list[str]:
    """The installed console script, run as a new user would."""
    return [os.path.join(os.path.dirname(sys.executable), "kvarchive"), *args]


def test_cli_without_region_says_to_give_region(tmp_path: Path) -> None:
    """The CLI with no region exits 2 with one line naming --region and AWS_DEFAULT_REGION."""
    args = kvarchive_cli("fragments", "--stream-name", "cam", "--start", "-1h", "--end", "now")
    result = run_clean(args, tmp_path, {"AWS_REGION": "eu-west-1"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "--region" in lines[0] and "AWS_DEFAULT_REGION" in lines[0]


def test_cli_without_credentials_says_how_to_fix_it(tmp_path: Path) -> None:
    """The CLI with no credentials exits 1 with one line: configure, --profile, or the demo."""
    args = kvarchive_cli(
        "fragments",
        "--stream-name",
        "cam",
        "--start",
        "-1h",
        "--end",
        "now",
        "--region",
        "eu-west-1",
        "--endpoint-url",
        CLOSED_PORT,
    )
    result = run_clean(args, tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "no AWS credentials found" in lines[0]
    assert "--profile" in lines[0] and "kvarchive demo" in lines[0]
