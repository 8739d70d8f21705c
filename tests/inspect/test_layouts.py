"""kv.inspect() end to end on each stream layout the report tells apart, over HTTP."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from audio.calls import call_blocks, connect_fragment

from kvarchive import ArchivedMediaClient, StreamReport
from kvarchive.errors import MissingCodecPrivateDataError, UnsupportedStreamMediaTypeError
from kvarchive.testing import Emulator, FragmentRecord

CALLS = [
    "DescribeStream",
    "GetDataEndpoint",
    "ListFragments",
    "GetDataEndpoint",
    "GetMediaForFragmentList",
]
SERVICE_APIS = ("HLS", "DASH", "GetClip", "GetImages")


def look(emu: Emulator, kv: ArchivedMediaClient, name: str) -> StreamReport:
    """Inspect ``name``, checking it cost the usual five calls."""
    emu.clear_requests()
    report = kv.inspect(stream_name=name)
    assert [r.operation for r in emu.requests] == CALLS
    assert report.problems == ()
    return report


def oks(report: StreamReport, apis: Sequence[str] = SERVICE_APIS) -> list[Any]:
    return [report.supports[api].ok for api in apis]


def test_h265_works_with_every_service_api(emu: Emulator, kv: ArchivedMediaClient) -> None:
    """H.265 with codec private data: HLS, DASH, GetClip and GetImages work, and decoding."""
    emu.add_stream("h265", fragment_count=3, codec="hevc")
    report = look(emu, kv, "h265")
    (track,) = report.tracks or ()
    assert (track.codec_id, track.format, track.codec_private) == (
        "V_MPEGH/ISO/HEVC",
        "H.265",
        True,
    )
    assert oks(report, [*SERVICE_APIS, "iter_frames"]) == [True] * 5
    assert report.media_type == "video/h265"


def test_vp8_is_refused_by_the_service_apis_but_not_by_get_media(
    emu: Emulator, kv: ArchivedMediaClient
) -> None:
    """VP8: each service API says track 1 is VP8; GetMediaForFragmentList works."""
    emu.add_stream("vp8", fragment_count=3, codec="vp8")
    report = look(emu, kv, "vp8")
    assert oks(report) == [False] * 4
    assert all(
        "track 1 is VP8 (V_VP8), not H.264 or H.265" in report.supports[a].reason
        for a in SERVICE_APIS
    )
    assert report.supports["GetMediaForFragmentList"].ok is True
    assert report.supports["iter_frames"].ok is False


def test_audio_only_aac_plays_in_hls_only(emu: Emulator, kv: ArchivedMediaClient) -> None:
    """AAC alone on track 1: HLS plays it, DASH, GetClip and GetImages do not; audio reads."""
    emu.add_stream("radio", fragment_count=3, codec="aac")
    report = look(emu, kv, "radio")
    (track,) = report.tracks or ()
    assert (track.format, track.sample_rate, track.channels) == ("AAC", 48000, 1)
    assert oks(report) == [True, False, False, False]
    assert report.supports["download_audio"].ok is True


def test_video_without_codec_private_data(emu: Emulator, kv: ArchivedMediaClient) -> None:
    """H.264 without CodecPrivate: HLS, DASH and GetClip refuse it, GetImages does not."""
    emu.add_stream("bare", fragment_count=3, codec_private=False)
    report = look(emu, kv, "bare")
    assert (report.tracks or ())[0].codec_private is False
    assert oks(report) == [False, False, False, True]
    assert "track 1 (H.264) has no codec private data" in report.supports["GetClip"].reason


def test_a_stale_stream_plays_on_demand_but_not_live(
    emu: Emulator, kv: ArchivedMediaClient
) -> None:
    """Newest fragment two hours old: found by the widest listing; LIVE refused, ON_DEMAND fine."""
    start = datetime.now(timezone.utc) - timedelta(hours=2)
    emu.add_stream("old", fragment_count=3, start=start, audio=True, gap_ms=1000)
    emu.clear_requests()
    report = kv.inspect(stream_name="old")
    assert [r.operation for r in emu.requests].count("ListFragments") == 3
    assert report.supports["HLS"].ok is True and report.supports["HLS"].live is False
    assert report.behind is not None and report.behind > timedelta(hours=1)
    assert [g.length for g in report.gaps] == [timedelta(seconds=1)] * 2


@attrs.frozen
class _Bytes:
    """A fragment's bytes, as the emulator reads them."""

    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    def iter_chunks(self) -> Iterator[bytes]:
        yield self.data

    def frames(self) -> Sequence[Any]:
        return ()


def test_a_connect_stream_is_reported_as_the_pcm_it_is(
    emu: Emulator, kv: ArchivedMediaClient
) -> None:
    """Connect's layout (A_AAC labels, PCM per its MimeType tag): PCM tracks, HLS says why not."""
    stream = emu.add_stream("call", fragment_count=1, fragment_duration_ms=1000, payload_size=16)
    data = connect_fragment("7" * 47, call_blocks(0, 1000))
    stream.next_fragment = lambda last: FragmentRecord(
        "7" * 47, last.server_ms + 1000, last.producer_ms + 1000, 1000, len(data), 1, _Bytes(data)
    )
    emu.append_fragments("call")
    report = look(emu, kv, "call")
    assert [(t.codec_id, t.format, t.sample_rate, t.name) for t in report.tracks or ()] == [
        ("A_AAC", "PCM", 8000, "AUDIO_FROM_CUSTOMER"),
        ("A_AAC", "PCM", 8000, "AUDIO_TO_CUSTOMER"),
    ]
    assert report.supports["HLS"].ok is False
    assert (
        "track 1 is PCM labelled A_AAC (its MimeType tag says so)" in report.supports["HLS"].reason
    )
    assert report.supports["download_audio"].reason == "download_audio reads PCM, PCM"


def test_an_unknown_codec_is_refused_by_the_emulator(emu: Emulator) -> None:
    """add_stream(codec=...) takes only the layouts it can write."""
    with pytest.raises(ValueError, match="codec must be one of"):
        emu.add_stream("x", codec="mpeg2")


@pytest.mark.parametrize(
    ("codec", "codec_private"), [("h264", True), ("hevc", True), ("vp8", True), ("h264", False)]
)
def test_the_reports_get_clip_answer_is_what_get_clip_does(
    emu: Emulator, kv: ArchivedMediaClient, codec: str, codec_private: bool
) -> None:
    """Where the report says GetClip works, the emulator's GetClip answers; where not, it refuses."""
    stream = emu.add_stream("s", fragment_count=2, codec=codec, codec_private=codec_private)
    expected = kv.inspect(stream_name="s").supports["GetClip"].ok
    first, last = stream.fragments[0].server_timestamp, stream.fragments[-1].server_timestamp
    try:
        with kv.get_clip(stream_name="s", start=first, end=last) as clip:
            clip.read()
        worked = True
    except (UnsupportedStreamMediaTypeError, MissingCodecPrivateDataError):
        worked = False
    assert worked is expected
