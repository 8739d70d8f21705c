"""Shared fixtures: dummy AWS credentials, moto, and the kvarchive.testing emulator."""

from __future__ import annotations

import itertools
import signal
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from kvarchive import ArchivedMediaClient, Backoff

# A harness that starts the tests in the background (a shell's `cmd &` without job control)
# hands them SIGINT ignored, and every child inherits that; the Ctrl-C tests need Ctrl-C.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs with planted, fake credentials and no user configuration."""
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAPLANTEDKEYID0001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "planted/secret/access/key/0000000000000")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "planted-session-token-0001")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/kvarchive-tests/config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/kvarchive-tests/credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def moto_stream() -> Iterator[str]:
    """A moto-mocked account holding one stream, "cam"; yields its name."""
    from moto import mock_aws

    with mock_aws():
        boto3.client("kinesisvideo").create_stream(StreamName="cam", DataRetentionInHours=24)
        yield "cam"


@pytest.fixture(scope="session")
def moto_server_url() -> Iterator[str]:
    """moto in server mode on 127.0.0.1, spoken to over real HTTP, for the whole session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


_buckets = itertools.count(1)


@pytest.fixture
def s3_bucket(moto_server_url: str) -> tuple[Any, str]:
    """An S3 client on moto's server and a new, empty bucket of its own."""
    client = boto3.client("s3", endpoint_url=moto_server_url, region_name="us-east-1")
    bucket = f"kvarchive-test-{next(_buckets)}"
    client.create_bucket(Bucket=bucket)
    return client, bucket


@pytest.fixture
def emulator() -> Iterator[object]:
    """A running kvarchive.testing emulator with no streams."""
    from kvarchive.testing import Emulator

    with Emulator() as emu:
        yield emu


@pytest.fixture
def fast_backoff() -> Backoff:
    """Throttling retries with tiny delays, so tests stay fast."""
    return Backoff(attempts=4, base=0.001, cap=0.005)


@pytest.fixture
def kv(emulator: object, fast_backoff: Backoff) -> Iterator[ArchivedMediaClient]:
    """A client talking to the emulator over HTTP, without client-side pacing."""
    client = ArchivedMediaClient(
        endpoint_url=emulator.endpoint_url,  # type: ignore[attr-defined]
        backoff=fast_backoff,
        rate_limit=False,
    )
    with client:
        yield client
