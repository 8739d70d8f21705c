"""HLS playlists of a streaming session, written as Kinesis Video Streams writes them.

The shapes follow the developer guide and playlists the service has served:

- The master playlist (GetHLSMasterPlaylist) names a media playlist "for each
  track": with ``FRAGMENTED_MP4`` the video's (``TrackNumber=1``) in
  ``#EXT-X-STREAM-INF`` and the audio's (``TrackNumber=2``) as an
  ``#EXT-X-MEDIA`` rendition; with ``MPEG_TS`` one playlist, since each TS
  fragment holds every track.
- A media playlist (GetHLSMediaPlaylist) holds one segment per KVS fragment:
  ``#EXT-X-PLAYLIST-TYPE:VOD`` and ``#EXT-X-ENDLIST`` for ``ON_DEMAND``,
  ``#EXT-X-ENDLIST`` too once a ``LIVE_REPLAY`` range is closed,
  ``#EXT-X-DISCONTINUITY`` as ``DiscontinuityMode`` says (before every
  segment with ``ALWAYS``), ``#EXT-X-PROGRAM-DATE-TIME`` with
  ``DisplayFragmentTimestamp=ALWAYS``, and ``#EXT-X-MAP`` for the fMP4 init
  fragment.

Every URL is relative to the playlist's and carries the session token.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Optional

from kvarchive._times import from_epoch_ms
from kvarchive.testing._mkv_writer import Track
from kvarchive.testing._mp4 import codecs
from kvarchive.testing._playback.sessions import Session, Window
from kvarchive.testing._streams import FragmentRecord

__all__ = ["master_playlist", "media_playlist", "program_date_time"]


def program_date_time(epoch_ms: int) -> str:
    """An ISO 8601 UTC time with milliseconds: ``2023-05-17T13:48:35.994Z``."""
    moment = from_epoch_ms(epoch_ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


def bandwidth(fragments: Sequence[FragmentRecord]) -> int:
    """Peak bits per second over ``fragments`` (their stored sizes), at least 1."""
    rates = [f.size * 8 * 1000 // max(1, f.duration_ms) for f in fragments]
    return max([1, *rates])


def frame_rate(fragment: FragmentRecord, track: Track) -> float:
    """Video frames per second of ``fragment``."""
    count = sum(1 for frame in fragment.source.frames() if frame.track == track.number)
    return count * 1000 / max(1, fragment.duration_ms)


def master_playlist(session: Session, tracks: Sequence[Track], window: Window) -> str:
    """The session's master playlist."""
    token = session.token
    video = next(t for t in tracks if t.kind == "video")
    audio = [t for t in tracks if t.kind == "audio"]
    attributes = [
        f'CODECS="{",".join(codecs(t) for t in tracks)}"',
        f"RESOLUTION={video.width}x{video.height}",
        f"FRAME-RATE={frame_rate(window.fragments[0], video):.2f}",
        f"BANDWIDTH={bandwidth(window.fragments)}",
    ]
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS"]
    if session.request.container == "MPEG_TS":
        lines += ["#EXT-X-STREAM-INF:" + ",".join(attributes), _playlist_url(token, None)]
        return "\n".join(lines) + "\n"
    for track in audio:
        uri = _playlist_url(token, track.number)
        lines.append(
            '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="audio",DEFAULT=YES,'
            f'AUTOSELECT=YES,URI="{uri}"'
        )
        attributes.append('AUDIO="audio"')
    lines += ["#EXT-X-STREAM-INF:" + ",".join(attributes), _playlist_url(token, video.number)]
    return "\n".join(lines) + "\n"


def media_playlist(session: Session, window: Window, track: Track) -> str:
    """The session's media playlist of ``track`` (every track, for MPEG-TS), as of ``window``."""
    request = session.request
    fragments = window.fragments
    fmp4 = request.container == "FRAGMENTED_MP4"
    longest = max(f.duration_ms for f in fragments) / 1000
    first = session.sequence(fragments[0])
    lines = ["#EXTM3U", f"#EXT-X-VERSION:{7 if fmp4 else 3}"]
    if request.mode == "ON_DEMAND":
        lines.append("#EXT-X-PLAYLIST-TYPE:VOD")
    lines += [
        f"#EXT-X-TARGETDURATION:{max(1, math.ceil(longest))}",
        f"#EXT-X-MEDIA-SEQUENCE:{first}",
    ]
    marks = _discontinuities(session, fragments[-1])
    earlier = sum(1 for sequence in marks if sequence < first)
    if earlier:
        lines.append(f"#EXT-X-DISCONTINUITY-SEQUENCE:{earlier}")
    lines.append("#EXT-X-INDEPENDENT-SEGMENTS")
    token = session.token
    for index, fragment in enumerate(fragments):
        if session.sequence(fragment) in marks:
            lines.append("#EXT-X-DISCONTINUITY")
        if index == 0 and fmp4:
            lines.append(
                f'#EXT-X-MAP:URI="getMP4InitFragment.mp4?SessionToken={token}'
                f'&TrackNumber={track.number}"'
            )
        if request.display_timestamp:
            lines.append(
                "#EXT-X-PROGRAM-DATE-TIME:" + program_date_time(session.timestamp_ms(fragment))
            )
        lines.append(f"#EXTINF:{fragment.duration_ms / 1000:.3f},")
        if fmp4:
            lines.append(
                f"getMP4MediaFragment.mp4?FragmentNumber={fragment.number}"
                f"&SessionToken={token}&TrackNumber={track.number}"
            )
        else:
            lines.append(f"getTSFragment.ts?FragmentNumber={fragment.number}&SessionToken={token}")
    if window.complete:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def _discontinuities(session: Session, last: FragmentRecord) -> set[int]:
    """Sequence numbers of the session's fragments, up to ``last``, preceded by a discontinuity."""
    marks = set()
    previous = None
    for fragment in session.candidates():
        if session.discontinuous(previous, fragment):
            marks.add(session.sequence(fragment))
        if fragment is last:
            break
        previous = fragment
    return marks


def _playlist_url(token: str, track_number: Optional[int]) -> str:
    track = "" if track_number is None else f"&TrackNumber={track_number}"
    return f"getHLSMediaPlaylist.m3u8?SessionToken={token}{track}"
