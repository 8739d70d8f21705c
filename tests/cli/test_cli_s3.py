"""The command line writing to s3://: a presigned link on request, and Ctrl-C leaving nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timezone
from typing import Any

import pytest

from kvarchive.cli import main
from kvarchive.testing import Emulator

T0 = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
START, END = "2026-01-01T12:00:00Z", "2026-01-01T13:00:00Z"
MiB = 1 << 20


@pytest.fixture
def s3(s3_bucket: tuple[Any, str], moto_server_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """moto's S3 through AWS_ENDPOINT_URL_S3, as a user would point boto3 at it: the client."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server_url)
    return s3_bucket[0]


def test_presign_prints_a_link_that_fetches_the_download(
    emulator: Emulator, s3: Any, s3_bucket: tuple[Any, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """``download -o s3://... --presign 1h`` prints the result line, then a working link."""
    bucket = s3_bucket[1]
    emulator.add_stream("cam", fragment_count=5, start=T0)
    argv = ["--endpoint-url", emulator.endpoint_url, "download", "--stream-name", "cam"]
    argv += ["--start", START, "--end", END, "-o", f"s3://{bucket}/cam.mkv", "--presign", "1h"]
    assert main(argv) == 0
    result, link = capsys.readouterr().out.splitlines()
    assert result.startswith(f"s3://{bucket}/cam.mkv\t5 fragments\t")
    with urllib.request.urlopen(link, timeout=30) as answer:
        assert answer.read() == s3.get_object(Bucket=bucket, Key="cam.mkv")["Body"].read()


def test_presign_with_a_local_file_is_a_usage_error_before_any_request(
    emulator: Emulator, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--presign`` with a local ``-o`` exits 2 and sends nothing."""
    emulator.add_stream("cam", fragment_count=5, start=T0)
    argv = ["--endpoint-url", emulator.endpoint_url, "clip", "--stream-name", "cam"]
    argv += ["--start", START, "--end", END, "-o", str(tmp_path / "c.mp4"), "--presign", "1h"]
    assert main(argv) == 2
    assert "--presign needs -o s3://" in capsys.readouterr().err
    assert emulator.count() == 0


def test_ctrl_c_during_an_s3_download_leaves_no_object_and_no_upload(
    emulator: Emulator, s3: Any, s3_bucket: tuple[Any, str]
) -> None:
    """A real SIGINT once parts are up: exit status 130, no object, no unfinished upload."""
    bucket = s3_bucket[1]
    emulator.add_stream("cam", fragment_count=40, payload_size=MiB, start=T0)
    emulator.bandwidth(4 * MiB)
    argv = [sys.executable, "-m", "kvarchive", "--endpoint-url", emulator.endpoint_url]
    argv += ["download", "--stream-name", "cam", "--start", START, "--end", END]
    argv += ["-o", f"s3://{bucket}/cam.mkv"]
    child = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    try:
        deadline = time.monotonic() + 60
        while not parts_uploaded(s3, bucket):
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "no part was ever uploaded"
            time.sleep(0.05)
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 130, err
    assert err == "kvarchive: interrupted\n"
    assert s3.list_objects_v2(Bucket=bucket).get("Contents", []) == []
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def parts_uploaded(s3: Any, bucket: str) -> bool:
    """Whether an unfinished upload of the bucket already holds a part."""
    for upload in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
        listed = s3.list_parts(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
        if listed.get("Parts"):
            return True
    return False


def test_images_go_under_an_s3_prefix(
    emulator: Emulator, s3: Any, s3_bucket: tuple[Any, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """``images -o s3://bucket/p`` writes each JPEG under the prefix, as a local folder gets them."""
    bucket = s3_bucket[1]
    emulator.add_sample_stream("demo", start=T0)
    argv = ["--endpoint-url", emulator.endpoint_url, "images", "--stream-name", "demo"]
    argv += ["--start", START, "--end", "2026-01-01T12:00:03Z", "-o", f"s3://{bucket}/p"]
    assert main(argv) == 0
    printed = capsys.readouterr().out.split()
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert printed and sorted(printed) == sorted(f"s3://{bucket}/{key}" for key in keys)
    first = s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read()
    assert first.startswith(b"\xff\xd8")
