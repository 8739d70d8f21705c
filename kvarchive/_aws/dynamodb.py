"""One DynamoDB item holding a text, written with conditional writes (DynamoDBCheckpoint's store).

The item is ``{key_attribute: key, "state": text, "version": n}``; each write
asks DynamoDB to check the version it last saw (or that there is no item
yet), so of two writers only one can advance it. Each call runs inside the
error seam, so DynamoDB's refusals keep their code and request id.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from kvarchive._aws.translate import translated
from kvarchive._errors import ServiceError

__all__ = ["DynamoDBItem", "default_dynamodb", "lost"]

CONDITION_FAILED = "ConditionalCheckFailedException"


def default_dynamodb() -> Any:
    """A DynamoDB client of boto3's default session (``AWS_ENDPOINT_URL_DYNAMODB`` honoured)."""
    import boto3

    return boto3.client("dynamodb")


class DynamoDBItem:
    """The item ``key`` of ``table`` under the partition key ``key_attribute``."""

    def __init__(self, table: str, key: str, key_attribute: str, client: Callable[[], Any]) -> None:
        self.table = table
        self._key = {key_attribute: {"S": key}}
        self._key_attribute = key_attribute
        self._client = client

    def get(self) -> Optional[tuple[str, int]]:
        """The item's text and version (a strongly consistent GetItem), or None if there is none."""
        with translated("GetItem"):
            answer = self._client().get_item(
                TableName=self.table, Key=self._key, ConsistentRead=True
            )
        item = answer.get("Item")
        if item is None:
            return None
        return item["state"]["S"], int(item["version"]["N"])

    def put(self, text: str, seen: Optional[int]) -> int:
        """Write ``text`` if the item is still at version ``seen`` (None: absent); the new version.

        A write that lost raises the ServiceError ``ConditionalCheckFailedException``.
        """
        version = 1 if seen is None else seen + 1
        request: dict[str, Any] = {
            "TableName": self.table,
            "Item": {**self._key, "state": {"S": text}, "version": {"N": str(version)}},
            "ExpressionAttributeNames": {"#k": self._key_attribute},
        }
        # "version" is one of DynamoDB's reserved words: it is named through #v.
        if seen is None:
            request["ConditionExpression"] = "attribute_not_exists(#k)"
        else:
            request["ConditionExpression"] = "attribute_exists(#k) AND #v = :seen"
            request["ExpressionAttributeNames"]["#v"] = "version"
            request["ExpressionAttributeValues"] = {":seen": {"N": str(seen)}}
        with translated("PutItem"):
            self._client().put_item(**request)
        return version


def lost(error: ServiceError) -> bool:
    """True when a conditional write failed because the item changed since it was read."""
    return error.code == CONDITION_FAILED
