"""A fragment the service cannot serve, sent as an error chunk inside a 200 body, end to end.

The emulator's ``fail_fragment`` serves it as the service does (the fragment number and the
``AWS_KINESISVIDEO_EXCEPTION_ERROR_CODE`` / ``..._EXCEPTION_MESSAGE`` tags, no media); every
kvarchive reader gets the fragments before it, then a ServiceError naming it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from kvarchive import ArchivedMediaClient, FileCheckpoint, ServiceError
from kvarchive.testing import EmulatedStream, Emulator

MESSAGE = "Requested fragment is not available"


@pytest.fixture
def kv(emulator: Emulator) -> Iterator[ArchivedMediaClient]:
    with emulator.client() as client:
        yield client


@pytest.fixture
def cam(emulator: Emulator) -> EmulatedStream:
    """Six fragments, the fourth served as an error chunk."""
    stream = emulator.add_stream("cam", fragment_count=6, payload_size=4096)
    emulator.fail_fragment("cam", stream.fragments[3].number, code="4000", message=MESSAGE)
    return stream


def assert_names_the_fragment(error: ServiceError, number: str) -> None:
    """The error keeps the service's code and message and names the fragment."""
    assert (error.code, error.operation) == ("4000", "GetMediaForFragmentList")
    assert error.message == f"fragment {number}: {MESSAGE}"


def test_iter_fragments_yields_those_before_the_error_chunk_then_raises(
    kv: ArchivedMediaClient, cam: EmulatedStream
) -> None:
    """iter_fragments yields the three fragments before the failed one, then its ServiceError."""
    numbers = [f.number for f in cam.fragments]
    got = []
    with kv.get_media_for_fragment_list(stream_name="cam", fragments=numbers) as media:
        with pytest.raises(ServiceError) as caught:
            got.extend(fragment.data for fragment in media.iter_fragments())
    assert got == [f.data() for f in cam.fragments[:3]]
    assert_names_the_fragment(caught.value, numbers[3])


def test_read_returns_the_bytes_before_the_error_chunk_then_raises(
    kv: ArchivedMediaClient, cam: EmulatedStream
) -> None:
    """Plain reads get exactly the bytes of the fragments before the failed one, then its error."""
    numbers = [f.number for f in cam.fragments]
    received = bytearray()
    with kv.get_media_for_fragment_list(stream_name="cam", fragments=numbers) as media:
        with pytest.raises(ServiceError) as caught:
            for chunk in media.iter_chunks():
                received += chunk
    assert bytes(received) == b"".join(f.data() for f in cam.fragments[:3])
    assert_names_the_fragment(caught.value, numbers[3])


def test_an_error_chunk_first_in_the_body_raises_before_any_byte(
    kv: ArchivedMediaClient, cam: EmulatedStream
) -> None:
    """When the failed fragment comes first, the first read raises its error."""
    numbers = [f.number for f in cam.fragments[3:]]
    with kv.get_media_for_fragment_list(stream_name="cam", fragments=numbers) as media:
        with pytest.raises(ServiceError) as caught:
            media.read(1 << 20)
    assert_names_the_fragment(caught.value, numbers[0])


@pytest.mark.parametrize("concurrency", [1, 3])
def test_download_raises_the_error_and_leaves_no_file(
    kv: ArchivedMediaClient, cam: EmulatedStream, tmp_path: Path, concurrency: int
) -> None:
    """download() stops with the fragment's ServiceError and writes nothing at its path."""
    path = tmp_path / "cam.mkv"
    first, last = cam.fragments[0].server_timestamp, cam.fragments[-1].server_timestamp
    with pytest.raises(ServiceError) as caught:
        kv.download(stream_name="cam", start=first, end=last, path=path, concurrency=concurrency)
    assert_names_the_fragment(caught.value, cam.fragments[3].number)
    assert list(tmp_path.iterdir()) == []


def test_follow_media_raises_at_the_error_chunk_and_resumes_there(
    emulator: Emulator, kv: ArchivedMediaClient, cam: EmulatedStream, tmp_path: Path
) -> None:
    """follow_media yields the fragments before the failed one, raises its error with them
    checkpointed, and a later run (the fragment served again) starts at the failed one."""
    checkpoint = FileCheckpoint(tmp_path / "cam.json")
    options = {
        "stream_name": "cam",
        "start": cam.fragments[0].server_timestamp,
        "until": cam.fragments[-1].server_timestamp + timedelta(milliseconds=1),
        "checkpoint": checkpoint,
        "poll": 0.2,
        "settle": 0,
    }
    got = []
    with pytest.raises(ServiceError) as caught, kv.follow_media(**options) as follower:  # type: ignore[arg-type]
        got.extend(fragment.number for fragment in follower)
    assert got == [f.number for f in cam.fragments[:3]]
    assert_names_the_fragment(caught.value, cam.fragments[3].number)
    emulator.reset_faults()
    again = [fragment.number for fragment in kv.follow_media(**options)]  # type: ignore[arg-type]
    assert again == [f.number for f in cam.fragments[3:]]
