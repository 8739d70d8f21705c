"""AWS Lambda handlers for API Gateway: an HLS URL, and the fragments of a range.

The client is created once per container, at import, and reused by every
invocation: its cached data endpoints and connections survive between calls.
Set KVARCHIVE_ENDPOINT_URL to point it at kvarchive.testing in tests.

    GET /hls?stream=cam                      -> {"url": "https://...m3u8?SessionToken=..."}
    GET /fragments?stream=cam&minutes=5      -> {"fragments": [{"number": ..., ...}, ...]}

With no AWS account, on the emulator (dummy keys), an invocation from the shell:

    kvarchive emulator --stream demo=sample   # in another shell: paste here the lines it prints
    cd examples && python -c "import lambda_handler as h; \\
        print(h.hls_url({'queryStringParameters': {'stream': 'demo'}}))"
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from typing import Any

from kvarchive import ArchivedMediaClient, KVArchiveError, ServiceError, ValidationError

KV = ArchivedMediaClient(endpoint_url=os.environ.get("KVARCHIVE_ENDPOINT_URL"))


def hls_url(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Return a live (or, with ?start=&end=, on-demand) HLS URL for ?stream=NAME."""
    params = event.get("queryStringParameters") or {}

    def call() -> dict[str, Any]:
        start, end = params.get("start"), params.get("end")
        mode = "ON_DEMAND" if start and end else "LIVE_REPLAY" if start else "LIVE"
        url = KV.get_hls_streaming_session_url(
            stream_name=params.get("stream"),
            playback_mode=mode,
            start=start,
            end=end,
            expires=int(params.get("expires", 3600)),
        )
        return {"url": url}

    return _respond(call)


def list_fragments(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Return the fragments of the last ?minutes=N (default 5) of ?stream=NAME."""
    params = event.get("queryStringParameters") or {}

    def call() -> dict[str, Any]:
        end = datetime.now(timezone.utc)
        start = end - timedelta(minutes=float(params.get("minutes", 5)))
        pager = KV.list_fragments(stream_name=params.get("stream"), start=start, end=end)
        return {
            "fragments": [
                {
                    "number": f.number,
                    "server_timestamp": f.server_timestamp.isoformat(),
                    "producer_timestamp": f.producer_timestamp.isoformat(),
                    "duration_ms": f.duration // timedelta(milliseconds=1),
                    "size": f.size,
                }
                for f in pager
            ]
        }

    return _respond(call)


def _respond(call: Any) -> dict[str, Any]:
    """Run the call and shape an API Gateway proxy response, errors included."""
    try:
        return _json(200, call())
    except (ValidationError, ValueError) as exc:
        return _json(400, {"error": str(exc)})
    except ServiceError as exc:
        status = 404 if exc.code == "ResourceNotFoundException" else 502
        return _json(
            status, {"error": exc.code, "message": exc.message, "request_id": exc.request_id}
        )
    except KVArchiveError as exc:
        return _json(502, {"error": str(exc)})


def _json(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
    }
