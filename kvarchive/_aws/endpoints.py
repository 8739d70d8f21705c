"""Where calls go: the boto3 session, its clients per endpoint, the cache of data endpoints.

Every archived-media call must be sent to the data endpoint that
GetDataEndpoint names for its stream and API; boto3's default endpoint for
the data plane is the control plane, which answers HTTP 200 with nothing in
it. Endpoints are cached per (stream, API name) for a TTL, resolved once
however many threads ask at the same time, and dropped when they stop
answering. The session is the one given, or one made on first use from the
client's settings: a client unpickled in a worker makes its own there.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from typing import Any, Callable, Optional

import attrs

from kvarchive._aws.fastpages import register_fast_pages
from kvarchive._aws.hints import no_region_message
from kvarchive._aws.settings import ClientSettings
from kvarchive._errors import UsageError, ValidationError
from kvarchive._types import StreamRef
from kvarchive._validate import stream_key

__all__ = ["Clients", "EndpointCache", "s3_config"]

_MILLISECOND_HANDLER_ID = "kvarchive-millisecond-timestamps"


def _millisecond_timestamps(serializer_kwargs: dict[str, Any], **_: Any) -> None:
    # botocore sends whole epoch seconds unless told otherwise, moving a
    # fragment-accurate range by up to a second.
    serializer_kwargs["timestamp_precision"] = "millisecond"


class Clients:
    """The boto3 clients of one session: one control-plane client, one per data endpoint.

    Without a ``session``, one is made on first use from ``settings`` (its
    profile and region) and the default credential chain: so a client
    unpickled in a worker signs with the worker's own credentials.
    """

    def __init__(self, settings: ClientSettings, session: Any = None) -> None:
        if session is not None:
            # What a worker needs to rebuild an equivalent session: no keys.
            named = session.profile_name if session.profile_name != "default" else None
            region = settings.region_name or session.region_name
            settings = attrs.evolve(settings, region_name=region, profile_name=named)
            _register_handlers(session)
        self.settings = settings
        self._given = session
        self._session = session
        self._control: Any = None
        self._data: dict[str, Any] = {}
        self._others: dict[str, Any] = {}
        # Creating a session, or clients from one session, is not thread-safe.
        self._lock = threading.Lock()

    def control(self) -> Any:
        """The ``kinesisvideo`` client (GetDataEndpoint)."""
        with self._lock:
            if self._control is None:
                self._control = self._create("kinesisvideo", self.settings.endpoint_url)
            return self._control

    def data(self, url: str) -> Any:
        """The ``kinesis-video-archived-media`` client for one data endpoint, made once."""
        with self._lock:
            client = self._data.get(url)
            if client is None:
                client = self._data[url] = self._create("kinesis-video-archived-media", url)
                register_fast_pages(client)
            return client

    def service(self, name: str) -> Any:
        """The session's client of another service (``"s3"``, ``"dynamodb"``), made once.

        No endpoint is given: boto3 takes the service's own from its
        configuration (``AWS_ENDPOINT_URL_S3``, the config file's ``services``),
        never Kinesis Video's ``endpoint_url``.
        """
        with self._lock:
            client = self._others.get(name)
            if client is None:
                client = self._others[name] = self._create(name, None)
            return client

    def close(self) -> None:
        """Close every client's connection pool."""
        with self._lock:
            made = (self._control, *self._data.values(), *self._others.values())
            clients = [c for c in made if c is not None]
            self._control = None
            self._data.clear()
            self._others.clear()
        for client in clients:
            client.close()

    def portable(self) -> ClientSettings:
        """The settings a pickle holds: the region resolved here, and never a key.

        A session given with keys set in code (``boto3.Session(aws_access_key_id=...)``)
        is refused unless ``pickle_without_keys``: its workers would sign with
        other credentials, their own, without anyone having said so.
        """
        settings = self.settings
        given = self._given
        if given is not None and not settings.pickle_without_keys and _keys_in_code(given):
            raise UsageError(
                "this ArchivedMediaClient was made from a boto3 session holding keys set "
                "in code, and a pickled client never carries keys: in a worker it would "
                "sign with that machine's own credentials. Make the client from a profile, "
                "the environment or an instance role instead, or pass "
                "ArchivedMediaClient(..., pickle_without_keys=True) to pickle it with the "
                "keys left behind"
            )
        if settings.region_name is None:
            with self._lock:
                region = self._boto_session().region_name
            settings = attrs.evolve(settings, region_name=region)
        return settings

    def _boto_session(self) -> Any:
        """The boto3 session, made on first use (call with the lock held)."""
        if self._session is None:
            import boto3
            from botocore.exceptions import ProfileNotFound

            try:
                session = boto3.Session(
                    profile_name=self.settings.profile_name, region_name=self.settings.region_name
                )
            except ProfileNotFound:
                raise ValidationError(
                    f"the AWS profile {self.settings.profile_name!r} is not configured on this "
                    "machine (a pickled client keeps its profile name; give workers that "
                    "profile, or make the client without one)"
                ) from None
            _register_handlers(session)
            self._session = session
        return self._session

    def _create(self, service: str, endpoint_url: Optional[str]) -> Any:
        from botocore.exceptions import NoRegionError

        config = self.settings.config
        if service == "s3":
            config = s3_config(config)
        try:
            return self._boto_session().client(
                service,
                region_name=self.settings.region_name,
                endpoint_url=endpoint_url,
                config=config,
            )
        except NoRegionError:
            raise ValidationError(no_region_message("pass region_name=")) from None


def s3_config(config: Any) -> Any:
    """``config`` for S3 clients, signing with SigV4 unless it says otherwise.

    botocore can still presign S3 links with SigV2, which AWS is retiring and
    which newer regions refuse; SigV4 links last at most 7 days.
    """
    from botocore.config import Config

    sigv4 = Config(signature_version="s3v4")
    return sigv4 if config is None else sigv4.merge(config)


def _register_handlers(session: Any) -> None:
    """Have the session's kinesisvideo serializers keep milliseconds."""
    # Registered on the session because that is where botocore looks for it;
    # it only affects the serializers of the "kinesisvideo" endpoint prefix.
    session.events.register(
        "creating-serializer.kinesisvideo",
        _millisecond_timestamps,
        unique_id=_MILLISECOND_HANDLER_ID,
    )


def _keys_in_code(session: Any) -> bool:
    """Whether ``session`` signs with keys given in code rather than found by its chain."""
    from botocore.exceptions import BotoCoreError

    try:
        credentials = session.get_credentials()
    except BotoCoreError:
        return False  # keys set in code are never looked up, so never fail
    # botocore marks keys given to the session (boto3.Session(aws_access_key_id=...)) "explicit".
    return credentials is not None and getattr(credentials, "method", None) == "explicit"


@attrs.frozen
class _Entry:
    url: str
    expires: float


class EndpointCache:
    """Data endpoints per (stream, API name), reused for ``ttl`` seconds.

    A stream named by its name or by its ARN is one key (:func:`stream_key`).

    ``resolve(stream, api_name)`` is called at most once at a time per key:
    concurrent callers wait for the one call in flight and share its answer
    (or its error).
    """

    def __init__(
        self,
        resolve: Callable[[StreamRef, str], str],
        ttl: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._resolve = resolve
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._pending: dict[tuple[str, str], Future[str]] = {}
        self._lock = threading.Lock()

    def get(self, stream: StreamRef, api_name: str) -> str:
        """The data endpoint for ``api_name`` on ``stream``, resolving it if needed."""
        key = (stream_key(stream), api_name)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.expires > self._clock():
                return entry.url
            pending = self._pending.get(key)
            owner = pending is None
            if pending is None:
                pending = self._pending[key] = Future()
        if not owner:
            return pending.result()
        try:
            url = self._resolve(stream, api_name)
        except BaseException as exc:
            with self._lock:
                del self._pending[key]
            pending.set_exception(exc)
            raise
        with self._lock:
            self._entries[key] = _Entry(url, self._clock() + self._ttl)
            del self._pending[key]
        pending.set_result(url)
        return url

    def drop(self, stream: StreamRef, api_name: str, url: str) -> None:
        """Forget ``url`` for this key (if it is still the cached one): it stopped answering."""
        key = (stream_key(stream), api_name)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.url == url:
                del self._entries[key]
