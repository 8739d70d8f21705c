"""DynamoDBCheckpoint on moto's DynamoDB server: one item, conditional writes, one follower."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest

from kvarchive import (
    CheckpointConflictError,
    CheckpointError,
    DynamoDBCheckpoint,
    ServiceError,
)
from kvarchive.testing import Emulator

T0 = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
_tables = itertools.count(1)


@pytest.fixture
def dynamodb(moto_server_url: str) -> Any:
    """A DynamoDB client on moto's server."""
    return boto3.client("dynamodb", endpoint_url=moto_server_url, region_name="us-east-1")


def make_table(dynamodb: Any, key_attribute: str = "key") -> str:
    """A new table whose partition key is the string ``key_attribute``; its name."""
    name = f"kvarchive-checkpoints-{next(_tables)}"
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key_attribute, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": key_attribute, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def test_the_checkpoint_is_empty_until_saved_then_holds_the_state(dynamodb: Any) -> None:
    """load() is None on a new key, then gives back what save() wrote, in one item of the table."""
    table = make_table(dynamodb)
    checkpoint = DynamoDBCheckpoint(table, "cam", client=dynamodb)
    assert checkpoint.load() is None
    checkpoint.save('{"n": 1}')
    checkpoint.save('{"n": 2}')
    assert DynamoDBCheckpoint(table, "cam", client=dynamodb).load() == '{"n": 2}'
    items = dynamodb.scan(TableName=table)["Items"]
    assert [item["key"]["S"] for item in items] == ["cam"]


def test_a_second_follower_of_one_key_gets_a_conflict(dynamodb: Any) -> None:
    """Two checkpoints that loaded the same state: the second save is a CheckpointConflictError."""
    table = make_table(dynamodb)
    DynamoDBCheckpoint(table, "cam", client=dynamodb).save("start")
    first = DynamoDBCheckpoint(table, "cam", client=dynamodb)
    second = DynamoDBCheckpoint(table, "cam", client=dynamodb)
    assert first.load() == second.load() == "start"
    first.save("first")
    with pytest.raises(CheckpointConflictError, match="another follower"):
        second.save("second")
    assert first.load() == "first"


def test_the_first_write_loses_if_the_item_appeared_meanwhile(dynamodb: Any) -> None:
    """Two fresh checkpoints of one key: only the first save creates the item."""
    table = make_table(dynamodb)
    first = DynamoDBCheckpoint(table, "cam", client=dynamodb)
    second = DynamoDBCheckpoint(table, "cam", client=dynamodb)
    assert first.load() is None and second.load() is None
    first.save("first")
    with pytest.raises(CheckpointConflictError):
        second.save("second")


def test_the_key_attribute_is_the_tables_partition_key(dynamodb: Any) -> None:
    """key_attribute= names the partition key of a table whose key is not called "key"."""
    table = make_table(dynamodb, key_attribute="stream")
    DynamoDBCheckpoint(table, "cam", client=dynamodb, key_attribute="stream").save("x")
    item = dynamodb.get_item(TableName=table, Key={"stream": {"S": "cam"}})["Item"]
    assert item["state"]["S"] == "x"


def test_a_missing_table_is_a_checkpoint_error_with_the_code(dynamodb: Any) -> None:
    """A table that does not exist: CheckpointError whose cause keeps DynamoDB's code."""
    checkpoint = DynamoDBCheckpoint("kvarchive-no-such-table", "cam", client=dynamodb)
    with pytest.raises(CheckpointError) as caught:
        checkpoint.load()
    assert isinstance(caught.value.__cause__, ServiceError)
    assert caught.value.__cause__.code == "ResourceNotFoundException"


def test_follow_lends_its_session_and_the_dynamodb_endpoint_comes_from_the_environment(
    emulator: Emulator, dynamodb: Any, moto_server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a client, the follower's boto3 session reaches AWS_ENDPOINT_URL_DYNAMODB."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", moto_server_url)
    table = make_table(dynamodb)
    stream = emulator.add_stream("cam", fragment_count=3, start=T0)
    checkpoint = DynamoDBCheckpoint(table, "cam")
    with emulator.client() as kv:
        until = stream.fragments[-1].server_timestamp + timedelta(milliseconds=1)
        follower = kv.follow(
            stream_name="cam", start=T0, until=until, poll=0.05, settle=0.0, checkpoint=checkpoint
        )
        seen = list(follower)
    assert [f.number for f in seen] == [f.number for f in stream.fragments]
    state = dynamodb.get_item(TableName=table, Key={"key": {"S": "cam"}})["Item"]["state"]["S"]
    assert seen[-1].number in state


def test_repr_names_table_and_key_only() -> None:
    """The repr shows the table and key, nothing of the client."""
    assert repr(DynamoDBCheckpoint("t", "cam")) == "DynamoDBCheckpoint('t', 'cam')"
