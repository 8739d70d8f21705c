"""The command line speaks command line: flags in its messages, its own times, help with
defaults, one required choice of stream, empty results said, files named alike."""

from __future__ import annotations

import argparse
import os
import re
import warnings
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kvarchive.cli import main
from kvarchive.cli._parser import build_parser
from kvarchive.testing import Emulator

START, END = "2026-01-01T12:00:00Z", "2026-01-01T13:00:00Z"
STAMP = re.compile(r"\d{8}T\d{6}\.\d{3}Z\.jpg")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``main(argv)``; return its status, stdout and stderr."""
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def base(emulator: Emulator) -> list[str]:
    """The options that point the command line at the emulator."""
    return ["--endpoint-url", emulator.endpoint_url, "--region", "us-east-1"]


def commands() -> dict[str, argparse.ArgumentParser]:
    """Each command's parser, by name."""
    (found,) = [
        action
        for action in build_parser()._actions
        if isinstance(action, argparse._SubParsersAction)
    ]
    return dict(found.choices)


# -- messages name flags ----------------------------------------------------------------


def test_a_library_check_names_the_flag(
    capsys: pytest.CaptureFixture[str], base: list[str], emulator: Emulator, tmp_path: Path
) -> None:
    """``images --interval 50`` says what --interval must be, not what sampling_interval must
    be, and exits 2 before any request."""
    argv = ["images", "--stream-name", "cam", "--start", START, "--end", END]
    status, _, err = run(capsys, *base, *argv, "--interval", "50", "-o", str(tmp_path))
    assert (status, err) == (2, "kvarchive: error: --interval must be at least 200: 50\n")
    assert emulator.requests == []


def test_images_and_frames_refuse_a_quality_alike(
    capsys: pytest.CaptureFixture[str], base: list[str], tmp_path: Path
) -> None:
    """``--quality 0`` gets one and the same message from ``images`` and ``frames``."""
    told = []
    for command in ("images", "frames"):
        argv = [command, "--stream-name", "cam", "--start", START, "--end", END]
        told.append(run(capsys, *base, *argv, "--quality", "0", "-o", str(tmp_path)))
    assert told[0] == told[1] == (2, "", "kvarchive: error: --quality must be 1..100: 0\n")


def test_a_keyword_with_its_value_reads_as_the_flag_with_it(
    capsys: pytest.CaptureFixture[str], base: list[str]
) -> None:
    """``playback_mode='LIVE' takes no start or end`` reads as the flags that were given."""
    argv = ["hls-url", "--stream-name", "cam", "--playback-mode", "live", "--start", START]
    status, _, err = run(capsys, *base, *argv)
    assert (status, err) == (
        2,
        "kvarchive: error: --playback-mode LIVE takes no --start or --end\n",
    )


def test_words_that_are_not_keyword_arguments_stay_words(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "region" and "profile" in the no-region message stay words, not --region / --profile."""
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    argv = ["fragments", "--stream-name", "cam", "--start", START, "--end", END]
    status, _, err = run(capsys, *argv)
    assert (status, err) == (
        2,
        "kvarchive: error: no AWS region: give --region, set AWS_DEFAULT_REGION, "
        "or set region in your AWS profile\n",
    )


def test_times_in_messages_are_written_as_the_tables_write_them(
    capsys: pytest.CaptureFixture[str], base: list[str]
) -> None:
    """An end before the start is told with both times as ``2026-01-01 12:00:00.000Z``."""
    argv = ["fragments", "--stream-name", "cam", "--start", END, "--end", START]
    status, _, err = run(capsys, *base, *argv)
    assert (status, err) == (
        2,
        "kvarchive: error: --end (2026-01-01 12:00:00.000Z) is before "
        "--start (2026-01-01 13:00:00.000Z)\n",
    )


def test_kvarchive_warnings_are_one_line_in_the_commands_words(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A LateFragmentWarning during ``follow`` is told as ``kvarchive: warning: ...``, with the
    flag and the tables' time, not as Python's warning with its source line."""
    from kvarchive import LateFragmentWarning
    from kvarchive.cli._main import warnings_told

    follow = commands()["follow"]
    with warnings.catch_warnings():
        warnings.simplefilter("always")  # the tests turn warnings into errors
        with warnings_told(follow):
            warnings.warn(
                "fragment 7 (2026-01-01T12:00:00.250000+00:00) was listed more than "
                "settle=5.0s after later fragments had been yielded",
                LateFragmentWarning,
                stacklevel=1,
            )
    assert capsys.readouterr().err == (
        "kvarchive: warning: fragment 7 (2026-01-01 12:00:00.250Z) was listed more than "
        "--settle=5.0s after later fragments had been yielded\n"
    )


# -- help and usage ---------------------------------------------------------------------


def test_every_option_has_help_that_gives_its_default() -> None:
    """Each option of each command says what it is, and the ones with a default show it."""
    missing = []
    for name, parser in commands().items():
        for action in parser._actions:
            text = action.help or ""
            if not text or text == argparse.SUPPRESS:
                missing.append(f"{name} {action.dest}: no help")
            elif (
                action.default not in (None, argparse.SUPPRESS, False) and "%(default)s" not in text
            ):
                missing.append(f"{name} {action.dest}: default {action.default!r} not shown")
    assert missing == []


@pytest.mark.parametrize(
    ("command", "choice"),
    [
        ("fragments", "(--stream-name NAME | --stream-arn ARN)"),
        ("export", "(--stream-name NAME | --stream-arn ARN)"),
        ("frames", "(--stream-name NAME | --stream-arn ARN | --file FILE)"),
    ],
)
def test_the_stream_shows_in_usage_as_one_required_choice(
    capsys: pytest.CaptureFixture[str], command: str, choice: str
) -> None:
    """The usage line shows --stream-name / --stream-arn as a required either-or."""
    assert main([command, "--help"]) == 0
    usage = " ".join(capsys.readouterr().out.split("\n\n")[0].split())
    assert choice in usage


def test_two_streams_are_refused_by_the_usage_rule(
    capsys: pytest.CaptureFixture[str], base: list[str], emulator: Emulator
) -> None:
    """--stream-name before the command and --stream-arn after it are still one choice too many."""
    arn = "arn:aws:kinesisvideo:us-east-1:123456789012:stream/cam/1"
    argv = [*base, "--stream-name", "cam", "fragments", "--stream-arn", arn]
    status, out, err = run(capsys, *argv, "--start", START, "--end", END)
    assert (status, out) == (2, "")
    assert "argument --stream-arn: not allowed with argument --stream-name" in err
    assert emulator.requests == []


# -- results and files ------------------------------------------------------------------


def test_no_clips_in_a_range_is_said_on_stderr(
    capsys: pytest.CaptureFixture[str], base: list[str], emulator: Emulator, tmp_path: Path
) -> None:
    """``clips`` over a range without fragments writes nothing, says so in one line, exits 0."""
    emulator.add_stream("cam", fragment_count=2, payload_size=512)
    argv = ["clips", "--stream-name", "cam", "--start", "2025-01-01", "--end", "2025-01-02"]
    status, out, err = run(capsys, *base, *argv, "-o", str(tmp_path))
    assert (status, out) == (0, "")
    assert err == (
        "kvarchive: no fragments between 2025-01-01 00:00:00.000Z and 2025-01-02 00:00:00.000Z: "
        "no clip written\n"
    )


def test_images_and_frames_stamp_file_names_alike(
    capsys: pytest.CaptureFixture[str], base: list[str], emulator: Emulator, tmp_path: Path
) -> None:
    """Both name each file by its UTC time to the millisecond: ``20260101T120000.000Z.jpg``."""
    stream = emulator.add_sample_stream("demo")
    start: datetime = stream.fragments[0].server_timestamp
    span = ["--stream-name", "demo", "--start", start.isoformat()]
    span += ["--end", (start + timedelta(seconds=3)).isoformat()]
    names: dict[str, list[str]] = {}
    for command in ("images", "frames"):
        folder = tmp_path / command
        status, _, err = run(capsys, *base, command, *span, "-o", str(folder))
        assert status == 0, err
        names[command] = sorted(os.listdir(folder))
    assert names["images"] and names["frames"]
    assert [n for n in names["images"] + names["frames"] if not STAMP.fullmatch(n)] == []


def test_demo_says_cannot_write_as_every_command_does(
    capsys: pytest.CaptureFixture[str], base: list[str], tmp_path: Path
) -> None:
    """``demo -o`` a folder that cannot be made gives the very line ``images -o`` gives."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    folder = str(blocker / "out")
    argv = ["images", "--stream-name", "cam", "--start", START, "--end", END, "-o", folder]
    images: Any = run(capsys, *base, *argv)
    demo: Any = run(capsys, "demo", "-o", folder)
    expected = f"kvarchive: error: cannot write into {folder!r}: {str(blocker)!r} is a file"
    assert images == demo
    assert images[0] == 1 and images[2].startswith(expected)
