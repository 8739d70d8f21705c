"""A fast double of the data plane for figures 3-4: it serves one prebuilt media body.

The emulator builds each answer in Python and runs near one core, so in the main
rows of figures 3-4 it, not the reader, sets the wall-clock rate. This double
answers GetDataEndpoint with itself and every GetMediaForFragmentList with the
same body file, chunked as the service does, sent by the kernel (``sendfile``):
the reading process's CPU then sets the rate, as it would against a fast double
in an independent harness.

Run ``python static_server.py BODY_FILE``: it prints ``{"url": ...}`` and
serves until its standard input closes.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
from typing import BinaryIO


def _read_request(stream: BinaryIO) -> str:
    """The path of the next request (its headers and body read), or "" at the end."""
    line = stream.readline()
    if not line:
        return ""
    path = line.split()[1].decode()
    length = 0
    while (header := stream.readline()) not in (b"\r\n", b""):
        name, _, value = header.decode().partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    stream.read(length)
    return path


def _serve(conn: socket.socket, body_path: str, url: str) -> None:
    """Answer one keep-alive connection's requests until the client closes it."""
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    size = os.path.getsize(body_path)
    with conn, conn.makefile("rb") as requests, open(body_path, "rb") as body:
        while path := _read_request(requests):
            if path.endswith("/getDataEndpoint"):
                answer = json.dumps({"DataEndpoint": url}).encode()
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"x-amzn-RequestId: static\r\nContent-Length: %d\r\n\r\n%s"
                    % (len(answer), answer)
                )
            elif path.endswith("/getMediaForFragmentList"):
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: video/webm\r\n"
                    b"x-amzn-RequestId: static\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n" % size
                )
                offset = 0
                while offset < size:
                    offset += os.sendfile(conn.fileno(), body.fileno(), offset, size - offset)
                conn.sendall(b"\r\n0\r\n\r\n")
            else:
                conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")


def main() -> None:
    body_path = sys.argv[1]
    listener = socket.create_server(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"

    def accept() -> None:
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=_serve, args=(conn, body_path, url), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    print(json.dumps({"url": url}), flush=True)
    sys.stdin.read()  # until the bench closes our standard input


if __name__ == "__main__":
    main()
