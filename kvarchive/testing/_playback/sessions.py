"""HLS and DASH streaming sessions: tokens, expiry, the limit of ten, and what each shows.

What the Kinesis Video Streams API reference says of GetHLSStreamingSessionURL
and GetDASHStreamingSessionURL, and the emulator follows:

- Each session has its own token; past ``Expires`` seconds, no playlist,
  manifest or fragment of the session can be fetched.
- "A Kinesis video stream can have a maximum of ten active HLS streaming
  sessions. If a new session is created when the maximum number of sessions
  is already active, the oldest (earliest created) session is closed." HLS and
  DASH sessions are counted apart.
- ``ON_DEMAND`` shows the oldest fragments of the range, up to
  ``MaxMediaPlaylistFragmentResults`` (default 1,000); ``LIVE`` the newest ones
  (default 5), as the stream grows; ``LIVE_REPLAY`` starts at the range's start
  and adds a fragment each time "the duration of the next fragment elapses".

A session's timeline starts at its first fragment: a fragment's sequence
number is its place in the stream counted from there, and its position is
its timestamp less the first fragment's, so both stay put while the stream
grows or retention drops old fragments.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Sequence
from typing import Any, Callable, Optional

import attrs

from kvarchive import _service as service
from kvarchive.testing._checks import (
    ApiError,
    check_range,
    enum_param,
    int_param,
    invalid,
    struct_param,
    time_range,
)
from kvarchive.testing._streams import EmulatedStream, FragmentRecord

__all__ = ["NO_FRAGMENTS", "Session", "SessionRequest", "SessionStore", "Window"]

MAX_ACTIVE_SESSIONS = 10
_DEFAULT_RESULTS = {"ON_DEMAND": 1000, "LIVE": 5, "LIVE_REPLAY": 5}
# LIVE needs fragments in the last 30 s; ON_DEMAND ranges are at most 24 h.
_LIVE_WINDOW_MS = 30_000
# ON_DISCONTINUITY marks "a gap or overlap of more than 50 milliseconds".
_DISCONTINUITY_MS = 50
_FAR_FUTURE_US = 2**62
# Where the first enum value is not the default: DASH shows fragment numbers only when asked.
_DEFAULTS = {"DisplayFragmentNumber": "NEVER"}
NO_FRAGMENTS = "No fragments found in the stream for the streaming request."
"""The service's message for a clip or session whose range holds no fragment."""


@attrs.frozen
class SessionRequest:
    """A validated GetHLSStreamingSessionURL / GetDASHStreamingSessionURL request."""

    protocol: str  # "HLS" or "DASH"
    stream: EmulatedStream = attrs.field(repr=lambda s: s.name)
    mode: str
    selector: str
    start_us: Optional[int]
    end_us: Optional[int]
    expires: int = 300
    max_results: Optional[int] = None
    container: str = "FRAGMENTED_MP4"
    discontinuity: str = "ALWAYS"
    display_timestamp: bool = False
    display_number: bool = False

    @classmethod
    def from_params(
        cls,
        protocol: str,
        stream: EmulatedStream,
        params: dict[str, Any],
        clock: Callable[[], float],
    ) -> SessionRequest:
        """Read a GetHLSStreamingSessionURL (``protocol`` "HLS") or GetDASHStreamingSessionURL
        request, checked as the service checks it; ``clock`` is the emulator's now (LIVE)."""
        selector_name = f"{protocol}FragmentSelector"
        if protocol == "HLS":
            limit_name = "MaxMediaPlaylistFragmentResults"
            enums = {
                "ContainerFormat": service.CONTAINER_FORMATS,
                "DiscontinuityMode": service.DISCONTINUITY_MODES,
            }
        else:
            limit_name = "MaxManifestFragmentResults"
            enums = {"DisplayFragmentNumber": service.ALWAYS_NEVER}
        chosen = {
            name: enum_param(params, name, allowed, _DEFAULTS.get(name, allowed[0]))
            for name, allowed in enums.items()
        }
        mode = enum_param(params, "PlaybackMode", service.PLAYBACK_MODES, "LIVE")
        timestamps = enum_param(params, "DisplayFragmentTimestamp", service.ALWAYS_NEVER, "NEVER")
        expires = int_param(params, "Expires", *service.EXPIRES_RANGE) or 300
        limit = int_param(params, limit_name, 1, service.SESSION_MAX_RESULTS)
        selector = struct_param(params, selector_name)
        kind = enum_param(
            selector, "FragmentSelectorType", service.TIMESTAMP_TYPES, "SERVER_TIMESTAMP"
        )
        start, end = time_range(selector, selector_name, required=False)
        request = cls(
            protocol,
            stream,
            mode,
            kind,
            start,
            end,
            expires,
            limit,
            chosen.get("ContainerFormat", "FRAGMENTED_MP4"),
            # Without DiscontinuityMode: ALWAYS for server timestamps, NEVER for producer ones.
            params.get("DiscontinuityMode", "NEVER" if kind == "PRODUCER_TIMESTAMP" else "ALWAYS"),
            timestamps == "ALWAYS",
            chosen.get("DisplayFragmentNumber") == "ALWAYS",
        )
        if mode == "LIVE":
            if start is not None or end is not None:
                raise invalid("TimestampRange must not be set in LIVE mode")
            now_ms = int(clock() * 1000)
            recent = stream.overlapping(kind, (now_ms - _LIVE_WINDOW_MS) * 1000, now_ms * 1000)
            if not recent:
                raise ApiError("ResourceNotFoundException", NO_FRAGMENTS)
            return request
        if start is None:
            raise invalid(f"StartTimestamp is required in {mode} mode")
        if mode == "ON_DEMAND" and end is None:
            raise invalid("EndTimestamp is required in ON_DEMAND mode")
        check_range(kind, start, end, clock())
        found = stream.starting_within(kind, start, end if end is not None else 2**62)
        if not found:
            raise ApiError("ResourceNotFoundException", NO_FRAGMENTS)
        return request


@attrs.frozen
class Window:
    """The fragments a playlist or manifest shows now, and whether the range is closed."""

    fragments: Sequence[FragmentRecord]
    complete: bool


@attrs.define(eq=False)
class Session:
    """One streaming session: its token, request, clock times and first fragment."""

    token: str = attrs.field(repr=False)
    request: SessionRequest
    created: float
    origin: FragmentRecord
    anchor_ms: int
    closed: bool = False

    @property
    def expires_at(self) -> float:
        """Clock time after which the session refuses every request."""
        return self.created + self.request.expires

    @property
    def limit(self) -> int:
        """How many fragments a playlist or manifest holds at most."""
        return self.request.max_results or _DEFAULT_RESULTS[self.request.mode]

    def timestamp_ms(self, fragment: FragmentRecord) -> int:
        """The fragment's timestamp of the session's selector type, epoch ms."""
        return fragment.timestamp_ms(self.request.selector)

    def sequence(self, fragment: FragmentRecord) -> int:
        """The fragment's sequence number in the session (0 for the first)."""
        return fragment.index - self.origin.index

    def position_ms(self, fragment: FragmentRecord) -> int:
        """Where the fragment starts on the session's media timeline."""
        return self.timestamp_ms(fragment) - self.timestamp_ms(self.origin)

    def candidates(self) -> list[FragmentRecord]:
        """Every fragment the session may ever show that the stream holds now."""
        request = self.request
        start = self.timestamp_ms(self.origin) * 1000
        end = request.end_us if request.end_us is not None else _FAR_FUTURE_US
        return request.stream.starting_within(request.selector, start, end)

    def window(self, now: float) -> Window:
        """What a playlist or manifest fetched at clock time ``now`` shows."""
        fragments = self.candidates()
        mode = self.request.mode
        if mode == "ON_DEMAND":
            return Window(fragments[: self.limit], True)
        if mode == "LIVE":
            return Window(fragments[-self.limit :], False)
        elapsed_ms = (now - self.created) * 1000
        shown = min(self.limit, len(fragments))
        while shown < len(fragments) and elapsed_ms >= fragments[shown].duration_ms:
            elapsed_ms -= fragments[shown].duration_ms
            shown += 1
        end_us = self.request.end_us
        complete = shown == len(fragments) and end_us is not None and end_us <= now * 1_000_000
        return Window(fragments[max(0, shown - self.limit) : shown], complete)

    def discontinuous(self, previous: Optional[FragmentRecord], fragment: FragmentRecord) -> bool:
        """Whether a playlist marks a discontinuity before ``fragment`` (DiscontinuityMode)."""
        mode = self.request.discontinuity
        if mode == "ALWAYS":
            return True
        if mode == "NEVER" or previous is None:
            return False
        expected = self.timestamp_ms(previous) + previous.duration_ms
        return abs(self.timestamp_ms(fragment) - expected) > _DISCONTINUITY_MS

    def find(self, number: str) -> Optional[FragmentRecord]:
        """The fragment ``number`` if the session covers it and the stream still holds it."""
        fragment = self.request.stream.fragment(number)
        if fragment is None or fragment not in self.candidates():
            return None
        return fragment


class SessionStore:
    """The sessions handed out, by token; thread-safe.

    Every token begins with ``token_prefix``, so a search for the prefix finds
    any token in a text (the emulator's secret-leak check).
    """

    def __init__(self, token_prefix: str, clock: Callable[[], float]) -> None:
        self._prefix = token_prefix
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}

    @property
    def tokens(self) -> list[str]:
        """Every token handed out, oldest first (closed and expired ones included)."""
        with self._lock:
            return list(self._sessions)

    def open(self, request: SessionRequest) -> Session:
        """Start a session; the oldest active one of its stream and protocol closes beyond ten.

        The request must select at least one fragment (the service's checks see to it).
        """
        now = self._clock()
        limit = request.max_results or _DEFAULT_RESULTS[request.mode]
        if request.mode == "LIVE":
            stored = request.stream.starting_within(request.selector, 0, _FAR_FUTURE_US)
            origin = stored[max(0, len(stored) - limit)]
        else:
            assert request.start_us is not None
            end = request.end_us if request.end_us is not None else _FAR_FUTURE_US
            origin = request.stream.starting_within(request.selector, request.start_us, end)[0]
        anchor_ms = origin.timestamp_ms(request.selector)
        session = Session(self._prefix + secrets.token_hex(16), request, now, origin, anchor_ms)
        if request.mode == "LIVE_REPLAY":
            # Its manifest's clock: the first window ends now, and it then grows in real time.
            last = session.window(now).fragments[-1]
            session.anchor_ms = int(now * 1000) - session.position_ms(last) - last.duration_ms
        with self._lock:
            active = [
                s
                for s in self._sessions.values()
                if not s.closed
                and s.request.stream is request.stream
                and s.request.protocol == request.protocol
            ]
            for oldest in active[: max(0, len(active) - MAX_ACTIVE_SESSIONS + 1)]:
                oldest.closed = True
            self._sessions[session.token] = session
        return session

    def find(self, token: str, protocol: str) -> tuple[Optional[Session], str]:
        """The live session of ``protocol`` holding ``token``, or None and why not."""
        with self._lock:
            session = self._sessions.get(token)
        if session is None or session.request.protocol != protocol:
            return None, "The session token is not valid."
        if session.closed:
            return None, "The session was closed: a newer session replaced it."
        if self._clock() > session.expires_at:
            return None, "The session token has expired."
        return session, ""
