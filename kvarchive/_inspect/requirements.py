"""What each API needs of a stream, said once: the checks of ``kv.inspect()`` and the docs page.

Each :class:`Requirement` names an API (the keys of ``StreamReport.supports``),
says in one sentence what it needs (``needs``, shown on the "why does X not
work" page), where that is documented (``source``: a URL, or a page of the
documentation site), and checks a stream's :class:`Facts` against it:
``ok`` is None where the facts needed are unknown.
The sources are the Kinesis Video Streams API reference, whose requirements
``SERVICE-NOTES.md`` collects, and kvarchive's own reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Callable, Optional

import attrs

from kvarchive._inspect.report import Support, TrackReport

__all__ = ["LIVE_WINDOW", "REQUIREMENTS", "Facts", "Requirement", "supports"]

LIVE_WINDOW = timedelta(seconds=30)
"""A LIVE session needs a fragment this recent (HLS and DASH)."""

_API = "https://docs.aws.amazon.com/kinesisvideostreams/latest/dg/"
_KVARCHIVE = "reference/kvarchive.md"  # this site's reference, relative to its root
_VIDEO = ("H.264", "H.265")
_TRACK2_AUDIO = ("AAC", "G.711 A-law", "G.711 mu-law")
_DECODED_AUDIO = ("AAC", "Opus", "PCM", "G.711 A-law", "G.711 mu-law")
_NEEDS_PYAV = ("AAC", "Opus")


@attrs.frozen
class Facts:
    """What the checks look at; None where a call failed or the stream had nothing to show."""

    retention_hours: Optional[int]
    tracks: Optional[tuple[TrackReport, ...]]
    behind: Optional[timedelta]
    decode_installed: bool


@attrs.frozen
class Requirement:
    """One API's needs: a sentence for people, a source, and a check for ``kv.inspect()``."""

    api: str
    needs: str
    source: str
    check: Callable[[Facts], Support] = attrs.field(repr=False)


def _no_archive(facts: Facts) -> Optional[Support]:
    """Support(False) without an archive, Support(None) when retention is unknown, else None."""
    if facts.retention_hours == 0:
        return Support(
            False,
            "the stream keeps no archive (data retention 0 hours): the service answers "
            "NoDataRetentionException",
        )
    return None


def _track(tracks: Sequence[TrackReport], number: int) -> Optional[TrackReport]:
    return next((t for t in tracks if t.number == number), None)


def _unknown(facts: Facts) -> Optional[Support]:
    """The answer when the archive or the tracks are not known, else None."""
    refused = _no_archive(facts)
    if refused is not None:
        return refused
    if facts.tracks is None:
        return Support(None, "no fragment could be read, so the stream's tracks are unknown")
    return None


def _video_problem(tracks: Sequence[TrackReport], private: bool) -> Optional[str]:
    """Why track 1 is not H.264/H.265 (with codec private data when ``private``), or None."""
    first = _track(tracks, 1)
    if first is None:
        return "the stream has no track 1"
    if first.format not in _VIDEO:
        return f"track 1 is {_describe(first)}, not H.264 or H.265"
    if private and not first.codec_private:
        return f"track 1 ({first.format}) has no codec private data"
    return None


def _describe(track: TrackReport) -> str:
    if track.format != track.codec_id and track.codec_id in ("A_AAC", "A_OPUS"):
        return f"{track.format} labelled {track.codec_id} (its MimeType tag says so)"
    return f"{track.format} ({track.codec_id})" if track.format != track.codec_id else track.format


def _track2_problem(tracks: Sequence[TrackReport]) -> Optional[str]:
    second = _track(tracks, 2)
    if second is not None and second.format not in _TRACK2_AUDIO:
        return f"track 2 is {_describe(second)}, not AAC or G.711"
    return None


def _with_live(facts: Facts, api: str, support: Support) -> Support:
    """``support`` (ON_DEMAND) with whether LIVE works: a fragment in the last 30 s."""
    if support.ok is not True:
        return support
    if facts.behind is None:
        return Support(True, f"{api} works ON_DEMAND; LIVE cannot be told", None)
    if facts.behind <= LIVE_WINDOW:
        return Support(True, f"{api} works, LIVE and ON_DEMAND", True)
    return Support(
        True,
        f"{api} works ON_DEMAND and LIVE_REPLAY; LIVE needs a fragment in the last 30 s "
        f"and the newest is {facts.behind.total_seconds():.0f} s old",
        False,
    )


def _session(api: str, audio_only: bool) -> Callable[[Facts], Support]:
    def check(facts: Facts) -> Support:
        unknown = _unknown(facts)
        if unknown is not None:
            return unknown
        tracks = facts.tracks or ()
        first = _track(tracks, 1)
        if audio_only and first is not None and first.format == "AAC" and len(tracks) == 1:
            return _with_live(facts, api, Support(True, f"{api} plays this audio-only AAC"))
        problem = _video_problem(tracks, private=True) or _track2_problem(tracks)
        if problem is not None:
            plays = " (or audio-only AAC)" if audio_only else ""
            return Support(False, f"{problem}: {api} plays H.264 or H.265 video{plays}")
        return _with_live(facts, api, Support(True, api))

    return check


def _clip(facts: Facts) -> Support:
    unknown = _unknown(facts)
    if unknown is not None:
        return unknown
    tracks = facts.tracks or ()
    problem = _video_problem(tracks, private=True) or _track2_problem(tracks)
    if problem is not None:
        return Support(False, f"{problem}: GetClip makes MP4 of H.264 or H.265 video")
    return Support(True, "GetClip works")


def _images(facts: Facts) -> Support:
    unknown = _unknown(facts)
    if unknown is not None:
        return unknown
    problem = _video_problem(facts.tracks or (), private=False)
    if problem is not None:
        return Support(False, f"{problem}: GetImages decodes H.264 or H.265 only")
    return Support(True, "GetImages works")


def _media(facts: Facts) -> Support:
    refused = _no_archive(facts)
    if refused is not None:
        return refused
    if facts.retention_hours is None and facts.tracks is None:
        return Support(None, "the stream's retention is unknown and no fragment could be read")
    return Support(True, "GetMediaForFragmentList works on any archived stream")


def _audio(facts: Facts) -> Support:
    unknown = _unknown(facts)
    if unknown is not None:
        return unknown
    audio = [t for t in facts.tracks or () if t.kind == "audio"]
    if not audio:
        return Support(False, "the stream has no audio track")
    readable = [t for t in audio if t.format in _DECODED_AUDIO]
    if not readable:
        found = ", ".join(_describe(t) for t in audio)
        return Support(False, f"kvarchive decodes AAC, Opus, PCM and G.711; this has {found}")
    if not facts.decode_installed and all(t.format in _NEEDS_PYAV for t in readable):
        return Support(False, f'{readable[0].format} needs PyAV: pip install "kvarchive[decode]"')
    return Support(True, "download_audio reads " + ", ".join(t.format for t in readable))


def _frames(facts: Facts) -> Support:
    unknown = _unknown(facts)
    if unknown is not None:
        return unknown
    problem = _video_problem(facts.tracks or (), private=False)
    if problem is not None:
        return Support(False, f"{problem}: kvarchive decodes H.264 and H.265 video")
    if not facts.decode_installed:
        return Support(False, 'decoding needs PyAV and numpy: pip install "kvarchive[decode]"')
    return Support(True, "iter_frames(decode=True) works")


REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement(
        "HLS",
        "Track 1 H.264 or H.265 with codec private data, optionally track 2 AAC or G.711, "
        "or audio-only AAC; data retention above 0; LIVE also needs a fragment in the "
        "last 30 s.",
        _API + "API_reader_GetHLSStreamingSessionURL.html",
        _session("HLS", audio_only=True),
    ),
    Requirement(
        "DASH",
        "Track 1 H.264 or H.265 with codec private data, optionally track 2 AAC or G.711; "
        "data retention above 0; LIVE also needs a fragment in the last 30 s.",
        _API + "API_reader_GetDASHStreamingSessionURL.html",
        _session("DASH", audio_only=False),
    ),
    Requirement(
        "GetClip",
        "Track 1 H.264 or H.265 with codec private data, optionally track 2 AAC or G.711; "
        "data retention above 0.",
        _API + "API_reader_GetClip.html",
        _clip,
    ),
    Requirement(
        "GetImages",
        "H.264 or H.265 video on track 1; data retention above 0.",
        _API + "API_reader_GetImages.html",
        _images,
    ),
    Requirement(
        "GetMediaForFragmentList",
        "Data retention above 0, and nothing else: any media.",
        _API + "API_reader_GetMediaForFragmentList.html",
        _media,
    ),
    Requirement(
        "download_audio",
        "An audio track of a format kvarchive decodes (PCM, G.711, or AAC and Opus with "
        "the decode extra; a MimeType tag, as Connect writes, says what the bytes are); "
        "data retention above 0.",
        _KVARCHIVE + "#kvarchive.ArchivedMediaClient.download_audio",
        _audio,
    ),
    Requirement(
        "iter_frames",
        "For decode=True: H.264 or H.265 video on track 1 and the decode extra "
        "(PyAV and numpy); data retention above 0.",
        _KVARCHIVE + "#kvarchive.MediaStream.iter_frames",
        _frames,
    ),
)
"""Every API ``kv.inspect()`` reports on, in report order."""


def supports(facts: Facts) -> dict[str, Support]:
    """Each API's support on a stream of these facts, keyed as ``StreamReport.supports``."""
    return {r.api: r.check(facts) for r in REQUIREMENTS}
