"""An AWS Lambda for Amazon Connect: at a contact's end, the call's audio as one WAV in S3.

Invoke it from the contact flow that runs when the call ends (an "Invoke AWS
Lambda function" block in the disconnect flow, after "Start media
streaming"). Connect sends the contact's data; its media-streaming attributes
(``Details.ContactData.MediaStreams.Customer.Audio``) carry the stream ARN,
``StartFragmentNumber``, ``StartTimestamp`` and ``StopTimestamp`` (epoch
milliseconds, the producer's clock). The handler writes, from that range, a
WAV with the customer on the left channel (``AUDIO_FROM_CUSTOMER``) and the
agent on the right (``AUDIO_TO_CUSTOMER``), named after the contact, uploaded
to S3 while it is fetched (nothing on Lambda's small /tmp), and returns flat
string attributes, as a flow block expects, with a presigned link (``url``)
to the WAV for whoever handles the call next. The block's parameters
``AudioFromCustomer`` / ``AudioToCustomer`` set to ``false`` leave that side
out.

Environment:
    CALLS_DIR              where the WAV files go: s3://bucket/prefix (s3:PutObject and
                           s3:GetObject on it), or a local folder (default /tmp; no link)
    PRESIGN_SECONDS        how long the link works (default 3600; at most 7 days)
    KVARCHIVE_ENDPOINT_URL the Kinesis Video endpoint (tests point it at kvarchive.testing;
                           AWS_ENDPOINT_URL_S3 does the same for S3)

With no AWS account: the emulator's call in Connect's layout, moto's server for
S3 (`pip install "moto[server]"`), dummy keys; an invocation from the shell with
the event Connect would send, then its link fetched as anyone would (to ~/call.wav):

    kvarchive emulator --stream call=call:6   # in another shell: paste here the lines it prints
    moto_server -p 5000                       # in a third shell: S3 on 127.0.0.1:5000
    export AWS_ENDPOINT_URL_S3=http://127.0.0.1:5000 CALLS_DIR=s3://calls/connect
    python -c "import boto3; boto3.client('s3', region_name='us-east-1') \\
        .create_bucket(Bucket='calls')"
    cd examples && python -c "import lambda_connect as c, os, urllib.request as u; \\
        a = c.handler(c.contact_event('call')); print(a); \\
        u.urlretrieve(a['url'], os.path.expanduser('~/call.wav'))"   # the link, fetched
"""

from __future__ import annotations

import os
import posixpath
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3

from kvarchive import ArchivedMediaClient

KV = ArchivedMediaClient(endpoint_url=os.environ.get("KVARCHIVE_ENDPOINT_URL"))
TRACKS = {"AudioFromCustomer": "AUDIO_FROM_CUSTOMER", "AudioToCustomer": "AUDIO_TO_CUSTOMER"}


def handler(event: dict[str, Any], context: Any = None) -> dict[str, str]:
    """Write the ended contact's call as ``CALLS_DIR/<ContactId>.wav``; return what was written
    and, in S3, a presigned link to it."""
    contact = event["Details"]["ContactData"]
    audio = contact["MediaStreams"]["Customer"]["Audio"]
    if not audio:
        return {"written": "false", "reason": "media streaming never started for this contact"}
    parameters = event["Details"].get("Parameters") or {}
    tracks = [
        track for key, track in TRACKS.items() if parameters.get(key, "true").lower() != "false"
    ]
    stop = audio.get("StopTimestamp")  # absent while the call goes on: up to now
    folder = os.environ.get("CALLS_DIR", "/tmp")
    result = KV.download_audio(
        stream_arn=audio["StreamARN"],
        start=_instant(audio["StartTimestamp"]),
        end=_instant(stop) if stop else datetime.now(timezone.utc),
        # "/" joins both an S3 prefix and a Lambda (Linux) folder: posixpath, not os.path
        path=posixpath.join(folder, f"{contact['ContactId']}.wav"),
        tracks=tracks,
        timestamp_type="PRODUCER_TIMESTAMP",  # Connect's timestamps are the producer's
    )
    answer = {
        "written": "true",
        "path": os.fspath(result.path),
        "tracks": ",".join(map(str, result.tracks)),
        "seconds": f"{result.duration.total_seconds():.3f}",
    }
    if answer["path"].startswith("s3://"):
        answer["url"] = result.presigned_url(float(os.environ.get("PRESIGN_SECONDS", "3600")))
    return answer


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
