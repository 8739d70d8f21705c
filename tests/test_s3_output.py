"""Writing to s3://: the objects a local path would get, uploaded in checksummed parts, or nothing."""

from __future__ import annotations

import base64
import hashlib
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from kvarchive import ArchivedMediaClient, KVArchiveError, UsageError, ValidationError
from kvarchive.testing import Emulator

T0 = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
END = T0 + timedelta(hours=1)
MiB = 1 << 20


@pytest.fixture
def s3(s3_bucket: tuple[Any, str], moto_server_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """moto's S3 as boto3's own endpoint setting names it (AWS_ENDPOINT_URL_S3): the client."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server_url)
    return s3_bucket[0]


@pytest.fixture
def bucket(s3_bucket: tuple[Any, str]) -> str:
    """The test's own empty bucket."""
    return s3_bucket[1]


@pytest.fixture
def cam(emulator: Emulator) -> Any:
    """30 fragments of about 1 MiB: a recording of about 30 MiB, four 8 MiB parts."""
    return emulator.add_stream("cam", fragment_count=30, payload_size=MiB, start=T0)


def leftovers(s3: Any, bucket: str) -> tuple[list[str], list[Any]]:
    """The bucket's object keys and its unfinished multipart uploads."""
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return keys, s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])


def body(s3: Any, bucket: str, key: str) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()  # type: ignore[no-any-return]


def test_an_s3_download_is_byte_for_byte_the_local_file(
    kv: ArchivedMediaClient, cam: Any, s3: Any, bucket: str, tmp_path: Path
) -> None:
    """download(path="s3://...") stores exactly the bytes a local download writes, named by its URL."""
    local = kv.download(stream_name="cam", start=T0, end=END, path=tmp_path / "cam.mkv")
    result = kv.download(stream_name="cam", start=T0, end=END, path=f"s3://{bucket}/rec/cam.mkv")
    assert result.path == f"s3://{bucket}/rec/cam.mkv"
    assert result.bytes_written == local.bytes_written > 3 * 8 * MiB
    assert body(s3, bucket, "rec/cam.mkv") == (tmp_path / "cam.mkv").read_bytes()


def test_every_part_is_8_mib_and_carries_the_sha256_of_its_bytes(
    kv: ArchivedMediaClient, cam: Any, s3: Any, bucket: str
) -> None:
    """Each part but the last is 8 MiB, and the SHA-256 S3 keeps for it is that of its bytes."""
    kv.download(stream_name="cam", start=T0, end=END, path=f"s3://{bucket}/cam.mkv")
    data = body(s3, bucket, "cam.mkv")
    head = s3.head_object(Bucket=bucket, Key="cam.mkv", PartNumber=1, ChecksumMode="ENABLED")
    count = head["PartsCount"]
    assert count == -(-len(data) // (8 * MiB))
    offset = 0
    for number in range(1, count + 1):
        part = s3.head_object(
            Bucket=bucket, Key="cam.mkv", PartNumber=number, ChecksumMode="ENABLED"
        )
        size = part["ContentLength"]
        assert size == 8 * MiB or number == count
        digest = hashlib.sha256(data[offset : offset + size]).digest()
        assert part["ChecksumSHA256"] == base64.b64encode(digest).decode()
        offset += size
    assert offset == len(data)


def test_the_first_part_goes_up_last_once_the_header_is_final(
    emulator: Emulator, cam: Any, s3: Any, bucket: str
) -> None:
    """Part 1 (the recording's header, patched at the end) is uploaded after every other part."""
    session = emulator.session()
    order: list[int] = []
    session.events.register(
        "provide-client-params.s3.UploadPart",
        lambda params, **_: order.append(params["PartNumber"]),
    )
    with ArchivedMediaClient(session=session, endpoint_url=emulator.endpoint_url) as kv:
        kv.download(stream_name="cam", start=T0, end=END, path=f"s3://{bucket}/cam.mkv")
    assert order[-1] == 1
    assert sorted(order[:-1]) == list(range(2, len(order) + 1))


def test_a_small_recording_is_one_put_with_its_checksum(
    kv: ArchivedMediaClient, cam: Any, s3: Any, bucket: str, tmp_path: Path
) -> None:
    """A recording smaller than a part is one object whose SHA-256 S3 keeps is that of its bytes."""
    end = T0 + timedelta(seconds=5)
    kv.download(stream_name="cam", start=T0, end=end, path=f"s3://{bucket}/short.mkv")
    data = body(s3, bucket, "short.mkv")
    head = s3.head_object(Bucket=bucket, Key="short.mkv", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    local = kv.download(stream_name="cam", start=T0, end=end, path=tmp_path / "short.mkv")
    assert data == Path(local.path).read_bytes()


def test_a_parallel_download_to_s3_is_the_same_recording(
    kv: ArchivedMediaClient, cam: Any, s3: Any, bucket: str, tmp_path: Path
) -> None:
    """With concurrency=4, the object is still byte for byte the sequential local recording."""
    kv.download(stream_name="cam", start=T0, end=END, path=tmp_path / "cam.mkv")
    kv.download(stream_name="cam", start=T0, end=END, path=f"s3://{bucket}/p.mkv", concurrency=4)
    assert body(s3, bucket, "p.mkv") == (tmp_path / "cam.mkv").read_bytes()


def fail_after_20_mib(emulator: Emulator) -> None:
    """Cut the media connection after 20 MiB, then every resume before it delivers a fragment."""
    emulator.cut_next("GetMediaForFragmentList", 20 * MiB)
    emulator.cut_next("GetMediaForFragmentList", 100, count=10)


def test_a_media_error_mid_way_leaves_no_object_and_no_upload(
    kv: ArchivedMediaClient, emulator: Emulator, cam: Any, s3: Any, bucket: str
) -> None:
    """A media connection that breaks for good after 20 MiB: no object, no unfinished upload."""
    fail_after_20_mib(emulator)
    with pytest.raises(KVArchiveError):
        kv.download(stream_name="cam", start=T0, end=END, path=f"s3://{bucket}/cam.mkv")
    assert leftovers(s3, bucket) == ([], [])


def test_a_failed_download_leaves_an_existing_object_as_it_was(
    kv: ArchivedMediaClient, emulator: Emulator, cam: Any, s3: Any, bucket: str
) -> None:
    """The object already at the key is untouched when a download over it fails."""
    s3.put_object(Bucket=bucket, Key="cam.mkv", Body=b"the old recording")
    fail_after_20_mib(emulator)
    with pytest.raises(KVArchiveError):
        kv.download(stream_name="cam", start=T0, end=END, path=f"s3://{bucket}/cam.mkv")
    assert body(s3, bucket, "cam.mkv") == b"the old recording"
    assert leftovers(s3, bucket) == (["cam.mkv"], [])


def test_a_part_that_s3_refuses_aborts_the_upload(
    emulator: Emulator, cam: Any, s3: Any, bucket: str
) -> None:
    """S3 answering 403 to the third part fails the download naming S3's code, and keeps nothing."""
    session = emulator.session()
    refused = AWSResponse(
        "https://s3",
        403,
        {},
        _Raw(b"<Error><Code>AccessDenied</Code><Message>no</Message></Error>"),
    )

    def refuse_part_3(request: Any, **_: Any) -> Any:
        return refused if "partNumber=3" in request.url else None

    session.events.register("before-send.s3.UploadPart", refuse_part_3)
    with ArchivedMediaClient(session=session, endpoint_url=emulator.endpoint_url) as kv:
        with pytest.raises(KVArchiveError, match="AccessDenied"):
            kv.download(stream_name="cam", start=T0, end=END, path=f"s3://{bucket}/cam.mkv")
    assert leftovers(s3, bucket) == ([], [])


class _Raw:
    """A raw HTTP body botocore can read once (for the refusal above)."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Any:
        yield self._data


def test_a_cut_connection_is_resumed_into_the_same_object(
    kv: ArchivedMediaClient, emulator: Emulator, cam: Any, s3: Any, bucket: str, tmp_path: Path
) -> None:
    """A media connection cut after 12 MiB resumes, and the object is still the whole recording."""
    kv.download(stream_name="cam", start=T0, end=END, path=tmp_path / "cam.mkv")
    emulator.cut_next("GetMediaForFragmentList", 12 * MiB)
    kv.download(stream_name="cam", start=T0, end=END, path=f"s3://{bucket}/cam.mkv")
    assert body(s3, bucket, "cam.mkv") == (tmp_path / "cam.mkv").read_bytes()


@pytest.mark.parametrize("url", ["s3://", "s3:///cam.mkv", "s3://bucket-x/", "s3://bucket-x/a/"])
def test_no_bucket_or_a_folder_for_a_file_is_refused_before_any_request(
    kv: ArchivedMediaClient, emulator: Emulator, cam: Any, url: str
) -> None:
    """s3:// without a bucket, or a key ending in /, is a ValidationError with no request sent."""
    with pytest.raises(ValidationError):
        kv.download(stream_name="cam", start=T0, end=END, path=url)
    assert emulator.count() == 0


def test_a_missing_bucket_fails_naming_it_before_any_media_request(
    kv: ArchivedMediaClient, emulator: Emulator, cam: Any, s3: Any
) -> None:
    """A bucket that does not exist fails the download, naming it, before Kinesis Video is asked."""
    with pytest.raises(
        KVArchiveError,
        match="NoSuchBucket: cannot write into the S3 bucket 'kvarchive-no-such-bucket'",
    ):
        kv.download(stream_name="cam", start=T0, end=END, path="s3://kvarchive-no-such-bucket/a")
    assert emulator.count() == 0


def test_clips_go_under_the_prefix_with_their_local_names(
    kv: ArchivedMediaClient, cam: Any, s3: Any, bucket: str, tmp_path: Path
) -> None:
    """download_clips(directory="s3://b/p") writes clip-0001.mp4... there, as a local folder gets."""
    end = T0 + timedelta(seconds=30)
    local = kv.download_clips(stream_name="cam", start=T0, end=end, directory=tmp_path)
    remote = kv.download_clips(stream_name="cam", start=T0, end=end, directory=f"s3://{bucket}/p/")
    assert [r.path for r in remote] == [f"s3://{bucket}/p/{Path(r.path).name}" for r in local]
    for here, there in zip(local, remote):
        assert body(s3, bucket, str(there.path).split("/", 3)[3]) == Path(here.path).read_bytes()


def test_a_presigned_link_fetches_the_object_without_credentials(
    kv: ArchivedMediaClient, cam: Any, s3: Any, bucket: str
) -> None:
    """result.presigned_url() is a URL that urllib downloads the object from, as it is stored."""
    end = T0 + timedelta(seconds=10)
    result = kv.download(stream_name="cam", start=T0, end=end, path=f"s3://{bucket}/cam.mkv")
    url = result.presigned_url(timedelta(minutes=5))
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url and "X-Amz-Expires=300" in url
    with urllib.request.urlopen(url, timeout=30) as answer:
        assert answer.read() == body(s3, bucket, "cam.mkv")


def test_a_local_result_has_no_presigned_link(
    kv: ArchivedMediaClient, cam: Any, tmp_path: Path
) -> None:
    """presigned_url() on a local file is a UsageError."""
    end = T0 + timedelta(seconds=10)
    result = kv.download(stream_name="cam", start=T0, end=end, path=tmp_path / "cam.mkv")
    with pytest.raises(UsageError, match="local file"):
        result.presigned_url()


def test_the_s3_endpoint_is_not_kinesis_videos(
    emulator: Emulator, cam: Any, s3_bucket: tuple[Any, str], moto_server_url: str
) -> None:
    """Without AWS_ENDPOINT_URL_S3, S3 calls go to boto3's S3 endpoint, never the emulator's."""
    kv = ArchivedMediaClient(endpoint_url=emulator.endpoint_url, region_name="us-east-1")
    session = boto3.Session()
    assert session.client("s3").meta.endpoint_url != emulator.endpoint_url
    assert kv._s3().meta.endpoint_url == session.client("s3").meta.endpoint_url
    kv.close()
