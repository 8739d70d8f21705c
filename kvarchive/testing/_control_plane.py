"""DescribeStream and ListStreams of the emulated control plane, shaped as botocore's model.

``StreamInfo`` has the model's nine members. ListStreams pages through the
streams in name order (``MaxResults`` 1..10000, default 10000) and filters by
``StreamNameCondition`` (``BEGINS_WITH`` only, as the model's enum says); its
NextToken belongs to the condition it was issued with.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kvarchive._service import STREAM_NAME
from kvarchive.testing._checks import (
    decode_token,
    encode_token,
    enum_param,
    epoch_seconds,
    int_param,
    invalid,
    struct_param,
)
from kvarchive.testing._streams import EmulatedStream

__all__ = ["list_streams", "stream_info"]

_LIST_STREAMS_MAX = 10_000
_DEVICE_NAME = "kvarchive-emulator"


def stream_info(stream: EmulatedStream, region: str, account_id: str) -> dict[str, Any]:
    """The ``StreamInfo`` of ``stream``: what DescribeStream and ListStreams answer."""
    described = stream.description
    default_key = f"arn:aws:kms:{region}:{account_id}:alias/aws/kinesisvideo"
    return {
        "DeviceName": _DEVICE_NAME,
        "StreamName": stream.name,
        "StreamARN": described.arn,
        "MediaType": described.media_type,
        "KmsKeyId": described.kms_key_id or default_key,
        "Version": "1",
        "Status": "ACTIVE",
        "CreationTime": epoch_seconds(described.creation_ms),
        "DataRetentionInHours": described.retention_hours,
    }


def list_streams(
    streams: Sequence[EmulatedStream], params: dict[str, Any], region: str, account_id: str
) -> dict[str, Any]:
    """The ListStreams answer for ``params`` over ``streams``."""
    limit = int_param(params, "MaxResults", 1, _LIST_STREAMS_MAX) or _LIST_STREAMS_MAX
    condition = struct_param(params, "StreamNameCondition")
    prefix = ""
    if condition:
        enum_param(condition, "ComparisonOperator", ("BEGINS_WITH",), "")
        value = condition.get("ComparisonValue")
        if not isinstance(value, str) or not STREAM_NAME.fullmatch(value):
            raise invalid("StreamNameCondition.ComparisonValue must be a stream name")
        prefix = value
    offset = 0
    if params.get("NextToken") is not None:
        state = decode_token(params["NextToken"])
        if state.get("p") != prefix:
            raise invalid("NextToken was issued for another StreamNameCondition")
        offset = int(state.get("o", 0))
    chosen = sorted((s for s in streams if s.name.startswith(prefix)), key=lambda s: s.name)
    body: dict[str, Any] = {
        "StreamInfoList": [
            stream_info(s, region, account_id) for s in chosen[offset : offset + limit]
        ]
    }
    if offset + limit < len(chosen):
        body["NextToken"] = encode_token({"p": prefix, "o": offset + limit})
    return body
