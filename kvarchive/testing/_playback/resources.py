"""The media a player fetches from a streaming session's URLs, at the emulator's data endpoint.

HLS: ``/hls/v1/getHLSMasterPlaylist.m3u8``, ``getHLSMediaPlaylist.m3u8``,
``getMP4InitFragment.mp4``, ``getMP4MediaFragment.mp4`` and
``getTSFragment.ts``; DASH: ``/dash/v1/getDASHManifest.mpd`` and the same
fMP4 fragments. Each takes ``SessionToken`` in the query, as the service's
do, and is built on the fly from the stream's own fragments. A token that is
unknown, replaced by a newer session (the eleventh on a stream) or past its
``Expires`` gets ``NotAuthorizedException`` with HTTP 403 ("The caller is not
authorized ... or the token has expired", says the API reference); a fragment
the stream no longer holds (retention dropped it) gets
``ResourceNotFoundException``. Every answer, errors too, allows any origin,
so that a page elsewhere (a notebook) can play it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Callable, Optional

from kvarchive.testing._checks import ApiError
from kvarchive.testing._mkv_writer import Track
from kvarchive.testing._operations import Response
from kvarchive.testing._playback.dash import manifest
from kvarchive.testing._playback.fmp4 import init_segment, media_segment
from kvarchive.testing._playback.hls import master_playlist, media_playlist
from kvarchive.testing._playback.mpegts import ts_segment
from kvarchive.testing._playback.sessions import Session, SessionStore, Window
from kvarchive.testing._playback.timeline import VIDEO_TIMESCALE, timed_frames, timescale
from kvarchive.testing._streams import FragmentRecord

__all__ = ["CORS_HEADERS", "PLAYBACK_OPERATIONS", "PREFLIGHT_HEADERS", "Playback"]

PLAYBACK_OPERATIONS = {
    "/hls/v1/getHLSMasterPlaylist.m3u8": "GetHLSMasterPlaylist",
    "/hls/v1/getHLSMediaPlaylist.m3u8": "GetHLSMediaPlaylist",
    "/hls/v1/getMP4InitFragment.mp4": "GetMP4InitFragment",
    "/hls/v1/getMP4MediaFragment.mp4": "GetMP4MediaFragment",
    "/hls/v1/getTSFragment.ts": "GetTSFragment",
    "/dash/v1/getDASHManifest.mpd": "GetDASHManifest",
    "/dash/v1/getMP4InitFragment.mp4": "GetMP4InitFragment",
    "/dash/v1/getMP4MediaFragment.mp4": "GetMP4MediaFragment",
}
"""Path of each playback resource, and the name requests are recorded under."""

CORS_HEADERS = (("Access-Control-Allow-Origin", "*"),)
PREFLIGHT_HEADERS = (
    *CORS_HEADERS,
    ("Access-Control-Allow-Methods", "GET, OPTIONS"),
    ("Access-Control-Allow-Headers", "*"),
    ("Access-Control-Max-Age", "86400"),
)

_PLAYLIST = "application/vnd.apple.mpegurl"


def _not_found(message: str) -> ApiError:
    return ApiError("ResourceNotFoundException", message)


def _invalid(message: str) -> ApiError:
    return ApiError("InvalidArgumentException", message)


class Playback:
    """Answers the playback resources of the sessions in ``sessions``."""

    def __init__(self, sessions: SessionStore, clock: Callable[[], float]) -> None:
        self._sessions = sessions
        self._clock = clock

    def call(self, path: str, params: Mapping[str, str]) -> Response:
        """Answer ``path`` (a key of :data:`PLAYBACK_OPERATIONS`); raises :class:`ApiError`."""
        protocol = "HLS" if path.startswith("/hls/") else "DASH"
        session, reason = self._sessions.find(params.get("SessionToken", ""), protocol)
        if session is None:
            # The API reference: NotAuthorizedException, "Status Code: 403, ... or the
            # token has expired".
            raise ApiError("NotAuthorizedException", reason, 403)
        handler: Callable[[Session, Mapping[str, str]], Response] = getattr(
            self, "_" + PLAYBACK_OPERATIONS[path]
        )
        return handler(session, params)

    # -- resources -------------------------------------------------------------

    def _GetHLSMasterPlaylist(self, session: Session, params: Mapping[str, str]) -> Response:
        text = master_playlist(session, session.request.stream.tracks, self._window(session))
        return _text(text, _PLAYLIST)

    def _GetHLSMediaPlaylist(self, session: Session, params: Mapping[str, str]) -> Response:
        track = self._track(session, params)
        return _text(media_playlist(session, self._window(session), track), _PLAYLIST)

    def _GetDASHManifest(self, session: Session, params: Mapping[str, str]) -> Response:
        tracks = session.request.stream.tracks
        text = manifest(session, tracks, self._window(session), self._clock())
        return _text(text, "application/dash+xml")

    def _GetMP4InitFragment(self, session: Session, params: Mapping[str, str]) -> Response:
        self._container(session, "FRAGMENTED_MP4")
        self._window(session)  # refuses once retention has dropped the session's fragments
        data = init_segment(self._track(session, params))
        return Response([data], len(data), "video/mp4")

    def _GetMP4MediaFragment(self, session: Session, params: Mapping[str, str]) -> Response:
        self._container(session, "FRAGMENTED_MP4")
        track = self._track(session, params)
        fragment = self._fragment(session, params)
        frames = timed_frames(
            fragment.source.frames(),
            track,
            position_ms=session.position_ms(fragment),
            duration_ms=fragment.duration_ms,
            ticks=timescale(track),
        )
        chunks = media_segment(session.sequence(fragment), track, frames)
        return Response(chunks, sum(len(c) for c in chunks), "video/mp4", streamed=True)

    def _GetTSFragment(self, session: Session, params: Mapping[str, str]) -> Response:
        self._container(session, "MPEG_TS")
        fragment = self._fragment(session, params)
        frames = fragment.source.frames()
        position = session.position_ms(fragment)
        tracks = session.request.stream.tracks
        timed = {
            track.number: iter(
                timed_frames(
                    frames,
                    track,
                    position_ms=position,
                    duration_ms=fragment.duration_ms,
                    ticks=VIDEO_TIMESCALE,
                )
            )
            for track in tracks
        }
        by_number = {track.number: track for track in tracks}
        # Interleaved as the fragment holds them.
        ordered = [(by_number[f.track], next(timed[f.track])) for f in frames if f.track in timed]
        data = ts_segment(session.sequence(fragment), tracks, ordered)
        return Response([data], len(data), "video/MP2T", streamed=True)

    # -- helpers ---------------------------------------------------------------

    def _window(self, session: Session) -> Window:
        window = session.window(self._clock())
        if not window.fragments:
            raise _not_found("No fragments found in the session's time range")
        return window

    def _container(self, session: Session, wanted: str) -> None:
        if session.request.container != wanted:
            raise _invalid(f"The session's container format is {session.request.container}")

    def _track(self, session: Session, params: Mapping[str, str]) -> Track:
        tracks = session.request.stream.tracks
        if session.request.container == "MPEG_TS":
            return tracks[0]
        number = params.get("TrackNumber", "1")
        track = next((t for t in tracks if str(t.number) == number), None)
        if track is None:
            raise _invalid(f"TrackNumber is invalid: {number!r}")
        return track

    def _fragment(self, session: Session, params: Mapping[str, str]) -> FragmentRecord:
        number: Optional[str] = params.get("FragmentNumber")
        sequence = params.get("SequenceNumber", "")
        if number is None and not sequence.isdigit():
            raise _invalid("FragmentNumber (or a DASH SequenceNumber) is required")
        if number is None:
            # DASH names fragments by their sequence number in the session.
            wanted = int(sequence)
            found = (f for f in session.candidates() if session.sequence(f) == wanted)
            number = next((f.number for f in found), "")
        fragment = session.find(number)
        if fragment is None:
            raise _not_found(f"Fragment {number} was not found in this session")
        return fragment


def _text(text: str, content_type: str) -> Response:
    body = text.encode()
    return Response([body], len(body), content_type)
