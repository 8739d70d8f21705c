"""The emulator: Kinesis Video control plane and archived-media data plane on 127.0.0.1."""

from __future__ import annotations

import secrets
import threading
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Optional

from kvarchive._service import STREAM_NAME
from kvarchive._times import to_epoch_ms
from kvarchive.testing._call import CallStreams
from kvarchive.testing._controls import Controls, surfacing_bugs
from kvarchive.testing._faults import FRAMINGS
from kvarchive.testing._fragments import MAGIC_MODES, synthetic_media_type
from kvarchive.testing._operations import Service
from kvarchive.testing._playback.resources import Playback
from kvarchive.testing._playback.sessions import SessionStore
from kvarchive.testing._producer import Producer, Producers, VisibilityDelay
from kvarchive.testing._sample import load_sample, sample_stream
from kvarchive.testing._seeded import mixed_seed
from kvarchive.testing._server import Dispatcher, EndpointServer
from kvarchive.testing._streams import (
    EmulatedStream,
    FragmentRecord,
    MediaCache,
    first_fragment_ms,
    synthetic_stream,
)

if TYPE_CHECKING:
    import boto3

    from kvarchive import ArchivedMediaClient

__all__ = ["Emulator"]

# The emulator checks no signature, but botocore signs every request: any keys will do.
_DUMMY_KEY = "kvarchive-emulator"


@surfacing_bugs
class Emulator(Controls, CallStreams):
    """A local Kinesis Video Streams archive, served over HTTP by background threads.

    ``endpoint_url`` is the control plane (GetDataEndpoint, DescribeStream, ListStreams), on
    ``port`` (0: a free one); it hands out ``data_endpoint_url``, a separate server for the
    six archived-media operations, and for GET_MEDIA / PUT_MEDIA ``live_endpoint_url``,
    another one (the service's hosts differ too), where GetMedia and PutMedia answer that the
    emulator does not serve them.
    Each server answers only its own operations. Servers start at construction;
    :meth:`close` (or leaving the ``with`` block) stops them and joins their threads.
    Credentials and signatures are not checked. An exception inside a request handler
    (a bug of the emulator) is answered with HTTP 500 and raised in the test at the next
    call of a method or at :meth:`close`, with its own traceback.

    Streaming-session URLs point at the data endpoint, which serves their HLS playlists, DASH
    manifests and fMP4 / MPEG-TS fragments to any player. ``clock`` (epoch seconds,
    :func:`time.time` by default) is the emulator's "now": sessions expire, LIVE finds recent
    fragments and LIVE_REPLAY advances by it, so a test can move it instead of waiting.
    ``media_cache_bytes`` keeps the bytes of media fragments once served, up to
    that many in all, and serves them whole afterwards: the emulator makes a
    fragment at about a millisecond, which would cap a benchmark's reader.
    """

    def __init__(
        self,
        *,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        body_framing: str = "chunked",
        clock: Callable[[], float] = time.time,
        media_cache_bytes: int = 0,
    ) -> None:
        super().__init__()
        self.region = region
        self.account_id = account_id
        self.seed = seed
        self.session_token = "KVSEMU" + secrets.token_hex(24)
        """The start of every streaming session's token: ``emu.session_token in text``
        finds any of them (check it never leaks); :attr:`session_tokens` lists each.
        """
        self.body_framing = body_framing
        self._host = host
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._sessions = SessionStore(self.session_token, clock)
        self._service = Service(
            region=region,
            account_id=account_id,
            seed=seed,
            sessions=self._sessions,
            data_endpoint=lambda: self.data_endpoint_url,
            live_endpoint=lambda: self.live_endpoint_url,
            failed_fragment=self._faults.fragment_failure,
            clock=clock,
            media=MediaCache(media_cache_bytes),
        )
        self._dispatcher = Dispatcher(
            self._service,
            self._faults,
            self._record,
            lambda: self.body_framing,
            self._closing,
            playback=Playback(self._sessions, clock),
            bugs=self._bugs.keep,
        )
        self._control = EndpointServer("control", self._dispatcher, host, port)
        self._data = EndpointServer("data", self._dispatcher, host)
        self._live = EndpointServer("live", self._dispatcher, host)
        for server in (self._control, self._data, self._live):
            server.start()
        self._producers = Producers(clock, seed)
        self._closed = False

    # -- lifecycle -------------------------------------------------------------

    def close(self) -> None:
        """Stop the servers and join their threads (idempotent); then raise an exception
        that a request handler raised and no call has raised yet."""
        if not self._closed:
            self._closed = True
            self._producers.stop()
            self._closing.set()
            for server in (self._control, self._data, self._live):
                server.stop()
        self._bugs.raise_kept()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else self.endpoint_url
        return f"<Emulator {state} data={self._data.url}>"

    # -- endpoints -------------------------------------------------------------

    @property
    def endpoint_url(self) -> str:
        """The control-plane URL: what ``ArchivedMediaClient(endpoint_url=...)`` takes."""
        return self._control.url

    @property
    def data_endpoint_url(self) -> str:
        """The data endpoint GetDataEndpoint currently hands out."""
        return self._data.url

    @property
    def live_endpoint_url(self) -> str:
        """The endpoint GetDataEndpoint hands out for GET_MEDIA and PUT_MEDIA."""
        return self._live.url

    @property
    def body_framing(self) -> str:
        """How media bodies are framed: ``"chunked"`` (as the service), ``"length"`` or
        ``"close"`` (no length, connection closed at the end: a cut looks like a clean end).
        """
        return self._body_framing

    @body_framing.setter
    def body_framing(self, value: str) -> None:
        if value not in FRAMINGS:
            raise ValueError(f"body_framing must be one of {FRAMINGS}, got {value!r}")
        self._body_framing = value

    def session(self) -> boto3.Session:
        """A boto3 session for the emulator: dummy credentials and its region.

        It needs no AWS configuration at all, so raw boto3 clients made from it
        (with ``endpoint_url=emu.endpoint_url``) work on any machine.
        """
        import boto3

        return boto3.Session(
            aws_access_key_id=_DUMMY_KEY,
            aws_secret_access_key=_DUMMY_KEY,
            region_name=self.region,
        )

    def client(self, **kwargs: Any) -> ArchivedMediaClient:
        """An ArchivedMediaClient for the emulator, on :meth:`session` and :attr:`endpoint_url`.

        ``kwargs`` go to ``ArchivedMediaClient`` (``backoff=``, ``rate_limit=``, ...) and may
        override ``session`` or ``endpoint_url``. It pickles (process pools, Dask) without its
        dummy keys: a worker signs with any keys in its environment (the emulator checks none).
        """
        from kvarchive import ArchivedMediaClient

        kwargs.setdefault("endpoint_url", self.endpoint_url)
        kwargs.setdefault("pickle_without_keys", True)
        if "session" not in kwargs:
            kwargs["session"] = self.session()
        return ArchivedMediaClient(**kwargs)

    def retire_data_endpoint(self) -> str:
        """Stop the current data server (connections refused, open ones dropped).

        GetDataEndpoint hands out a new server on a new port, which is returned.
        """
        fresh = EndpointServer("data", self._dispatcher, self._host)
        fresh.start()
        with self._lock:
            old, self._data = self._data, fresh
        old.stop()
        return fresh.url

    # -- streams ---------------------------------------------------------------

    def add_stream(
        self,
        name: str,
        *,
        fragment_count: int = 10,
        fragment_duration_ms: int = 2000,
        start: Optional[datetime] = None,
        payload_size: int = 64 * 1024,
        frame_rate: int = 15,
        audio: bool = False,
        seed: Optional[int] = None,
        mixed_number_lengths: bool = False,
        gap_ms: int = 0,
        cluster_size_known: bool = False,
        trailing_tags: bool = False,
        magic: str = "sometimes",
        retention_hours: int = 24,
        kms_key_id: Optional[str] = None,
        media_type: Optional[str] = None,
        created: Optional[datetime] = None,
        codec: str = "h264",
        codec_private: bool = True,
    ) -> EmulatedStream:
        """Create a stream of synthetic fragments and return it.

        ``start`` is the first fragment's server timestamp (naive means UTC);
        by default the stream ends now, so LIVE playback finds it. Fragment
        bytes are generated on demand, so large streams cost no memory.
        ``payload_size`` is the video bytes per fragment; ``gap_ms`` leaves a
        hole between fragments; ``mixed_number_lengths`` makes fragment
        numbers of 46 and 47 digits; ``magic`` ("never", "sometimes",
        "always") plants the EBML magic bytes inside frames.
        ``retention_hours``, ``kms_key_id``, ``media_type`` and ``created`` are what
        DescribeStream reports (see :meth:`add_sample_stream`). ``codec`` is track 1's
        (``"h264"``, ``"hevc"``, ``"vp8"``, or ``"aac"`` alone), its CodecPrivate left out
        unless ``codec_private``: such frames are noise that only the track list describes.
        """
        if not STREAM_NAME.fullmatch(name):
            raise ValueError(f"invalid stream name {name!r}")
        if fragment_count < 0 or payload_size < 0:
            raise ValueError("fragment_count and payload_size must not be negative")
        if magic not in MAGIC_MODES:
            raise ValueError(f"magic must be one of {MAGIC_MODES}")
        step = fragment_duration_ms + gap_ms
        start_ms = first_fragment_ms(start, fragment_count * step)
        described = self._service.describe(
            name,
            start_ms,
            created=created,
            retention_hours=retention_hours,
            kms_key_id=kms_key_id,
            media_type=media_type or synthetic_media_type(codec, audio),
            audio=audio,
        )
        stream = synthetic_stream(
            name,
            described,
            fragment_count=fragment_count,
            fragment_duration_ms=fragment_duration_ms,
            start_ms=start_ms,
            payload_size=payload_size,
            frame_count=max(1, fragment_duration_ms * frame_rate // 1000),
            audio=audio,
            seed=mixed_seed(self.seed, name) if seed is None else seed,
            mixed_number_lengths=mixed_number_lengths,
            gap_ms=gap_ms,
            cluster_size_known=cluster_size_known,
            trailing_tags=trailing_tags,
            magic=magic,
            codec=codec,
            codec_private=codec_private,
        )
        self._service.add_stream(stream)
        return stream

    def add_sample_stream(
        self,
        name: str = "demo",
        *,
        start: Optional[datetime] = None,
        repeat: int = 1,
        seed: Optional[int] = None,
        cluster_size_known: bool = False,
        trailing_tags: bool = False,
        retention_hours: int = 24,
        kms_key_id: Optional[str] = None,
        media_type: Optional[str] = None,
        created: Optional[datetime] = None,
    ) -> EmulatedStream:
        """Create a stream of the bundled real sample and return it.

        The sample is 10 s of 320x240 H.264 at 15 fps with AAC audio (track 2),
        one fragment per second; ``repeat`` plays it that many times in a row.
        Fragments decode in ordinary players, GetClip answers a playable MP4,
        and GetImages answers the real keyframe of each fragment (JPEG or PNG,
        at the native size; a size asked gives flat images instead).
        ``start`` is the first fragment's server timestamp; by default the
        stream ends now. DescribeStream reports ``retention_hours`` (0: the archived
        APIs answer NoDataRetentionException), ``kms_key_id`` (default: the service's
        key ``alias/aws/kinesisvideo``), ``media_type`` (default: from the tracks) and
        ``created`` (default: an hour before ``start``; the ARN holds it).
        """
        if not STREAM_NAME.fullmatch(name):
            raise ValueError(f"invalid stream name {name!r}")
        if repeat < 1:
            raise ValueError("repeat must be at least 1")
        start_ms = first_fragment_ms(start, load_sample().duration_ms * repeat)
        described = self._service.describe(
            name,
            start_ms,
            created=created,
            retention_hours=retention_hours,
            kms_key_id=kms_key_id,
            media_type=media_type,
            audio=True,
        )
        stream = sample_stream(
            name,
            described,
            start_ms=start_ms,
            repeat=repeat,
            seed=mixed_seed(self.seed, name) if seed is None else seed,
            cluster_size_known=cluster_size_known,
            trailing_tags=trailing_tags,
        )
        self._service.add_stream(stream)
        return stream

    def stream(self, name: str) -> EmulatedStream:
        """The stream called ``name`` (KeyError if none)."""
        return self._service.stream(name)

    def fail_fragment(
        self,
        stream_name: str,
        number: str,
        *,
        code: str = "4000",
        message: str = "Requested fragment is not available",
    ) -> None:
        """Serve fragment ``number`` of ``stream_name`` as an error chunk in every
        GetMediaForFragmentList body (HTTP 200), as the service does for a fragment it cannot
        serve: the fragment's number and ``AWS_KINESISVIDEO_EXCEPTION_ERROR_CODE`` /
        ``..._EXCEPTION_MESSAGE`` tags in place of its media, until :meth:`reset_faults`.
        The fragment need not exist yet (one a producer will add).
        """
        self.stream(stream_name)  # KeyError for a stream the emulator does not hold
        self._faults.fail_fragment(stream_name, number, code, message)

    def append_fragments(self, name: str, count: int = 1) -> list[FragmentRecord]:
        """Add ``count`` fragments at the end of stream ``name``, as its producer would.

        They follow the last fragment in time and number (a sample stream plays
        on through the sample); LIVE and LIVE_REPLAY sessions show them as they
        come. Returns the new fragments.
        """
        if count < 1:
            raise ValueError("count must be at least 1")
        return self.stream(name).append(count)

    def drop_fragments(self, name: str, *, before: datetime) -> list[FragmentRecord]:
        """Delete the fragments of ``name`` stamped (server time) before ``before``.

        What the stream's retention does to fragments older than
        DataRetentionInHours: they leave ListFragments and media answers, and
        the playlists and fragment URLs of sessions that showed them stop
        working. Returns the dropped fragments.
        """
        return self.stream(name).drop_before(to_epoch_ms(before))

    def start_producing(
        self, name: str, *, visibility_delay: VisibilityDelay = 0.0, seed: Optional[int] = None
    ) -> Producer:
        """Grow stream ``name`` in real time until stopped or closed (see :class:`Producer`);
        each fragment is listed ``visibility_delay`` s (or ``(low, high)``, drawn) after its end."""
        return self._producers.start(self.stream(name), visibility_delay, seed)

    @property
    def session_tokens(self) -> list[str]:
        """Every streaming-session token handed out so far, oldest first."""
        return self._sessions.tokens
