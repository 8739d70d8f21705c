"""Shared fixtures: dummy AWS credentials, moto, and the kvarchive.testing emulator."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from kvarchive import ArchivedMediaClient, Backoff


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
