"""One rule for every output path: folders are made, errors name the user's path, before any media."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from kvarchive import ArchivedMediaClient, KVArchiveError, ValidationError
from kvarchive.cli import main
from kvarchive.testing import Emulator

T0 = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
SPAN = {"start": T0, "end": T0 + timedelta(minutes=1)}
MEDIA = ("GetMediaForFragmentList", "GetClip", "GetImages")


@pytest.fixture
def cam(emulator: Emulator) -> Any:
    """A stream "cam" of 10 fragments of 2 s from T0."""
    return emulator.add_stream("cam", fragment_count=10, start=T0, payload_size=512)


def media_requests(emulator: Emulator) -> int:
    return sum(emulator.count(operation) for operation in MEDIA)


def test_download_into_missing_folders_makes_them(
    kv: ArchivedMediaClient, cam: Any, tmp_path: Path
) -> None:
    """download(path=missing/dirs/x.mkv) makes the folders and writes only the file."""
    path = tmp_path / "missing" / "dirs" / "x.mkv"
    result = kv.download(stream_name="cam", **SPAN, path=path)
    assert result.fragment_count == 10
    assert os.listdir(path.parent) == ["x.mkv"]


@pytest.mark.parametrize("concurrency", [1, 3])
def test_download_to_a_folder_is_refused_before_any_request(
    kv: ArchivedMediaClient, emulator: Emulator, cam: Any, tmp_path: Path, concurrency: int
) -> None:
    """A download path that is an existing folder is a ValidationError naming it, sent nowhere."""
    with pytest.raises(ValidationError, match=str(tmp_path)):
        kv.download(stream_name="cam", **SPAN, path=tmp_path, concurrency=concurrency)
    assert emulator.count() == 0
    assert list(tmp_path.iterdir()) == []


def test_download_under_a_file_names_the_users_path(
    kv: ArchivedMediaClient, emulator: Emulator, cam: Any, tmp_path: Path
) -> None:
    """A folder that cannot be made is a KVArchiveError naming the path given, not a temporary file."""
    (tmp_path / "taken").write_text("a file, not a folder")
    path = tmp_path / "taken" / "x.mkv"
    with pytest.raises(KVArchiveError) as caught:
        kv.download(stream_name="cam", **SPAN, path=path)
    assert str(path) in str(caught.value)
    assert ".part" not in str(caught.value)
    assert not isinstance(caught.value, ValidationError)
    assert emulator.count() == 0


def test_download_clips_into_a_relative_missing_folder(
    kv: ArchivedMediaClient, cam: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """download_clips(directory="clips/"), as the README writes it, makes the folder."""
    monkeypatch.chdir(tmp_path)
    results = kv.download_clips(stream_name="cam", **SPAN, directory="clips/", max_fragments=4)
    assert [os.path.basename(r.path) for r in results] == [
        "clip-0001.mp4",
        "clip-0002.mp4",
        "clip-0003.mp4",
    ]
    assert sorted(os.listdir(tmp_path / "clips")) == [os.path.basename(r.path) for r in results]


def test_download_clips_under_a_file_fails_before_any_request(
    kv: ArchivedMediaClient, emulator: Emulator, cam: Any, tmp_path: Path
) -> None:
    """A clips folder that cannot be made is a KVArchiveError naming it, before ListFragments."""
    (tmp_path / "taken").write_text("a file")
    with pytest.raises(KVArchiveError, match="taken"):
        kv.download_clips(stream_name="cam", **SPAN, directory=tmp_path / "taken" / "clips")
    assert emulator.count() == 0


def run(emulator: Emulator, *argv: str) -> int:
    return main(["--endpoint-url", emulator.endpoint_url, "--region", "us-east-1", *argv])


def test_cli_download_to_a_folder_exits_2_before_fetching(
    emulator: Emulator, cam: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``download -o EXISTING_DIR`` fails at once, naming the folder, with nothing fetched."""
    argv = ["download", "--stream-name", "cam", "--start", "2026-01-01T12:00:00Z"]
    status = run(emulator, *argv, "--end", "2026-01-01T12:01:00Z", "-o", str(tmp_path))
    err = capsys.readouterr().err
    assert status == 2
    assert str(tmp_path) in err
    assert len(err.strip().splitlines()) == 1
    assert media_requests(emulator) == 0


@pytest.mark.parametrize("command", ["images", "clips"])
def test_cli_folders_are_made_or_refused_alike(
    emulator: Emulator,
    cam: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    """``images -o DIR`` and ``clips -o DIR`` make a missing folder; under a file they exit 1 first."""
    times = ["--start", "2026-01-01T12:00:00Z", "--end", "2026-01-01T12:00:10Z"]
    made = tmp_path / "new" / "folder"
    assert run(emulator, command, "--stream-name", "cam", *times, "-o", str(made)) == 0
    assert os.listdir(made)
    (tmp_path / "taken").write_text("a file")
    emulator.clear_requests()
    blocked = tmp_path / "taken" / "folder"
    capsys.readouterr()
    assert run(emulator, command, "--stream-name", "cam", *times, "-o", str(blocked)) == 1
    assert str(blocked) in capsys.readouterr().err
    assert media_requests(emulator) == 0


def test_cli_clip_honours_the_umask(
    emulator: Emulator, cam: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI's clip gets the permissions open() would give, and the umask is left alone."""
    mask = os.umask(0o027)
    try:
        times = ["--start", "2026-01-01T12:00:00Z", "--end", "2026-01-01T12:00:10Z"]
        target = tmp_path / "clip.mp4"
        assert run(emulator, "clip", "--stream-name", "cam", *times, "-o", str(target)) == 0
        assert os.umask(0o027) == 0o027
    finally:
        os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o640
