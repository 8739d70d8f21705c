"""An AWS Lambda for Amazon Connect: at a contact's end, write the call's audio as one WAV.

Invoke it from the contact flow that runs when the call ends (an "Invoke AWS
Lambda function" block in the disconnect flow, after "Start media
streaming"). Connect sends the contact's data; its media-streaming attributes
(``Details.ContactData.MediaStreams.Customer.Audio``) carry the stream ARN,
``StartFragmentNumber``, ``StartTimestamp`` and ``StopTimestamp`` (epoch
milliseconds, the producer's clock). The handler writes, from that range, a
WAV with the customer on the left channel (``AUDIO_FROM_CUSTOMER``) and the
agent on the right (``AUDIO_TO_CUSTOMER``), named after the contact, and
returns flat string attributes, as a flow block expects. The block's
parameters ``AudioFromCustomer`` / ``AudioToCustomer`` set to ``false`` leave
that side out.

Environment:
    CALLS_DIR              where the WAV files go (default /tmp; an s3://bucket/prefix
                           once kvarchive writes to S3)
    KVARCHIVE_ENDPOINT_URL the Kinesis Video endpoint (tests point it at kvarchive.testing)

With no AWS account, on the emulator's call in Connect's layout (dummy keys),
an invocation from the shell with the event Connect would send:

    kvarchive emulator --stream call=call:6   # in another shell: paste here the lines it prints
    export CALLS_DIR=$PWD/calls
    cd examples && python -c "import lambda_connect as c; \\
        print(c.handler(c.contact_event('call')))"
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3

from kvarchive import ArchivedMediaClient

KV = ArchivedMediaClient(endpoint_url=os.environ.get("KVARCHIVE_ENDPOINT_URL"))
TRACKS = {"AudioFromCustomer": "AUDIO_FROM_CUSTOMER", "AudioToCustomer": "AUDIO_TO_CUSTOMER"}


def handler(event: dict[str, Any], context: Any = None) -> dict[str, str]:
    """Write the ended contact's call as ``CALLS_DIR/<ContactId>.wav``; return what was written."""
    contact = event["Details"]["ContactData"]
    audio = contact["MediaStreams"]["Customer"]["Audio"]
    if not audio:
        return {"written": "false", "reason": "media streaming never started for this contact"}
    parameters = event["Details"].get("Parameters") or {}
    tracks = [
        track for key, track in TRACKS.items() if parameters.get(key, "true").lower() != "false"
    ]
    stop = audio.get("StopTimestamp")  # absent while the call goes on: up to now
    folder = os.environ.get("CALLS_DIR", "/tmp").rstrip("/")
    result = KV.download_audio(
        stream_arn=audio["StreamARN"],
        start=_instant(audio["StartTimestamp"]),
        end=_instant(stop) if stop else datetime.now(timezone.utc),
        path=f"{folder}/{contact['ContactId']}.wav",
        tracks=tracks,
        timestamp_type="PRODUCER_TIMESTAMP",  # Connect's timestamps are the producer's
    )
    return {
        "written": "true",
        "path": os.fspath(result.path),
        "tracks": ",".join(map(str, result.tracks)),
        "seconds": f"{result.duration.total_seconds():.3f}",
    }


def _instant(epoch_ms: str) -> datetime:
    """A Connect timestamp (epoch milliseconds, as a string) as an aware UTC datetime."""
    return datetime.fromtimestamp(int(epoch_ms) / 1000, timezone.utc)


def contact_event(stream_name: str, contact_id: str = "example-contact") -> dict[str, Any]:
    """The event Connect's disconnect flow sends for a call streamed to ``stream_name``
    (its first and last fragments of the last day), to try the handler on a stream of yours."""
    arn = boto3.client("kinesisvideo").describe_stream(StreamName=stream_name)
    now = datetime.now(timezone.utc)
    fragments = list(
        KV.list_fragments(
            stream_name=stream_name,
            start=now - timedelta(days=1),
            end=now,
            timestamp_type="PRODUCER_TIMESTAMP",
        )
    )
    first, last = fragments[0], fragments[-1]
    end = last.producer_timestamp + last.duration
    media = {
        "StreamARN": arn["StreamInfo"]["StreamARN"],
        "StartFragmentNumber": first.number,
        "StartTimestamp": str(int(first.producer_timestamp.timestamp() * 1000)),
        "StopFragmentNumber": last.number,
        "StopTimestamp": str(int(end.timestamp() * 1000)),
    }
    contact = {"ContactId": contact_id, "Channel": "VOICE", "Attributes": {}}
    contact["MediaStreams"] = {"Customer": {"Audio": media}}
    return {"Details": {"ContactData": contact, "Parameters": {}}, "Name": "ContactFlowEvent"}
