"""download_audio to s3://: the object is the local WAV byte for byte, with a working link."""

from __future__ import annotations

import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from calls import T0, call_fragments, serve

from kvarchive import ArchivedMediaClient, UsageError
from kvarchive.testing import Emulator

END = T0 + timedelta(hours=2)


@pytest.fixture
def s3(s3_bucket: tuple[Any, str], moto_server_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """moto's S3 as boto3's own endpoint setting names it (AWS_ENDPOINT_URL_S3): the client."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server_url)
    return s3_bucket[0]


def test_a_call_written_to_s3_is_the_local_wav_and_links_to_it(
    emulator: Emulator, kv: ArchivedMediaClient, s3: Any, s3_bucket: tuple[Any, str], tmp_path: Path
) -> None:
    """download_audio(path="s3://...") stores the bytes a local path gets; presigned_url fetches them."""
    bucket = s3_bucket[1]
    serve(emulator, "call", call_fragments([(0, 1000), (1000, 1000), (2700, 1000)]))
    local = kv.download_audio(stream_name="call", start=T0, end=END, path=tmp_path / "call.wav")
    url = f"s3://{bucket}/calls/call.wav"
    result = kv.download_audio(stream_name="call", start=T0, end=END, path=url)
    assert result.path == url
    assert result.bytes_written == local.bytes_written
    stored = s3.get_object(Bucket=bucket, Key="calls/call.wav")["Body"].read()
    assert stored == (tmp_path / "call.wav").read_bytes()
    with urllib.request.urlopen(result.presigned_url(timedelta(minutes=5))) as answer:
        assert answer.read() == stored
    with pytest.raises(UsageError):
        local.presigned_url()
