"""HTTP plumbing of the emulator: listening servers, dispatch and response writing.

Speaks the AWS rest-json protocol as botocore expects it: ``POST /operationName``
with a JSON body; errors carry ``x-amzn-ErrorType`` and ``x-amzn-RequestId``
headers and a ``{"Message": ...}`` body, as the service's. Each endpoint serves
its own operations (control plane, archived media, live media) and answers any
other one as the control-plane host does: HTTP 200 with an
``UnknownOperationException`` inside. The data endpoint also answers the
``GET`` playback resources of streaming sessions (see :mod:`._playback`), with
CORS headers, and their ``OPTIONS`` preflights. An exception inside a handler
is a bug of the emulator: the request gets a 500 and the test gets the
exception (see :mod:`._controls`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional
from urllib.parse import parse_qsl

import attrs

from kvarchive._redact import Redactor
from kvarchive.testing._checks import ApiError
from kvarchive.testing._faults import FRAMINGS, Faults
from kvarchive.testing._operations import ENDPOINT_OPERATIONS, Response, Service
from kvarchive.testing._playback.resources import (
    CORS_HEADERS,
    PLAYBACK_OPERATIONS,
    PREFLIGHT_HEADERS,
    Playback,
)

__all__ = ["Dispatcher", "EndpointServer", "RecordedRequest"]

_log = logging.getLogger("kvarchive.testing")

_ERROR_TYPE_SUFFIX = ":http://internal.amazon.com/coral/com.amazon.kinesis.video.v20170930/"
# What the control-plane host answers to an operation it does not know: HTTP 200, these
# 90 bytes exactly (quoted in user reports).
_UNKNOWN_OPERATION = (
    b'{"Output":{"__type":"com.amazon.coral.service#UnknownOperationException"},"Version":"1.0"}'
)
_ALL_OPERATIONS = {
    path: name for table in ENDPOINT_OPERATIONS.values() for path, name in table.items()
}
_WRITE_SIZE = 64 * 1024
_DISCONNECTS = (
    BrokenPipeError,
    ConnectionResetError,
    ConnectionAbortedError,
    TimeoutError,
    socket.timeout,  # not yet TimeoutError on Python 3.9
)


@attrs.frozen
class RecordedRequest:
    """A request the emulator received: which server, which operation, which parameters, when.

    ``time`` is when it arrived, in epoch seconds of the real clock (for request rates).
    """

    endpoint: str
    url: str
    operation: str
    params: dict[str, Any] = attrs.field(hash=False)
    time: float = attrs.field(factory=time.time, eq=False)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's
    # algorithm and the client's delayed ACK add 40 ms to every answer.
    disable_nagle_algorithm = True
    server: EndpointServer
    # Idle keep-alive connections end on their own after this long.
    timeout = 120

    def do_POST(self) -> None:
        self.server.dispatcher.handle(self, self.server)

    do_GET = do_PUT = do_DELETE = do_POST

    def do_OPTIONS(self) -> None:
        self.server.dispatcher.preflight(self)

    def log_message(self, format: str, *args: Any) -> None:
        # Request lines of playback resources hold session tokens: never log those.
        line = Redactor()(format % args)
        _log.debug("%s %s", self.address_string(), line)


class EndpointServer(ThreadingHTTPServer):
    """One listening endpoint ("control", "data" or "live") on a free port, served by threads."""

    daemon_threads = True

    def __init__(
        self, role: str, dispatcher: Dispatcher, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.role = role
        self.dispatcher = dispatcher
        self._connections: dict[threading.Thread, socket.socket] = {}
        self._lock = threading.Lock()
        self._serving: Optional[threading.Thread] = None
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        """``http://host:port`` of this endpoint."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        """Serve in a background daemon thread."""
        self._serving = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"kvarchive-emulator-{self.role}",
            daemon=True,
        )
        self._serving.start()

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_connection, args=(request, client_address), daemon=True
        )
        with self._lock:
            self._connections[thread] = request
        thread.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            with self._lock:
                self._connections.pop(threading.current_thread(), None)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up (timeouts, cuts, retired endpoints) are routine here.
        error = sys.exc_info()[1]
        if isinstance(error, OSError):
            _log.debug("connection from %s ended: %s", client_address, error)
        else:
            _log.exception("emulator connection from %s failed", client_address)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop listening, drop open connections and join every thread."""
        if self._serving is not None:
            self.shutdown()
            self._serving.join(timeout)
            self._serving = None
        self.server_close()
        with self._lock:
            connections = list(self._connections.items())
        for _, sock in connections:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread, _ in connections:
            thread.join(timeout)


class Dispatcher:
    """Turns HTTP requests into recorded, fault-injected service calls."""

    def __init__(
        self,
        service: Service,
        faults: Faults,
        record: Callable[[RecordedRequest], None],
        framing: Callable[[], str],
        closing: threading.Event,
        *,
        playback: Playback,
        bugs: Callable[[BaseException], None],
    ) -> None:
        self.service = service
        self._bugs = bugs
        self.playback = playback
        self.faults = faults
        self._record = record
        self._framing = framing
        self._closing = closing

    def handle(self, handler: _Handler, server: EndpointServer) -> None:
        """Answer one request on ``handler``."""
        try:
            self._handle(handler, server)
        except _DISCONNECTS:
            handler.close_connection = True
        except Exception as exc:  # a bug of the emulator, raised in the test instead
            self._bugs(exc)
            handler.close_connection = True

    def preflight(self, handler: _Handler) -> None:
        """Answer a CORS preflight: any origin may GET the playback resources."""
        _write(handler, Response([], 0, status=204), "length", headers=PREFLIGHT_HEADERS)

    def _handle(self, handler: _Handler, server: EndpointServer) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        path, _, query = handler.path.partition("?")
        playback = server.role == "data" and path in PLAYBACK_OPERATIONS
        headers = CORS_HEADERS if playback else ()
        operations = ENDPOINT_OPERATIONS[server.role]
        operation = PLAYBACK_OPERATIONS[path] if playback else operations.get(path)
        try:
            params: dict[str, Any] = json.loads(raw or b"{}", parse_float=Decimal)
            if not isinstance(params, dict):
                raise ValueError("not an object")
            recorded = json.loads(raw or b"{}")
        except ValueError:
            params, recorded = {}, {}
            if operation is not None:
                self._record(RecordedRequest(server.role, server.url, operation, {}))
                error = ApiError("SerializationException", "The request body is not JSON")
                self._write_error(handler, error)
                return
        if playback:
            # Playback resources take their parameters from the query; tokens are not kept.
            params = dict(parse_qsl(query))
            recorded = {k: v for k, v in params.items() if k != "SessionToken"}
        name = operation or _ALL_OPERATIONS.get(path, path)
        self._record(RecordedRequest(server.role, server.url, name, recorded))
        if operation is None:
            _write(handler, Response([_UNKNOWN_OPERATION], len(_UNKNOWN_OPERATION)), "length")
            return

        stall = self.faults.take_stall(operation)
        if stall:
            self._closing.wait(stall)
        try:
            failure = self.faults.take_failure(operation)
            if failure is not None:
                raise ApiError(failure.code, failure.message, failure.status)
            if self.faults.throttled(self.service.stream_key(params), operation):
                raise ApiError(
                    "ClientLimitExceededException",
                    "Kinesis Video Streams has throttled the request because you have"
                    " exceeded the limit of allowed client calls.",
                )
            if playback:
                response = self.playback.call(path, params)
            else:
                response = self.service.call(operation, params)
        except ApiError as error:
            self._write_error(handler, error, headers)
            return
        except Exception as exc:  # a bug of the emulator: answered, and raised in the test
            self._bugs(exc)
            message = f"The emulator failed on {operation}: {type(exc).__name__}: {exc}"
            self._write_error(handler, ApiError("InternalFailure", message, 500), headers)
            return

        cut = self.faults.take_cut(operation)
        framing = self._framing() if response.streamed else "length"
        if cut is not None and cut.framing is not None:
            framing = cut.framing
        _write(
            handler,
            response,
            framing,
            cut_after=cut.after_bytes if cut is not None else None,
            bandwidth=self.faults.bandwidth,
            closing=self._closing,
            headers=headers,
        )

    def _write_error(
        self, handler: _Handler, error: ApiError, headers: Sequence[tuple[str, str]] = ()
    ) -> None:
        body = json.dumps({"Message": error.message}).encode()
        _write(
            handler,
            Response([body], len(body), status=error.status),
            "length",
            error_type=error.code + _ERROR_TYPE_SUFFIX,
            headers=headers,
        )


def _write(
    handler: _Handler,
    response: Response,
    framing: str,
    *,
    error_type: Optional[str] = None,
    cut_after: Optional[int] = None,
    bandwidth: Optional[int] = None,
    closing: Optional[threading.Event] = None,
    headers: Sequence[tuple[str, str]] = (),
) -> None:
    """Send ``response`` framed as asked (with extra ``headers``), cut after ``cut_after``
    body bytes if set.
    """
    if framing not in FRAMINGS:
        raise ValueError(f"framing must be one of {FRAMINGS}")
    handler.send_response(response.status)
    handler.send_header("x-amzn-RequestId", str(uuid.uuid4()))
    handler.send_header("Content-Type", response.content_type)
    if error_type is not None:
        handler.send_header("x-amzn-ErrorType", error_type)
    for header, value in headers:
        handler.send_header(header, value)
    if framing == "length":
        handler.send_header("Content-Length", str(response.length))
    elif framing == "chunked":
        handler.send_header("Transfer-Encoding", "chunked")
    else:
        handler.send_header("Connection", "close")
        handler.close_connection = True
    handler.end_headers()

    out = handler.wfile
    sent = 0
    started = time.monotonic()
    for chunk in response.chunks:
        view = memoryview(chunk)
        for position in range(0, len(view), _WRITE_SIZE):
            piece = view[position : position + _WRITE_SIZE]
            if cut_after is not None and sent + len(piece) > cut_after:
                partial = piece[: cut_after - sent]
                if framing == "chunked":
                    # Announce the whole piece, deliver only part of it.
                    out.write(b"%x\r\n" % len(piece) + partial)
                else:
                    out.write(partial)
                _drop(handler)
                return
            if framing == "chunked":
                out.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
            else:
                out.write(piece)
            sent += len(piece)
            if bandwidth:
                delay = sent / bandwidth - (time.monotonic() - started)
                if delay > 0:
                    if closing is not None:
                        if closing.wait(delay):
                            _drop(handler)
                            return
                    else:
                        time.sleep(delay)
    if cut_after is not None and sent >= cut_after:
        _drop(handler)
        return
    if framing == "chunked":
        out.write(b"0\r\n\r\n")


def _drop(handler: _Handler) -> None:
    """End the connection now, as a dropped one ends (the peer sees EOF)."""
    handler.close_connection = True
    with contextlib.suppress(OSError):
        handler.connection.shutdown(socket.SHUT_RDWR)
