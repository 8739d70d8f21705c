"""Types several layers share, in one place so that no layer imports a higher one for a type."""

from __future__ import annotations

from datetime import datetime
from typing import Optional, Protocol, Union

__all__ = ["Body", "StreamRef", "TimeLike"]


class Body(Protocol):
    """What a MediaStream reads from: botocore's ``StreamingBody``, a file, or the like."""

    def read(self, amt: Optional[int] = None) -> bytes: ...

    def close(self) -> None: ...


StreamRef = tuple[str, str]
"""``("StreamName", name)`` or ``("StreamARN", arn)``: the request field and its value."""

TimeLike = Union[datetime, str, int, float]
"""What every ``start=`` / ``end=`` accepts: datetime (naive is UTC), ISO 8601, epoch seconds."""
