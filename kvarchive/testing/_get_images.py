"""GetImages of the emulator: the sampling grid, the pages and what each instant shows.

It samples ``StartTimestamp + k * SamplingInterval`` up to ``EndTimestamp``,
both included (the API reference calls the range inclusive); without
``SamplingInterval`` it samples every 3000 ms. An instant gets the image of the
fragment covering it, if that fragment *starts* within [Start, End]; otherwise
``NO_MEDIA``, as the service does for an instant in a fragment that began
before ``StartTimestamp`` (boto/boto3#3712). An empty range (End not after
Start) is refused: the service documents no answer for it. ``WidthPixels`` and
``HeightPixels`` go together or not at all, and a NextToken belongs to the
parameters it was issued for (the sampling grid among them), as on the service.
"""

from __future__ import annotations

import base64
from typing import Any

from kvarchive import _service as service
from kvarchive.testing._checks import (
    decode_token,
    encode_token,
    enum_param,
    epoch_seconds,
    int_param,
    invalid,
    request_key,
    struct_param,
    time_us,
)
from kvarchive.testing._images import image_size
from kvarchive.testing._streams import EmulatedStream

__all__ = ["get_images"]

_IMAGES_PAGE = 25
# The parameters a NextToken is issued for (all but the page's own).
_IMAGES_REQUEST = (
    "ImageSelectorType",
    "StartTimestamp",
    "EndTimestamp",
    "SamplingInterval",
    "Format",
    "FormatConfig",
    "WidthPixels",
    "HeightPixels",
)


def get_images(stream: EmulatedStream, params: dict[str, Any]) -> dict[str, Any]:
    """The GetImages answer for ``params`` on ``stream`` (which keeps an archive)."""
    for required in ("ImageSelectorType", "StartTimestamp", "EndTimestamp", "Format"):
        if required not in params:
            raise invalid(f"{required} is required")
    kind = enum_param(params, "ImageSelectorType", service.TIMESTAMP_TYPES, "")
    fmt = enum_param(params, "Format", service.IMAGE_FORMATS, "")
    start = time_us(params["StartTimestamp"], "StartTimestamp")
    end = time_us(params["EndTimestamp"], "EndTimestamp")
    if end <= start:
        raise invalid("EndTimestamp must be after StartTimestamp")
    if end - start > service.IMAGES_MAX_SPAN_MS * 1000:
        raise invalid("The time range of GetImages must be at most 300 seconds")
    interval_ms = (
        int_param(params, "SamplingInterval", service.IMAGES_MIN_INTERVAL_MS, None) or 3000
    )
    quality = 80
    config = struct_param(params, "FormatConfig")
    if "FormatConfig" in params and not config:
        raise invalid("FormatConfig must hold 1 entry")
    for key, value in config.items():
        if key != "JPEGQuality":
            raise invalid(f"FormatConfig key {key!r} is not supported")
        if not isinstance(value, str) or not value.isdigit() or not 1 <= int(value) <= 100:
            raise invalid("JPEGQuality must be 1..100")
        quality = int(value)
    width = int_param(params, "WidthPixels", 1, service.IMAGE_MAX_WIDTH)
    height = int_param(params, "HeightPixels", 1, service.IMAGE_MAX_HEIGHT)
    if (width is None) != (height is None):
        raise invalid("Height and width for the images need to be provided or none.")
    size = image_size(stream.image_size, width, height)
    page_size = min(
        int_param(params, "MaxResults", 1, service.IMAGES_MAX_RESULTS) or _IMAGES_PAGE,
        _IMAGES_PAGE,
    )
    offset = 0
    key = request_key(params, *_IMAGES_REQUEST)
    if params.get("NextToken") is not None:
        state = decode_token(params["NextToken"])
        if (state.get("s"), state.get("k")) != (stream.name, key):
            raise invalid("NextToken was issued for other parameters")
        offset = int(state.get("o", 0))
    interval_us = interval_ms * 1000
    total = (end - start) // interval_us + 1
    images = []
    for index in range(offset, min(total, offset + page_size)):
        at = start + index * interval_us
        image: dict[str, Any] = {"TimeStamp": epoch_seconds(at // 1000)}
        fragment = stream.covering(kind, at)
        if fragment is None or fragment.timestamp_ms(kind) * 1000 < start:
            image["Error"] = "NO_MEDIA"
        else:
            data = stream.image(fragment, fmt, size, quality)
            image["ImageContent"] = base64.b64encode(data).decode()
        images.append(image)
    body: dict[str, Any] = {"Images": images}
    if offset + page_size < total:
        body["NextToken"] = encode_token({"s": stream.name, "k": key, "o": offset + page_size})
    return body
