"""kvarchive's fast ListFragments pages touch only its own clients and keep every value."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import boto3

from kvarchive import ArchivedMediaClient
from kvarchive.testing import Emulator

T0 = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)


def test_fast_pages_match_botocore(emulator: Emulator, kv: ArchivedMediaClient) -> None:
    """Every field of every fragment equals what botocore's own parsing gives."""
    emulator.add_stream(
        "cam", fragment_count=25, start=T0, payload_size=64, mixed_number_lengths=True
    )
    raw = boto3.client("kinesis-video-archived-media", endpoint_url=emulator.data_endpoint_url)
    selector = {
        "FragmentSelectorType": "SERVER_TIMESTAMP",
        "TimestampRange": {"StartTimestamp": T0, "EndTimestamp": T0 + timedelta(hours=1)},
    }
    try:
        items = raw.list_fragments(StreamName="cam", FragmentSelector=selector)["Fragments"]
    finally:
        raw.close()
    by_number = {
        f.number: f
        for f in kv.list_fragments(stream_name="cam", start=T0, end=T0 + timedelta(hours=1))
    }
    assert len(by_number) == len(items) == 25
    for item in items:
        fragment = by_number[item["FragmentNumber"]]
        assert fragment.server_timestamp == item["ServerTimestamp"]
        assert fragment.producer_timestamp == item["ProducerTimestamp"]
        assert fragment.size == item["FragmentSizeInBytes"]
        assert fragment.duration == timedelta(milliseconds=item["FragmentLengthInMilliseconds"])


def test_other_clients_of_the_session_are_untouched(emulator: Emulator) -> None:
    """A user's own client from the same session still gets botocore's datetimes."""
    emulator.add_stream("cam", fragment_count=3, start=T0, payload_size=64)
    session = boto3.Session()
    with ArchivedMediaClient(session=session, endpoint_url=emulator.endpoint_url) as kv:
        list(kv.list_fragments(stream_name="cam", start=T0, end=T0 + timedelta(hours=1)))
        own = session.client(
            "kinesis-video-archived-media", endpoint_url=emulator.data_endpoint_url
        )
        try:
            page = own.list_fragments(
                StreamName="cam",
                FragmentSelector={
                    "FragmentSelectorType": "SERVER_TIMESTAMP",
                    "TimestampRange": {
                        "StartTimestamp": T0,
                        "EndTimestamp": T0 + timedelta(hours=1),
                    },
                },
            )
        finally:
            own.close()
    assert isinstance(page["Fragments"][0]["ServerTimestamp"], datetime)
