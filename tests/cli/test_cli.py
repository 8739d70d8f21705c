"""The ``kvarchive`` command line, driven through ``main()`` against the emulator over HTTP."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import wave
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from kvarchive._redact import Redactor
from kvarchive.cli import main
from kvarchive.testing import Emulator

UTC = timezone.utc
T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)
START, END = "2026-01-01T12:00:00Z", "2026-01-01T13:00:00Z"
EBML_MAGIC = b"\x1a\x45\xdf\xa3"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture
def base(emulator: Emulator) -> list[str]:
    """The options that point the command line at the emulator."""
    return ["--endpoint-url", emulator.endpoint_url, "--region", "us-east-1"]


@pytest.fixture
def cam(emulator: Emulator) -> Any:
    """A stream "cam" of 10 fragments of 2 s from T0."""
    return emulator.add_stream("cam", fragment_count=10, start=T0, payload_size=4096)


@pytest.fixture
def spaced(emulator: Emulator) -> Any:
    """A stream "spaced" with a fragment every 10 minutes, from 125 to 5 minutes ago."""
    start = datetime.now(UTC) - timedelta(minutes=125)
    return emulator.add_stream(
        "spaced",
        fragment_count=13,
        start=start,
        fragment_duration_ms=2000,
        gap_ms=600_000 - 2000,
        payload_size=1024,
    )


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``main(argv)``; return its status, stdout and stderr."""
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def last_params(emulator: Emulator, operation: str) -> dict[str, Any]:
    """The parameters of the last ``operation`` request the emulator received."""
    return [r for r in emulator.requests if r.operation == operation][-1].params


def numbers_between(stream: Any, start: datetime, end: datetime) -> list[str]:
    """The numbers of the stream's fragments whose server timestamp lies in [start, end]."""
    return [f.number for f in stream.fragments if start <= f.server_timestamp <= end]


# -- help and usage -------------------------------------------------------------------


def test_python_m_kvarchive_help_lists_the_commands() -> None:
    """``python -m kvarchive --help`` exits 0 and names every command."""
    done = subprocess.run(
        [sys.executable, "-m", "kvarchive", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for command in ("endpoint", "fragments", "hls-url", "dash-url", "clip", "images", "download"):
        assert command in done.stdout
    assert "demo" in done.stdout


def test_missing_required_option_is_usage_error(
    capsys: pytest.CaptureFixture[str], base: list[str], cam: Any
) -> None:
    """A command without its required --start exits 2 with argparse's usage."""
    status, out, err = run(capsys, *base, "fragments", "--stream-name", "cam", "--end", END)
    assert status == 2
    assert out == ""
    assert "--start" in err and "usage:" in err


def test_missing_stream_is_usage_error(
    capsys: pytest.CaptureFixture[str], base: list[str], emulator: Emulator
) -> None:
    """Without --stream-name or --stream-arn a command exits 2 before any request."""
    status, _, err = run(capsys, *base, "fragments", "--start", START, "--end", END)
    assert status == 2
    assert "--stream-name" in err
    assert emulator.requests == []


def test_bad_time_is_usage_error(
    capsys: pytest.CaptureFixture[str], base: list[str], emulator: Emulator
) -> None:
    """A --start that is no time at all exits 2, naming the option, with no request."""
    argv = ["fragments", "--stream-name", "cam", "--start", "yesterday", "--end", "now"]
    status, _, err = run(capsys, *base, *argv)
    assert status == 2
    assert "--start" in err and "yesterday" in err
    assert emulator.requests == []


def test_validation_error_exits_2_on_one_line(
    capsys: pytest.CaptureFixture[str], base: list[str], cam: Any
) -> None:
    """A value the library refuses (Expires below 300) exits 2 with one line, no traceback."""
    argv = ["hls-url", "--stream-name", "cam", "--start", START, "--expires", "5"]
    status, out, err = run(capsys, *base, *argv)
    assert status == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "expires" in err
    assert "Traceback" not in err


def test_unknown_stream_exits_1_with_code_and_request_id(
    capsys: pytest.CaptureFixture[str], base: list[str], emulator: Emulator
) -> None:
    """A service error prints one stderr line with its code and request id, no traceback."""
    argv = ["fragments", "--stream-name", "nope", "--start", START, "--end", END]
    status, out, err = run(capsys, *base, *argv)
    assert status == 1
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert "ResourceNotFoundException" in lines[0]
    assert UUID.search(lines[0])
    assert "Traceback" not in err


def test_unreachable_endpoint_exits_1_on_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """A refused connection is a runtime error: status 1, one line, no traceback."""
    argv = ["fragments", "--stream-name", "cam", "--start", START, "--end", END]
    status, _, err = run(capsys, "--endpoint-url", "http://127.0.0.1:9", *argv)
    assert status == 1
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


# -- global options -------------------------------------------------------------------


@pytest.mark.parametrize("where", ["before", "after", "split"])
def test_global_options_before_or_after_the_command(
    capsys: pytest.CaptureFixture[str], emulator: Emulator, cam: Any, where: str
) -> None:
    """--endpoint-url, --region and --stream-name work on either side of the command."""
    url = ["--endpoint-url", emulator.endpoint_url]
    region = ["--region", "us-east-1"]
    stream = ["--stream-name", "cam"]
    times = ["--start", START, "--end", END, "--output", "json"]
    argv = {
        "before": [*url, *region, *stream, "fragments", *times],
        "after": ["fragments", *times, *stream, *region, *url],
        "split": [*url, "fragments", *stream, *times, *region],
    }[where]
    status, out, err = run(capsys, *argv)
    assert status == 0, err
    assert [r["number"] for r in json.loads(out)] == [f.number for f in cam.fragments]


def test_stream_arn_names_the_stream(
    capsys: pytest.CaptureFixture[str], base: list[str], emulator: Emulator, cam: Any
) -> None:
    """``--stream-arn`` is sent as StreamARN in place of a name."""
    argv = [
        "fragments",
        "--stream-arn",
        cam.arn,
        "--start",
        START,
        "--end",
        END,
        "--output",
        "json",
    ]
    status, out, err = run(capsys, *base, *argv)
    assert status == 0, err
    assert len(json.loads(out)) == len(cam.fragments)
    assert last_params(emulator, "ListFragments")["StreamARN"] == cam.arn


def test_abbreviated_options_are_refused(
    capsys: pytest.CaptureFixture[str], base: list[str], cam: Any
) -> None:
    """Prefix matching is off: --stream is not taken for --stream-name."""
    argv = ["fragments", "--stream", "cam", "--start", START, "--end", END]
    status, _, err = run(capsys, *base, *argv)
    assert status == 2
    assert "--stream" in err


# -- times ----------------------------------------------------------------------------


def test_relative_start_counts_back_from_now(
    capsys: pytest.CaptureFixture[str], base: list[str], spaced: Any
) -> None:
    """``--start -1h --end now`` lists the fragments of the last hour."""
    now = datetime.now(UTC)
    argv = ["fragments", "--stream-name", "spaced", "--start", "-1h", "--end", "now"]
    status, out, err = run(capsys, *base, *argv, "--output", "json")
    assert status == 0, err
    expected = numbers_between(spaced, now - timedelta(hours=1), now)
    assert len(expected) == 6
    assert [r["number"] for r in json.loads(out)] == expected


def test_relative_times_take_fractions_and_seconds(
    capsys: pytest.CaptureFixture[str], base: list[str], spaced: Any
) -> None:
    """``--start -1.5h --end -1800s`` spans from 90 to 30 minutes ago."""
    now = datetime.now(UTC)
    argv = ["fragments", "--stream-name", "spaced", "--start", "-1.5h", "--end", "-1800s"]
    status, out, err = run(capsys, *base, *argv, "--output", "json")
    assert status == 0, err
    expected = numbers_between(spaced, now - timedelta(minutes=90), now - timedelta(minutes=30))
    assert len(expected) == 6
    assert [r["number"] for r in json.loads(out)] == expected


def test_epoch_seconds_with_fraction_are_times(
    capsys: pytest.CaptureFixture[str], base: list[str], cam: Any
) -> None:
    """Epoch seconds with a fraction select the same fragments as the ISO times."""
    first = cam.fragments[2].server_ms / 1000
    argv = ["--start", f"{first - 0.5:.3f}", "--end", f"{first + 0.5:.3f}"]
    status, out, err = run(
        capsys, *base, "fragments", "--stream-name", "cam", *argv, "--output", "json"
    )
    assert status == 0, err
    assert [r["number"] for r in json.loads(out)] == [cam.fragments[2].number]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", T0),
        ("-30s", T0 - timedelta(seconds=30)),
        ("-90s", T0 - timedelta(seconds=90)),
        ("-15m", T0 - timedelta(minutes=15)),
        ("-1.5h", T0 - timedelta(minutes=90)),
        ("-1d", T0 - timedelta(days=1)),
        ("1767268800.25", T0 + timedelta(milliseconds=250)),
        ("2026-01-01T12:00:00", T0),
        ("2026-01-01T12:00:00Z", T0),
        ("2026-01-01T13:00:00+01:00", T0),
    ],
)
def test_time_forms_read_as_utc(text: str, expected: datetime) -> None:
    """Each time form reads as the expected aware UTC datetime, relative to one now."""
    from kvarchive.cli._times import TimeParser

    parsed = TimeParser(T0)(text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


def test_relative_time_is_joined_only_after_time_options() -> None:
    """``--start -1h`` is joined; other options and anything after ``--`` are left alone."""
    from kvarchive.cli._times import join_time_options

    argv = ["--start", "-1h", "--end", "now", "--debug", "--expires", "-5", "--", "--start", "-1d"]
    assert join_time_options(argv) == [
        "--start=-1h",
        "--end",
        "now",
        "--debug",
        "--expires",
        "-5",
        "--",
        "--start",
        "-1d",
    ]


# -- endpoint and fragments -----------------------------------------------------------


def test_endpoint_prints_the_data_endpoint(
    capsys: pytest.CaptureFixture[str], base: list[str], emulator: Emulator, cam: Any
) -> None:
    """``endpoint GET_CLIP`` prints the URL GetDataEndpoint returns."""
    status, out, err = run(capsys, *base, "endpoint", "GET_CLIP", "--stream-name", "cam")
    assert status == 0, err
    assert out == emulator.data_endpoint_url + "\n"
    assert last_params(emulator, "GetDataEndpoint")["APIName"] == "GET_CLIP"


def test_fragments_table_is_the_default(
    capsys: pytest.CaptureFixture[str], base: list[str], cam: Any
) -> None:
    """Without --output, a header then one row per fragment, in time order, times compact."""
    argv = ["fragments", "--stream-name", "cam", "--start", START, "--end", END]
    status, out, err = run(capsys, *base, *argv)
    assert status == 0, err
    header, *rows = out.splitlines()
    assert re.split(r"\s{2,}", header) == [
        "FRAGMENT NUMBER",
        "SERVER TIMESTAMP",
        "PRODUCER TIMESTAMP",
        "DURATION",
        "SIZE",
    ]
    first = cam.fragments[0]
    assert [row.split()[0] for row in rows] == [f.number for f in cam.fragments]
    assert re.split(r"\s{2,}", rows[0])[1:] == [
        "2026-01-01 12:00:00.000Z",
        first.producer_timestamp.isoformat(" ", timespec="milliseconds").replace("+00:00", "Z"),
        "2.000s",
        str(first.size),
    ]


def test_fragments_json_is_a_list_with_iso_times(
    capsys: pytest.CaptureFixture[str], base: list[str], cam: Any
) -> None:
    """``--output json`` prints a list of objects whose times are ISO 8601 in UTC."""
    argv = ["fragments", "--stream-name", "cam", "--start", START, "--end", END]
    status, out, err = run(capsys, *base, *argv, "--output", "json")
    assert status == 0, err
    records = json.loads(out)
    first = cam.fragments[0]
    assert records[0] == {
        "number": first.number,
        "server_timestamp": "2026-01-01T12:00:00.000Z",
        "producer_timestamp": first.producer_timestamp.isoformat(timespec="milliseconds").replace(
            "+00:00", "Z"
        ),
        "duration_ms": 2000,
        "size": first.size,
    }
    assert len(records) == len(cam.fragments)


def test_fragments_csv_has_a_header(
    capsys: pytest.CaptureFixture[str], base: list[str], cam: Any
) -> None:
    """``--output csv`` prints a header row then one row per fragment."""
    argv = ["fragments", "--stream-name", "cam", "--start", START, "--end", END]
    status, out, err = run(capsys, *base, *argv, "--output", "csv")
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0] == "number,server_timestamp,producer_timestamp,duration_ms,size"
    assert lines[1].startswith(f"{cam.fragments[0].number},2026-01-01T12:00:00.000Z,")
    assert len(lines) == 1 + len(cam.fragments)


@pytest.mark.parametrize(("output", "expected"), [("json", "[]\n"), ("csv", None), ("table", None)])
def test_empty_range_prints_an_empty_result(
    capsys: pytest.CaptureFixture[str], base: list[str], cam: Any, output: str, expected: Any
) -> None:
    """A range without fragments prints only the header (or ``[]``), says so in one line of
    stderr, and exits 0."""
    argv = ["fragments", "--stream-name", "cam", "--start", "2025-01-01", "--end", "2025-01-02"]
    status, out, err = run(capsys, *base, *argv, "--output", output)
    assert status == 0, err
    assert err == (
        "kvarchive: no fragments between 2025-01-01 00:00:00.000Z and 2025-01-02 00:00:00.000Z\n"
    )
    if expected is not None:
        assert out == expected
    else:
        assert len(out.splitlines()) == 1
        assert "number" in out.lower()


def test_output_is_a_format_never_a_file(
    capsys: pytest.CaptureFixture[str],
    base: list[str],
    cam: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``--output json`` prints JSON and writes no file."""
    monkeypatch.chdir(tmp_path)
    argv = ["fragments", "--stream-name", "cam", "--start", START, "--end", END]
    status, out, _ = run(capsys, *base, *argv, "--output", "json")
    assert status == 0
    assert isinstance(json.loads(out), list)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("option", ["--output", "--out", "--outf"])
def test_clip_refuses_output_and_prefixes_for_outfile(
    capsys: pytest.CaptureFixture[str],
    base: list[str],
    cam: Any,
    tmp_path: Path,
    option: str,
) -> None:
    """``clip --output FILE`` (a format, not a path) or a prefix of --outfile is a usage error."""
    argv = ["clip", "--stream-name", "cam", "--start", START, "--end", END]
    paths = ["-o", str(tmp_path / "clip.mp4"), option, str(tmp_path / "other.mp4")]
    status, _, err = run(capsys, *base, *argv, *paths)
    assert status == 2
    if option == "--output":
        assert "--output: invalid choice" in err
    else:
        assert f"unrecognized arguments: {option}" in err
    assert list(tmp_path.iterdir()) == []


# -- streaming sessions ---------------------------------------------------------------


def test_hls_url_without_range_is_live(
    capsys: pytest.CaptureFixture[str], base: list[str], emulator: Emulator
) -> None:
    """``hls-url`` with no range asks for LIVE and prints only the URL."""
    emulator.add_stream("live", fragment_count=5)
    status, out, err = run(capsys, *base, "hls-url", "--stream-name", "live")
    assert status == 0, err
    assert out.strip().startswith(emulator.data_endpoint_url + "/hls/v1/")
    assert f"SessionToken={emulator.session_token}" in out
    assert len(out.splitlines()) == 1
    params = last_params(emulator, "GetHLSStreamingSessionURL")
    assert params["PlaybackMode"] == "LIVE"
    assert "HLSFragmentSelector" not in params


def test_hls_url_with_start_only_is_live_replay(
    capsys: pytest.CaptureFixture[str], base: list[str], emulator: Emulator, cam: Any
) -> None:
    """``hls-url --start`` asks for LIVE_REPLAY from that time."""
    status, _, err = run(capsys, *base, "hls-url", "--stream-name", "cam", "--start", START)
    assert status == 0, err
    params = last_params(emulator, "GetHLSStreamingSessionURL")
    assert params["PlaybackMode"] == "LIVE_REPLAY"
    assert "EndTimestamp" not in params["HLSFragmentSelector"]["TimestampRange"]


def test_dash_url_with_both_times_is_on_demand(
    capsys: pytest.CaptureFixture[str], base: list[str], emulator: Emulator, cam: Any
) -> None:
    """``dash-url --start --end`` asks for ON_DEMAND over that range and prints the URL."""
    argv = ["dash-url", "--stream-name", "cam", "--start", START, "--end", END]
    status, out, err = run(capsys, *base, *argv)
    assert status == 0, err
    assert out.strip().endswith(f"SessionToken={emulator.session_tokens[-1]}")
    params = last_params(emulator, "GetDASHStreamingSessionURL")
    assert params["PlaybackMode"] == "ON_DEMAND"
    assert set(params["DASHFragmentSelector"]["TimestampRange"]) == {
        "StartTimestamp",
        "EndTimestamp",
    }


def test_playback_mode_option_overrides_the_guess(
    capsys: pytest.CaptureFixture[str], base: list[str], emulator: Emulator, cam: Any
) -> None:
    """``--playback-mode live_replay`` wins over the ON_DEMAND that both times suggest."""
    argv = ["hls-url", "--stream-name", "cam", "--start", START, "--end", END]
    status, _, err = run(capsys, *base, *argv, "--playback-mode", "live_replay")
    assert status == 0, err
    assert last_params(emulator, "GetHLSStreamingSessionURL")["PlaybackMode"] == "LIVE_REPLAY"


def test_hls_url_options_reach_the_request(
    capsys: pytest.CaptureFixture[str], base: list[str], emulator: Emulator, cam: Any
) -> None:
    """--expires, --container-format and the result limit are sent as asked."""
    argv = ["hls-url", "--stream-name", "cam", "--start", START, "--end", END, "--expires"]
    extra = ["3600", "--container-format", "MPEG_TS", "--max-media-playlist-fragment-results", "7"]
    status, _, err = run(capsys, *base, *argv, *extra)
    assert status == 0, err
    params = last_params(emulator, "GetHLSStreamingSessionURL")
    assert params["Expires"] == 3600
    assert params["ContainerFormat"] == "MPEG_TS"
    assert params["MaxMediaPlaylistFragmentResults"] == 7


def test_end_without_start_is_usage_error(
    capsys: pytest.CaptureFixture[str], base: list[str], cam: Any
) -> None:
    """``dash-url --end`` alone names no playback mode: exit 2."""
    status, _, err = run(capsys, *base, "dash-url", "--stream-name", "cam", "--end", END)
    assert status == 2
    assert "--end" in err


# -- files ----------------------------------------------------------------------------


def test_clip_writes_an_mp4_and_prints_its_path(
    capsys: pytest.CaptureFixture[str], base: list[str], cam: Any, tmp_path: Path
) -> None:
    """``clip -o FILE`` writes the MP4 from GetClip, prints the path, leaves no temp file."""
    target = tmp_path / "clip.mp4"
    argv = ["clip", "--stream-name", "cam", "--start", START, "--end", END, "-o", str(target)]
    status, out, err = run(capsys, *base, *argv)
    assert status == 0, err
    assert out == f"{target}\n"
    assert target.read_bytes()[4:8] == b"ftyp"
    assert os.listdir(tmp_path) == ["clip.mp4"]


def test_clip_into_a_missing_folder_makes_it(
    capsys: pytest.CaptureFixture[str], base: list[str], cam: Any, tmp_path: Path
) -> None:
    """A clip's missing folders are made, as for every output path."""
    target = tmp_path / "missing" / "deeper" / "clip.mp4"
    argv = ["clip", "--stream-name", "cam", "--start", START, "--end", END, "-o", str(target)]
    status, out, err = run(capsys, *base, *argv)
    assert status == 0, err
    assert out == f"{target}\n"
    assert os.listdir(target.parent) == ["clip.mp4"]


def test_clip_under_a_file_exits_1_naming_the_path_before_any_request(
    capsys: pytest.CaptureFixture[str],
    base: list[str],
    cam: Any,
    tmp_path: Path,
    emulator: Emulator,
) -> None:
    """A clip that cannot be written is one error line naming the path, and nothing is fetched."""
    (tmp_path / "taken").write_bytes(b"a file, not a folder")
    target = tmp_path / "taken" / "clip.mp4"
    argv = ["clip", "--stream-name", "cam", "--start", START, "--end", END, "-o", str(target)]
    status, _, err = run(capsys, *base, *argv)
    assert status == 1
    assert str(target) in err
    assert len(err.strip().splitlines()) == 1
    assert emulator.count() == 0


def test_images_are_named_by_timestamp_and_missing_ones_summarised(
    capsys: pytest.CaptureFixture[str], base: list[str], cam: Any, tmp_path: Path
) -> None:
    """Each image is a JPEG named by its time; instants without media make one stderr line."""
    folder = tmp_path / "frames"
    argv = ["images", "--stream-name", "cam", "-o", str(folder), "--interval", "2000"]
    times = ["--start", "2026-01-01T11:59:56Z", "--end", "2026-01-01T12:00:06Z"]
    status, out, err = run(capsys, *base, *argv, *times)
    assert status == 0, err
    written = sorted(out.split())
    assert sorted(str(p) for p in folder.iterdir()) == written
    assert [os.path.basename(p) for p in written][:2] == [
        "20260101T120000.000Z.jpg",
        "20260101T120002.000Z.jpg",
    ]
    assert all(Path(p).read_bytes()[:2] == b"\xff\xd8" for p in written)
    assert err == f"4 image(s) written to {folder}; 2 of 6 instant(s) had no media\n"


def test_images_png_format(
    capsys: pytest.CaptureFixture[str], base: list[str], cam: Any, tmp_path: Path
) -> None:
    """``--format png --width --height`` writes .png files of PNG bytes."""
    argv = ["images", "--stream-name", "cam", "-o", str(tmp_path), "--format", "png"]
    extra = ["--width", "32", "--height", "24", "--start", START, "--end", "2026-01-01T12:00:03Z"]
    status, out, err = run(capsys, *base, *argv, *extra)
    assert status == 0, err
    paths = out.split()
    assert paths and all(p.endswith(".png") for p in paths)
    assert all(Path(p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)


@pytest.mark.parametrize("alone", [["--width", "320"], ["--height", "240"]], ids=["w", "h"])
def test_images_with_width_or_height_alone_exits_2_naming_both_before_any_request(
    capsys: pytest.CaptureFixture[str],
    base: list[str],
    cam: Any,
    tmp_path: Path,
    emulator: Emulator,
    alone: list[str],
) -> None:
    """``--width`` without ``--height`` (or the reverse) is one error line naming both flags."""
    argv = ["images", "--stream-name", "cam", "-o", str(tmp_path / "out"), *alone]
    status, out, err = run(capsys, *base, *argv, "--start", START, "--end", END)
    assert (status, out) == (2, "")
    assert len(err.strip().splitlines()) == 1
    assert "--width" in err and "--height" in err
    assert emulator.count() == 0 and not (tmp_path / "out").exists()


def test_download_writes_one_mkv_and_reports_it(
    capsys: pytest.CaptureFixture[str], base: list[str], cam: Any, tmp_path: Path
) -> None:
    """``download -o FILE`` writes the MKV and prints its path, fragment count and size."""
    target = tmp_path / "rec.mkv"
    argv = ["download", "--stream-name", "cam", "--start", START, "--end", END, "-o", str(target)]
    status, out, err = run(capsys, *base, *argv)
    assert status == 0, err
    data = target.read_bytes()
    assert data.startswith(EBML_MAGIC)
    assert out.strip().split("\t") == [str(target), "10 fragments", f"{len(data)} bytes"]


def test_download_with_concurrency_writes_the_same_file(
    capsys: pytest.CaptureFixture[str], base: list[str], cam: Any, tmp_path: Path
) -> None:
    """``--concurrency 3`` writes the same recording as one connection does."""
    one, three = tmp_path / "one.mkv", tmp_path / "three.mkv"
    common = ["download", "--stream-name", "cam", "--start", START, "--end", END]
    assert run(capsys, *base, *common, "-o", str(one))[0] == 0
    assert run(capsys, *base, *common, "-o", str(three), "--concurrency", "3")[0] == 0
    assert three.read_bytes() == one.read_bytes()


def test_download_of_an_empty_range_exits_1(
    capsys: pytest.CaptureFixture[str], base: list[str], cam: Any, tmp_path: Path
) -> None:
    """Nothing to download is a runtime error on one line, and no file is left."""
    target = tmp_path / "rec.mkv"
    times = ["--start", "2025-01-01", "--end", "2025-01-02", "-o", str(target)]
    status, _, err = run(capsys, *base, "download", "--stream-name", "cam", *times)
    assert status == 1
    assert len(err.strip().splitlines()) == 1
    assert not target.exists()


# -- debug and secrets ----------------------------------------------------------------


def secrets_in(text: str, emulator: Emulator) -> list[str]:
    """Which planted secrets (credentials, the emulator's session token) ``text`` holds."""
    planted = [
        os.environ["AWS_SECRET_ACCESS_KEY"],
        os.environ["AWS_SESSION_TOKEN"],
        emulator.session_token,
    ]
    return [secret for secret in planted if secret in text]


def test_debug_shows_traceback_without_secrets(
    capsys: pytest.CaptureFixture[str], base: list[str], emulator: Emulator
) -> None:
    """``--debug`` on a service error prints the traceback and logs, with no secret."""
    argv = ["--debug", "fragments", "--stream-name", "nope", "--start", START, "--end", END]
    status, _, err = run(capsys, *base, *argv)
    assert status == 1
    assert "Traceback (most recent call last)" in err
    assert "botocore" in err and "[DEBUG]" in err
    assert "ResourceNotFoundException" in err.strip().splitlines()[-1]
    assert secrets_in(err, emulator) == []


def test_debug_masks_the_session_token_except_in_the_asked_url(
    capsys: pytest.CaptureFixture[str], base: list[str], emulator: Emulator, cam: Any
) -> None:
    """With --debug the URL on stdout keeps its token; stderr logs show no secret."""
    argv = ["--debug", "hls-url", "--stream-name", "cam", "--start", START, "--end", END]
    status, out, err = run(capsys, *base, *argv)
    assert status == 0, err
    assert secrets_in(out, emulator) == [emulator.session_token]
    assert "HLSStreamingSessionURL" in err
    assert "SessionToken=***" in err
    assert secrets_in(err, emulator) == []


def test_redactor_masks_headers_urls_and_known_values() -> None:
    """Tokens, Authorization and secret keys are masked in every shape logs print them."""
    redact = Redactor(["known-secret-value"])
    text = redact(
        "{'X-Amz-Security-Token': b'tok1', 'Authorization': b'AWS4-HMAC-SHA256 Credential=AK/x, "
        "Signature=abc'} x-amz-security-token:tok2 https://h/x.m3u8?SessionToken=tok3&a=1 "
        '{"aws_secret_access_key": "tok4"} plain known-secret-value'
    )
    for secret in ("tok1", "Credential", "Signature", "tok2", "tok3", "tok4", "known-secret"):
        assert secret not in text
    assert "&a=1" in text


# -- demo -----------------------------------------------------------------------------


def test_demo_writes_every_file_it_lists(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``demo -o DIR`` writes an MKV, an MP4, JPEG frames and a call's WAV, and lists those."""
    status, out, err = run(capsys, "demo", "-o", str(tmp_path))
    assert status == 0, err
    listed = [line[len("wrote ") :] for line in out.splitlines() if line.startswith("wrote ")]
    assert sorted(listed) == sorted(str(p) for p in tmp_path.iterdir())
    assert (tmp_path / "recording.mkv").read_bytes().startswith(EBML_MAGIC)
    assert (tmp_path / "clip.mp4").read_bytes()[4:8] == b"ftyp"
    frames = [Path(p) for p in listed if p.endswith(".jpg")]
    assert frames
    assert all(frame.read_bytes()[:2] == b"\xff\xd8" for frame in frames)
    with wave.open(str(tmp_path / "call.wav")) as call:
        assert (call.getnchannels(), call.getframerate(), call.getnframes()) == (2, 8000, 48000)


def test_demo_needs_no_aws_configuration(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``demo`` runs with no credentials, region or profile, into ./kvarchive-demo by default."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys, "demo")
    assert status == 0, err
    assert (tmp_path / "kvarchive-demo" / "recording.mkv").is_file()
    assert "wrote kvarchive-demo" in out
