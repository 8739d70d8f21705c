"""The requirements table: each API's needs, checked against a stream's facts."""

from __future__ import annotations

from datetime import timedelta

from kvarchive._inspect.report import TrackReport
from kvarchive._inspect.requirements import REQUIREMENTS, Facts, supports

H264 = TrackReport(1, "video", "V_MPEG4/ISO/AVC", "H.264", codec_private=True)
AAC2 = TrackReport(2, "audio", "A_AAC", "AAC", codec_private=True, sample_rate=48000, channels=1)
KEYS = [
    "HLS",
    "DASH",
    "GetClip",
    "GetImages",
    "GetMediaForFragmentList",
    "download_audio",
    "iter_frames",
]


def facts(*tracks: TrackReport, retention: int = 24, behind: float = 1.0) -> Facts:
    return Facts(retention, tracks, timedelta(seconds=behind), decode_installed=True)


def test_the_table_names_the_seven_apis_of_the_report_each_with_a_source() -> None:
    """Every API of StreamReport.supports has one requirement, a sentence and a source."""
    assert [r.api for r in REQUIREMENTS] == KEYS
    assert all(r.needs.endswith(".") and r.source for r in REQUIREMENTS)


def test_retention_zero_refuses_every_api_with_the_services_error() -> None:
    """Without an archive, every API is refused, naming NoDataRetentionException."""
    found = supports(facts(H264, AAC2, retention=0))
    assert all(s.ok is False and "NoDataRetentionException" in s.reason for s in found.values())


def test_a_stream_without_known_tracks_leaves_the_codec_checks_unknown() -> None:
    """No fragment read: the checks that need tracks say None; GetMediaForFragmentList works."""
    found = supports(Facts(24, None, None, decode_installed=True))
    assert found["GetMediaForFragmentList"].ok is True
    assert {k for k, s in found.items() if s.ok is None} == set(KEYS) - {"GetMediaForFragmentList"}


def test_live_needs_a_fragment_in_the_last_30_seconds() -> None:
    """HLS and DASH on a stale stream: ON_DEMAND works, LIVE does not, and the reason says so."""
    found = supports(facts(H264, AAC2, behind=120))
    for api in ("HLS", "DASH"):
        assert found[api].ok is True and found[api].live is False
        assert "LIVE needs a fragment in the last 30 s" in found[api].reason


def test_hls_plays_audio_only_aac_but_dash_does_not() -> None:
    """An AAC-only stream: HLS yes, DASH, GetClip and GetImages no."""
    aac1 = TrackReport(1, "audio", "A_AAC", "AAC", codec_private=True)
    found = supports(facts(aac1))
    assert found["HLS"].ok is True
    assert [found[k].ok for k in ("DASH", "GetClip", "GetImages")] == [False, False, False]


def test_video_without_codec_private_data_refuses_the_players_and_clips_only() -> None:
    """H.264 without codec private data: HLS, DASH and GetClip say so; GetImages works."""
    bare = TrackReport(1, "video", "V_MPEG4/ISO/AVC", "H.264", codec_private=False)
    found = supports(facts(bare))
    for api in ("HLS", "DASH", "GetClip"):
        assert found[api].ok is False and "no codec private data" in found[api].reason
    assert found["GetImages"].ok is True


def test_decoding_without_pyav_says_which_extra_to_install() -> None:
    """iter_frames and AAC audio need the decode extra, named in the reason."""
    found = supports(Facts(24, (H264, AAC2), timedelta(0), decode_installed=False))
    for api in ("iter_frames", "download_audio"):
        assert found[api].ok is False and "kvarchive[decode]" in found[api].reason
