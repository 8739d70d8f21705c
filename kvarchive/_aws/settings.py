"""What a client is made of, as one frozen value: all that travels when it is pickled.

A worker (another process, another machine) rebuilds the client from these
settings and its own credential chain. They hold no credentials, tokens or
endpoints resolved at run time: those belong to the machine that uses them.
"""

from __future__ import annotations

from typing import Any, Optional

import attrs

from kvarchive._aws.throttle import Backoff

__all__ = ["ClientSettings"]


@attrs.frozen
class ClientSettings:
    """An ``ArchivedMediaClient``'s configuration, without credentials.

    ``profile_name`` is the named AWS profile of the session it was made
    from, if any; ``pickle_without_keys`` lets a client made from a session
    with keys set in code be pickled all the same (the keys stay behind).
    """

    region_name: Optional[str] = None
    profile_name: Optional[str] = None
    endpoint_url: Optional[str] = None
    config: Any = attrs.field(default=None, repr=False)  # a botocore.config.Config
    endpoint_ttl: float = 300.0
    backoff: Backoff = attrs.field(factory=Backoff)
    rate_limit: bool = True
    pickle_without_keys: bool = False
