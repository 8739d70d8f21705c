"""``kvarchive demo --serve``: its URLs play while it runs, and Ctrl-C stops it cleanly.

The demo runs in a child process, as a user starts it; Ctrl-C is a SIGINT.
"""

from __future__ import annotations

import http.client
import json
import queue
import re
import signal
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Callable
from urllib.parse import urljoin, urlsplit
from urllib.request import urlopen

import pytest
from shells import exported, in_new_shell, lines_of

# main() as the console script runs it, then the threads still alive once it has returned.
CHILD = (
    "import sys, threading\n"
    "from kvarchive.cli import main\n"
    "status = main(sys.argv[1:])\n"
    "print('threads left:', [t.name for t in threading.enumerate()], file=sys.stderr)\n"
    "sys.exit(status)\n"
)


def read_until(lines: queue.Queue[str], done: Callable[[str], bool]) -> str:
    """Text read from ``lines`` up to the first line for which ``done`` holds (60 s at most)."""
    text = ""
    while True:
        line = lines.get(timeout=60)
        assert line, f"the demo ended before it served:\n{text}"
        text += line
        if done(line):
            return text


def get(url: str) -> bytes:
    """The body of a GET that must answer 200."""
    with urlopen(url, timeout=30) as response:
        assert response.status == 200
        return response.read()  # type: ignore[no-any-return]


def uris(playlist: bytes) -> list[str]:
    """The URI lines of an m3u8 playlist, and those of its #EXT-X-MAP tags."""
    text = playlist.decode()
    found = re.findall(r'#EXT-X-MAP:URI="([^"]+)"', text)
    return found + [line for line in text.splitlines() if line and not line.startswith("#")]


def refused(port: int) -> bool:
    """Whether nothing listens on ``port`` of 127.0.0.1 any more."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start ``kvarchive demo --serve`` with more arguments in a child; kill it if left running."""
    children: list[subprocess.Popen[str]] = []

    def start(*argv: str) -> subprocess.Popen[str]:
        command = [sys.executable, "-c", CHILD, "demo", "--serve", "-o", str(tmp_path), *argv]
        child = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path
        )
        children.append(child)
        return child

    yield start
    for child in children:
        if child.poll() is None:
            child.kill()
        child.wait()


@pytest.mark.parametrize("output", ["text", "json"])
def test_serve_plays_until_ctrl_c_then_stops_cleanly(
    demo: Callable[..., subprocess.Popen[str]], output: str
) -> None:
    """The printed HLS URL serves its playlists and segments, the DASH URL its manifest, until
    SIGINT; then the demo exits 0 with no thread left and its ports closed, dropping a
    connection still open."""
    child = demo("--output", output)
    assert child.stdout is not None and child.stderr is not None
    out, err = lines_of(child.stdout), lines_of(child.stderr)
    if output == "json":
        told = read_until(err, lambda line: "Ctrl-C to stop" in line)
        record = json.loads(read_until(out, lambda line: line == "}\n"))
        urls = {"HLS": record["hls_url"], "DASH": record["dash_url"]}
        assert len(record["written"]) >= 3
    else:
        told = read_until(out, lambda line: "Ctrl-C to stop" in line)
        urls = dict(re.findall(r"^(HLS|DASH) +(http://\S+)$", told, re.MULTILINE))
    control = int(re.search(r"Local emulator at http://127\.0\.0\.1:(\d+)", told).group(1))  # type: ignore[union-attr]

    (media,) = uris(get(urls["HLS"]))
    media_url = urljoin(urls["HLS"], media)
    init, first, *rest = uris(get(media_url))
    assert get(urljoin(media_url, init))[4:8] == b"ftyp"
    assert get(urljoin(media_url, first))[4:8] in (b"moof", b"styp")
    assert len(rest) == 9  # the ten fragments of the sample, one segment each
    manifest = ET.fromstring(get(urls["DASH"]))
    assert manifest.tag == "{urn:mpeg:dash:schema:mpd:2011}MPD"

    data = urlsplit(urls["HLS"])
    player = http.client.HTTPConnection(data.hostname or "", data.port, timeout=30)
    player.request("GET", f"{data.path}?{data.query}")  # a player still connected at Ctrl-C
    assert player.getresponse().read().startswith(b"#EXTM3U")

    child.send_signal(signal.SIGINT)
    status = child.wait(timeout=60)
    rest_of_err = read_until(err, lambda line: line.startswith("threads left:"))
    assert status == 0, rest_of_err
    assert "Stopped: the emulator is closed" in rest_of_err
    assert "threads left: ['MainThread']" in rest_of_err
    assert refused(data.port or 0) and refused(control)
    with pytest.raises((http.client.HTTPException, OSError)):
        player.request("GET", f"{data.path}?{data.query}")
        player.getresponse()
    player.close()


def test_serve_prints_the_lines_that_reach_it_from_another_shell(
    demo: Callable[..., subprocess.Popen[str]],
) -> None:
    """--serve prints the export lines ``kvarchive emulator`` prints; boto3 in a process with
    only those variables gets the demo stream's data endpoint from the emulator."""
    child = demo()
    assert child.stdout is not None and child.stderr is not None
    out, err = lines_of(child.stdout), lines_of(child.stderr)
    told = read_until(out, lambda line: "Ctrl-C to stop" in line)
    variables = exported(told.splitlines())
    control = re.search(r"Local emulator at (http://127\.0\.0\.1:\d+)", told)
    assert control is not None and set(variables) == {
        "AWS_ENDPOINT_URL_KINESIS_VIDEO",
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    }
    assert variables["AWS_ENDPOINT_URL_KINESIS_VIDEO"] == control.group(1)
    script = (
        "import boto3; print(boto3.client('kinesisvideo').get_data_endpoint("
        "StreamName='kvarchive-demo', APIName='GET_CLIP')['DataEndpoint'])"
    )
    done = in_new_shell(variables, [sys.executable, "-c", script])
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+\n", done.stdout)
    child.send_signal(signal.SIGINT)
    assert child.wait(timeout=60) == 0, read_until(err, lambda line: line.startswith("threads"))
