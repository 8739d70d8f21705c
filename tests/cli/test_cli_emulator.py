"""``kvarchive emulator``: the lines it prints let kvarchive, boto3 and the AWS CLI in another
shell reach it; Ctrl-C stops it with status 0.

The emulator runs in a child process, as a user starts it; each other program runs in a
process of its own that sees only the printed variables and PATH, as ``env -i`` would.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from shells import exported, in_new_shell, lines_of, read_lines_until

KVARCHIVE = [sys.executable, "-m", "kvarchive"]
SERVING = "# Serving until Ctrl-C."


class Running(NamedTuple):
    """A ``kvarchive emulator`` child, what it printed, and the variables of its export lines."""

    child: subprocess.Popen[str]
    printed: list[str]
    variables: dict[str, str]


@pytest.fixture
def start_emulator() -> Iterator[Callable[..., Running]]:
    """Start ``kvarchive emulator ARGS`` in a child; read its stdout up to "Serving"."""
    children: list[subprocess.Popen[str]] = []

    def start(*argv: str) -> Running:
        child = subprocess.Popen(
            [*KVARCHIVE, "emulator", *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        children.append(child)
        assert child.stdout is not None
        printed = read_lines_until(lines_of(child.stdout), SERVING)
        return Running(child, printed, exported(printed))

    yield start
    for child in children:
        if child.poll() is None:
            child.kill()
        child.wait()
        assert child.stderr is not None
        child.stderr.close()  # stdout is closed by the thread that reads it


@pytest.fixture
def running(start_emulator: Callable[..., Running]) -> Running:
    """``kvarchive emulator --port 0``: the sample stream "demo" on a free port."""
    return start_emulator("--port", "0")


def stream_range(printed: list[str], name: str) -> tuple[str, str]:
    """The --start and --end of the command printed for stream ``name``."""
    text = "".join(printed)
    found = re.search(rf"kvarchive fragments --stream-name {name} --start (\S+) --end (\S+)", text)
    assert found is not None, text
    return found.group(1), found.group(2)


def test_the_export_lines_come_first(running: Running) -> None:
    """The first four lines are the exports another shell needs: endpoint, region, dummy keys."""
    names = [re.match(r"export (\w+)=", line) for line in running.printed[:4]]
    assert [found.group(1) if found else None for found in names] == [
        "AWS_ENDPOINT_URL_KINESIS_VIDEO",
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    ]
    assert re.fullmatch(
        r"http://127\.0\.0\.1:\d+", running.variables["AWS_ENDPOINT_URL_KINESIS_VIDEO"]
    )


def test_kvarchive_in_another_shell_lists_the_demo_stream(running: Running) -> None:
    """``kvarchive fragments`` with only the printed variables lists the sample's 10 fragments."""
    start, end = stream_range(running.printed, "demo")
    argv = [*KVARCHIVE, "fragments", "--stream-name", "demo", "--start", start, "--end", end]
    done = in_new_shell(running.variables, [*argv, "--output", "json"])
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)) == 10


BOTO3_SCRIPT = textwrap.dedent(
    """
    import sys
    import boto3

    control = boto3.client("kinesisvideo")
    url = control.get_data_endpoint(StreamName="demo", APIName="LIST_FRAGMENTS")["DataEndpoint"]
    archive = boto3.client("kinesis-video-archived-media", endpoint_url=url)
    selector = {"FragmentSelectorType": "SERVER_TIMESTAMP",
                "TimestampRange": {"StartTimestamp": sys.argv[1], "EndTimestamp": sys.argv[2]}}
    listed = archive.list_fragments(StreamName="demo", FragmentSelector=selector)
    print(len(listed["Fragments"]))
    """
)


def test_raw_boto3_in_another_shell_reaches_it(running: Running) -> None:
    """A boto3 script given no endpoint finds the emulator by the printed variables alone."""
    start, end = stream_range(running.printed, "demo")
    done = in_new_shell(running.variables, [sys.executable, "-c", BOTO3_SCRIPT, start, end])
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["10"]


@pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI (aws) is not installed")
def test_the_aws_cli_in_another_shell_reaches_it(running: Running) -> None:
    """``aws kinesisvideo get-data-endpoint`` with only the printed variables gets the emulator's
    data endpoint, and ``list-fragments`` there lists the sample's fragments."""
    asked = ["get-data-endpoint", "--stream-name", "demo", "--api-name", "LIST_FRAGMENTS"]
    found = in_new_shell(running.variables, ["aws", "kinesisvideo", *asked, "--output", "json"])
    assert found.returncode == 0, found.stderr
    url = json.loads(found.stdout)["DataEndpoint"]
    assert url.startswith("http://127.0.0.1:")
    start, end = stream_range(running.printed, "demo")
    selector = "FragmentSelectorType=SERVER_TIMESTAMP,"
    selector += f"TimestampRange={{StartTimestamp={start},EndTimestamp={end}}}"
    asked = ["list-fragments", "--endpoint-url", url, "--stream-name", "demo"]
    asked += ["--fragment-selector", selector, "--output", "json"]
    listed = in_new_shell(running.variables, ["aws", "kinesis-video-archived-media", *asked])
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)["Fragments"]) == 10


def test_ctrl_c_stops_it_with_status_0(running: Running) -> None:
    """SIGINT closes the emulator and exits 0, saying it stopped."""
    running.child.send_signal(signal.SIGINT)
    status = running.child.wait(timeout=30)
    assert running.child.stderr is not None
    err = running.child.stderr.read()
    assert status == 0, err
    assert err == "Stopped: the emulator is closed.\n"


def test_streams_of_each_kind_and_a_port_of_ones_choice(
    start_emulator: Callable[..., Running],
) -> None:
    """--stream NAME=synthetic:N serves N synthetic fragments beside the sample, on --port P."""
    port = free_port()
    started = start_emulator(
        "--stream", "cam=synthetic:7", "--stream", "clip=sample", "--port", str(port)
    )
    assert started.variables["AWS_ENDPOINT_URL_KINESIS_VIDEO"] == f"http://127.0.0.1:{port}"
    for name, count in (("cam", 7), ("clip", 10)):
        start, end = stream_range(started.printed, name)
        argv = [*KVARCHIVE, "fragments", "--stream-name", name, "--start", start, "--end", end]
        done = in_new_shell(started.variables, [*argv, "--output", "json"])
        assert done.returncode == 0, done.stderr
        assert len(json.loads(done.stdout)) == count


def test_a_call_stream_serves_connects_two_tracks(
    start_emulator: Callable[..., Running], tmp_path: Path
) -> None:
    """--stream NAME=call:N serves N one-second fragments of a Connect call, whose audio a
    kvarchive in another shell writes as a two-channel WAV of N seconds."""
    started = start_emulator("--stream", "call=call:4", "--port", "0")
    start, end = stream_range(started.printed, "call")
    path = tmp_path / "call.wav"
    argv = [*KVARCHIVE, "audio", "--stream-name", "call", "--start", start, "--end", end]
    done = in_new_shell(started.variables, [*argv, "-o", str(path), "--output", "json"])
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["tracks"] == ["AUDIO_FROM_CUSTOMER", "AUDIO_TO_CUSTOMER"]
    assert answer["duration_seconds"] == 4.0


def free_port() -> int:
    """A port nothing listens on now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--stream", "a=b"], "not a kind of stream: 'b'"),
        (["--stream", "a=synthetic:0"], "not a kind of stream"),
        (["--stream", "a=call:0"], "not a kind of stream"),
        (["--stream", "no spaces"], "not a stream name"),
        (["--stream", "a", "--stream", "a=synthetic:2"], "a name of its own"),
    ],
)
def test_a_stream_that_cannot_be_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    """A --stream of no known kind, a bad name or a name twice exits 2 before serving."""
    from kvarchive.cli import main

    assert main(["emulator", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err.splitlines()[-1]


def test_a_port_in_use_is_one_line_that_says_what_to_do(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A --port something else listens on exits 1 naming the port and --port 0."""
    import socket

    from kvarchive.cli import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["emulator", "--port", str(port)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"kvarchive: error: cannot serve on 127.0.0.1:{port}: Address already in use "
        "(--port 0 picks a free port)\n"
    )
