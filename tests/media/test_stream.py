"""MediaStream: a file object over media bodies, resumed after drops with nothing lost."""

from __future__ import annotations

import io
import random
import shutil
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from kvarchive import (
    ArchivedMediaClient,
    KVArchiveError,
    MediaIncompleteError,
    MediaStream,
)
from kvarchive.errors import InvalidArgumentError
from kvarchive.testing import Emulator

T0 = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)


@pytest.fixture
def cam(emulator: Emulator) -> Any:
    """Eight fragments of about 6 KB, some frames holding the EBML magic bytes."""
    return emulator.add_stream("cam", fragment_count=8, start=T0, payload_size=6000, magic="always")


def numbers(stream: Any) -> list[str]:
    """The stream's fragment numbers in time order."""
    return [f.number for f in stream.fragments]


def expected(stream: Any) -> bytes:
    """What an uninterrupted read of every fragment gives."""
    return b"".join(f.data() for f in stream.fragments)


def media(kv: ArchivedMediaClient, stream: Any) -> MediaStream:
    """A MediaStream over every fragment of the stream."""
    return kv.get_media_for_fragment_list(stream_name="cam", fragments=numbers(stream))


def read_in(media: MediaStream, size: int) -> bytes:
    """Everything left in ``media``, read ``size`` bytes at a time."""
    pieces = []
    while piece := media.read(size):
        pieces.append(piece)
    return b"".join(pieces)


# -- the file object ----------------------------------------------------------------------


def test_read_in_pieces(kv: ArchivedMediaClient, cam: Any) -> None:
    """read(n) returns at most n bytes and b"" at the end; position counts them."""
    with media(kv, cam) as stream:
        pieces = []
        while piece := stream.read(1000):
            assert len(piece) <= 1000
            pieces.append(piece)
        assert stream.read(10) == b""
        assert stream.position == len(expected(cam))
    assert b"".join(pieces) == expected(cam)


def test_readinto_and_buffered_reader(kv: ArchivedMediaClient, cam: Any) -> None:
    """io.BufferedReader over the stream reads the same bytes."""
    with media(kv, cam) as stream:
        reader = io.BufferedReader(stream, buffer_size=4096)
        assert reader.read() == expected(cam)


def test_copyfileobj(kv: ArchivedMediaClient, cam: Any) -> None:
    """shutil.copyfileobj copies the whole body."""
    out = io.BytesIO()
    with media(kv, cam) as stream:
        shutil.copyfileobj(stream, out)
    assert out.getvalue() == expected(cam)


def test_io_protocol(kv: ArchivedMediaClient, cam: Any) -> None:
    """Readable, not seekable, a RawIOBase; closing twice is fine; reading after close is not."""
    stream = media(kv, cam)
    assert isinstance(stream, io.RawIOBase)
    assert stream.readable()
    assert not stream.seekable()
    with pytest.raises(io.UnsupportedOperation):
        stream.seek(0)
    with stream as entered:
        assert entered is stream
    assert stream.closed
    stream.close()
    with pytest.raises(ValueError, match="closed"):
        stream.read(1)


def test_closing_early_releases_the_connection(
    emulator: Emulator, kv: ArchivedMediaClient, cam: Any
) -> None:
    """Closing a half-read stream is clean and the client keeps working."""
    stream = media(kv, cam)
    stream.read(100)
    stream.close()
    with media(kv, cam) as again:
        assert again.read() == expected(cam)


def test_iter_fragments_yields_each_fragment_whole(kv: ArchivedMediaClient, cam: Any) -> None:
    """Each MediaFragment holds exactly its fragment's bytes, number, timestamps and tags."""
    with media(kv, cam) as stream:
        fragments = list(stream.iter_fragments(chunk_size=777))
    assert [f.number for f in fragments] == numbers(cam)
    for got, source in zip(fragments, cam.fragments):
        assert got.data == source.data()
        assert got.server_timestamp == source.server_timestamp
        assert got.producer_timestamp == source.producer_timestamp
        assert got.tags["AWS_KINESISVIDEO_FRAGMENT_NUMBER"] == source.number


def test_iter_frames_yields_every_frame(kv: ArchivedMediaClient, cam: Any) -> None:
    """iter_frames yields every frame of every fragment, in order, keyframes where they are."""
    from kvarchive._matroska.frames import iter_frames

    with media(kv, cam) as stream:
        frames = [(f.track, f.timestamp, f.keyframe, f.data) for f in stream.iter_frames()]
    source = [
        (f.track, f.timestamp, f.keyframe, f.data)
        for fragment in cam.fragments
        for f in iter_frames(fragment.data())
    ]
    assert frames == source
    assert frames[0][2]
    assert sum(1 for frame in frames if frame[2]) >= len(cam.fragments)


def test_iter_fragments_refuses_a_clip(moto_stream: str) -> None:
    """iter_fragments on an MP4 clip says why it cannot."""
    kv = ArchivedMediaClient()
    with kv.get_clip(stream_name=moto_stream, start=T0, end=T0 + timedelta(seconds=5)) as clip:
        with pytest.raises(KVArchiveError, match="Matroska"):
            next(clip.iter_fragments())


def test_iter_fragments_must_start_at_a_boundary(kv: ArchivedMediaClient, cam: Any) -> None:
    """After reading part of a fragment, iter_fragments refuses rather than yield a torn one."""
    with media(kv, cam) as stream:
        stream.read(10)
        with pytest.raises(KVArchiveError, match="boundary"):
            next(stream.iter_fragments())


def test_unknown_fragment_number_fails_at_the_call(kv: ArchivedMediaClient, cam: Any) -> None:
    """A fragment the stream does not hold is the service's InvalidArgumentError at the call."""
    with pytest.raises(InvalidArgumentError) as caught:
        kv.get_media_for_fragment_list(stream_name="cam", fragments=["123"])
    assert caught.value.message == "Fragment numbers are invalid"


# -- resume -------------------------------------------------------------------------------


@pytest.mark.parametrize("framing", ["chunked", "length", "close"])
def test_resume_after_cuts_at_many_points(
    emulator: Emulator, kv: ArchivedMediaClient, cam: Any, framing: str
) -> None:
    """A connection cut anywhere gives the same bytes as an uninterrupted read."""
    emulator.body_framing = framing
    whole = expected(cam)
    rng = random.Random(framing)
    points = [1, 4, len(whole) - 1, *(rng.randrange(1, len(whole)) for _ in range(31))]
    for point in points:  # 34 per framing: 102 cut points in all
        emulator.cut_next("GetMediaForFragmentList", point)
        with media(kv, cam) as stream:
            assert b"".join(stream.iter_chunks(1500)) == whole, point


@pytest.mark.parametrize("read_size", [1, 2, 3, 5, 11, 64, 1000, 4095, 4097])
def test_resume_is_byte_identical_for_every_read_size(
    emulator: Emulator, kv: ArchivedMediaClient, read_size: int
) -> None:
    """A cut on either side of a fragment boundary, even inside the next header, loses nothing."""
    stream = emulator.add_stream("small", fragment_count=3, start=T0, payload_size=1500)
    whole = expected(stream)
    boundary = stream.fragments[0].size
    for point in range(boundary - 2, boundary + 16):  # through the next EBML header and Segment
        emulator.cut_next("GetMediaForFragmentList", point)
        with kv.get_media_for_fragment_list(
            stream_name="small", fragments=numbers(stream)
        ) as media:
            assert read_in(media, read_size) == whole, point


def test_resume_with_iter_fragments(emulator: Emulator, kv: ArchivedMediaClient, cam: Any) -> None:
    """Fragments read with iter_fragments across two cuts are all there, once each."""
    emulator.body_framing = "close"
    emulator.cut_next("GetMediaForFragmentList", 9000)
    emulator.cut_next("GetMediaForFragmentList", 15000)
    with media(kv, cam) as stream:
        fragments = list(stream.iter_fragments())
    assert [f.number for f in fragments] == numbers(cam)
    assert b"".join(f.data for f in fragments) == expected(cam)
    requests = [
        r.params["Fragments"] for r in emulator.requests if r.operation == "GetMediaForFragmentList"
    ]
    assert len(requests) == 3
    assert requests[1][0] == requests[2][0] or requests[2][0] != requests[0][0]


def test_resume_asks_only_for_what_is_missing(
    emulator: Emulator, kv: ArchivedMediaClient, cam: Any
) -> None:
    """After a cut in the fourth fragment, the retry asks for fragments four to eight."""
    offsets = [0]
    for fragment in cam.fragments:
        offsets.append(offsets[-1] + fragment.size)
    emulator.cut_next("GetMediaForFragmentList", offsets[3] + 1500)
    with media(kv, cam) as stream:
        assert b"".join(stream.iter_chunks(1000)) == expected(cam)
    requests = [
        r.params["Fragments"] for r in emulator.requests if r.operation == "GetMediaForFragmentList"
    ]
    assert requests == [numbers(cam), numbers(cam)[3:]]


def test_repeated_cuts_without_progress_give_up_naming_the_fragment(
    emulator: Emulator, kv: ArchivedMediaClient, cam: Any
) -> None:
    """Cuts that never let a fragment complete end in MediaIncompleteError naming it."""
    emulator.cut_next("GetMediaForFragmentList", 100, count=50)
    with media(kv, cam) as stream:
        with pytest.raises(MediaIncompleteError) as caught:
            stream.read()
    assert caught.value.first_missing == numbers(cam)[0]
    assert numbers(cam)[0] in str(caught.value)
    assert emulator.count("GetMediaForFragmentList") == 4


def test_cuts_that_make_progress_keep_resuming(
    emulator: Emulator, kv: ArchivedMediaClient, cam: Any
) -> None:
    """Many cuts in a row are fine as long as each attempt completes a new fragment."""
    emulator.cut_next("GetMediaForFragmentList", cam.fragments[0].size * 2 + 1500, count=6)
    with media(kv, cam) as stream:
        assert b"".join(stream.iter_chunks(1000)) == expected(cam)
    assert emulator.count("GetMediaForFragmentList") >= 4


def test_download_leaves_nothing_when_it_fails(
    emulator: Emulator, kv: ArchivedMediaClient, cam: Any, tmp_path: Any
) -> None:
    """A download that runs out of attempts leaves no file at path and no temporary file."""
    emulator.cut_next("GetMediaForFragmentList", 100, count=50)
    target = tmp_path / "out.mkv"
    with pytest.raises(MediaIncompleteError):
        kv.download(stream_name="cam", start=T0, end=T0 + timedelta(hours=1), path=target)
    assert list(tmp_path.iterdir()) == []
