"""Reading ListFragments pages without botocore's costly timestamp parsing.

botocore turns every epoch timestamp into a local-time datetime through
dateutil's ``tzlocal``: three quarters of the time spent parsing a page of
1000 fragments, only for kvarchive to convert it back to UTC. A
``before-parse`` handler, registered on kvarchive's own data clients only,
decodes the page with ``json`` instead and hands the entries on with their
epoch numbers; botocore then parses an empty document.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["register_fast_pages"]

_EVENT = "before-parse.kinesis-video-archived-media.ListFragments"


def register_fast_pages(client: Any) -> None:
    """Make ``client`` (and no other) read ListFragments pages the fast way."""
    client.meta.events.register(_EVENT, _read_page, unique_id="kvarchive-fast-pages")


def _read_page(
    response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any
) -> None:
    if response_dict.get("status_code") != 200:
        return  # errors keep botocore's parsing, error codes and all
    try:
        page = json.loads(response_dict["body"])
    except (ValueError, TypeError):
        return
    if not isinstance(page, dict) or not isinstance(page.get("Fragments"), list):
        return  # not a page: botocore parses it, and kvarchive reports what is missing
    customized_response_dict["Fragments"] = page["Fragments"]
    if page.get("NextToken"):
        customized_response_dict["NextToken"] = page["NextToken"]
    response_dict["body"] = b"{}"
