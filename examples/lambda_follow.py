"""A scheduled AWS Lambda that handles whatever a camera recorded since its last run.

Schedule it every minute (EventBridge). Each invocation follows the stream
from where the previous one stopped, as kept in one S3 object (or one
DynamoDB item, when CHECKPOINT_TABLE is set), handles every
new fragment once, and returns before its deadline with a summary; what
arrives later is the next invocation's. A run killed mid-fragment (timeout,
crash) leaves that fragment to the next run, which handles it again: at least
once per fragment, exactly once per completed step. If handle_fragment
raises, the invocation fails and that fragment is not counted as handled. A
second copy running at once stops with CheckpointConflictError instead of
handling fragments twice.

Environment:
    STREAM_NAME            the stream to follow
    CHECKPOINT_BUCKET      where the checkpoint lives (s3:GetObject and s3:PutObject on it)
    CHECKPOINT_KEY         its key (default: follow/STREAM_NAME.json)
    CHECKPOINT_TABLE       instead of S3: a DynamoDB table whose partition key is the string
                           "key" (dynamodb:GetItem and dynamodb:PutItem on it); the item's
                           key is STREAM_NAME
    SETTLE, POLL, MARGIN   seconds (default 5, 2 and 5): wait for late fragments, poll
                           interval, time kept back to finish the last fragment and return
    KVARCHIVE_ENDPOINT_URL the Kinesis Video endpoint (tests point it at kvarchive.testing;
                           AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL_DYNAMODB do the same
                           for S3 and DynamoDB)

With no AWS account: the emulator for Kinesis Video, moto's server for S3
(`pip install "moto[server]"`), dummy keys. A first run starts at its own "now",
so on the emulator's stream, which does not grow, it handles nothing; one
invocation from the shell:

    kvarchive emulator --stream demo=sample   # in another shell: paste here the lines it prints
    moto_server -p 5000                       # in a third shell: S3 on 127.0.0.1:5000
    export AWS_ENDPOINT_URL_S3=http://127.0.0.1:5000 STREAM_NAME=demo CHECKPOINT_BUCKET=follow
    export SETTLE=1 POLL=0.5 MARGIN=1
    python -c "import boto3; boto3.client('s3', region_name='us-east-1') \\
        .create_bucket(Bucket='follow')"
    cd examples && python -c "import lambda_follow as f, types; print(f.handler({}, \\
        types.SimpleNamespace(get_remaining_time_in_millis=lambda: 5000)))"
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

import boto3

from kvarchive import (
    ArchivedMediaClient,
    Checkpoint,
    DynamoDBCheckpoint,
    MediaFragment,
    S3Checkpoint,
)

LOG = logging.getLogger("lambda_follow")
LOG.setLevel(logging.INFO)

# Made once per container and reused by every invocation: endpoints and connections stay warm.
KV = ArchivedMediaClient(endpoint_url=os.environ.get("KVARCHIVE_ENDPOINT_URL"))
S3 = boto3.client("s3")


def handle_fragment(fragment: MediaFragment) -> None:
    """Your work on one fragment (its complete MKV bytes are ``fragment.data``)."""
    LOG.info(
        "fragment %s at %s: %d bytes",
        fragment.number,
        fragment.server_timestamp,
        len(fragment.data),
    )


def checkpoint_of(stream: str) -> Checkpoint:
    """Where the follower's position is kept: a DynamoDB item, or an S3 object."""
    table = os.environ.get("CHECKPOINT_TABLE")
    if table:
        # Its client comes from KV's boto3 session, made once per container.
        return DynamoDBCheckpoint(table, stream)
    key = os.environ.get("CHECKPOINT_KEY", f"follow/{stream}.json")
    return S3Checkpoint(os.environ["CHECKPOINT_BUCKET"], key, client=S3)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Handle the new fragments until shortly before the deadline; return what was done."""
    stream = os.environ["STREAM_NAME"]
    settle = float(os.environ.get("SETTLE", "5"))
    poll = float(os.environ.get("POLL", "2"))
    margin = float(os.environ.get("MARGIN", "5"))
    checkpoint = checkpoint_of(stream)
    # follow() ends within settle and two polls after until: keep those, and the margin, in hand.
    left = context.get_remaining_time_in_millis() / 1000 - settle - 2 * poll - margin
    until = datetime.now(timezone.utc) + timedelta(seconds=max(left, 0.0))
    # What was handled, for the summary (never the media itself). A fragment from the
    # service always has its number and timestamps; MediaFragment allows None for local files.
    numbers: list[Optional[str]] = []
    size = 0
    with KV.follow_media(
        stream_name=stream, checkpoint=checkpoint, poll=poll, settle=settle, until=until
    ) as fragments:
        for fragment in fragments:
            handle_fragment(fragment)
            numbers.append(fragment.number)
            size += len(fragment.data)
    return {
        "stream": stream,
        "until": until.isoformat(),
        "fragments": len(numbers),
        "bytes": size,
        "numbers": numbers,
    }
