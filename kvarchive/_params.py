"""The operations' arguments, checked, as the request parameters boto3 sends.

Each function checks what the service would refuse (a ValidationError before
any request; the single checks are in ``_validate``, the service's values in
``_service``) and builds the parameters of one operation, or of a part
several share, so that the facade (``_client``) reads as the list of
operations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Optional, Union

from ._errors import ValidationError
from ._image_plan import SamplingGrid, to_ms
from ._service import (
    ALWAYS_NEVER,
    CONTAINER_FORMATS,
    DISCONTINUITY_MODES,
    EXPIRES_RANGE,
    IMAGE_FORMATS,
    IMAGE_MAX_HEIGHT,
    IMAGE_MAX_WIDTH,
    IMAGES_MAX_RESULTS,
    IMAGES_MIN_INTERVAL_MS,
    MAX_SPAN,
    PLAYBACK_MODES,
    SESSION_MAX_RESULTS,
    TIMESTAMP_TYPES,
)
from ._times import parse_time
from ._types import TimeLike
from ._validate import check_choice, check_fragment_number, check_int, check_range, milliseconds

__all__ = [
    "check_timestamp_type",
    "fragment_numbers",
    "fragment_selector",
    "image_grid",
    "image_params",
    "session_params",
]


def check_timestamp_type(value: Any) -> str:
    """``timestamp_type=``: SERVER_TIMESTAMP or PRODUCER_TIMESTAMP."""
    return check_choice(value, "timestamp_type", TIMESTAMP_TYPES)


def fragment_selector(selector_type: str, first: datetime, last: datetime) -> dict[str, Any]:
    """A FragmentSelector (ListFragments) or ClipFragmentSelector (GetClip) of ``[first, last]``."""
    return {
        "FragmentSelectorType": selector_type,
        "TimestampRange": {"StartTimestamp": first, "EndTimestamp": last},
    }


def fragment_numbers(fragments: Iterable[Any]) -> list[str]:
    """The fragment numbers of ``fragments`` (numbers or Fragments): at least one."""
    if isinstance(fragments, (str, bytes)):
        raise ValidationError("fragments must be a list of fragment numbers, not one string")
    numbers = [check_fragment_number(f) for f in fragments]
    if not numbers:
        raise ValidationError("fragments must name at least one fragment")
    return numbers


def image_grid(
    start: TimeLike, end: TimeLike, sampling_interval: Union[int, timedelta]
) -> SamplingGrid:
    """The sampling instants of GetImages: ``start + k * interval`` up to ``end``, in ms."""
    first, last = (_whole_ms(t) for t in check_range(start, end))
    if last <= first:
        raise ValidationError(
            "end must be after start (by 1 ms at least): GetImages has no empty ranges"
        )
    interval = milliseconds(sampling_interval, "sampling_interval", IMAGES_MIN_INTERVAL_MS)
    return SamplingGrid(to_ms(first), to_ms(last), interval)


def image_params(
    selector_type: str,
    *,
    format: str,
    page_size: int,
    width: Optional[int],
    height: Optional[int],
    jpeg_quality: Optional[int],
) -> dict[str, Any]:
    """The parameters every GetImages request of a range shares (all but its times)."""
    params: dict[str, Any] = {
        "ImageSelectorType": selector_type,
        "Format": check_choice(format, "format", IMAGE_FORMATS),
        "MaxResults": check_int(page_size, "page_size", 1, IMAGES_MAX_RESULTS),
    }
    if (width is None) != (height is None):
        # The service refuses one alone: "Height and width for the images need to be
        # provided or none." (boto/boto3#3900).
        raise ValidationError("width and height go together: give both or neither")
    if width is not None:
        params["WidthPixels"] = check_int(width, "width", 1, IMAGE_MAX_WIDTH)
    if height is not None:
        params["HeightPixels"] = check_int(height, "height", 1, IMAGE_MAX_HEIGHT)
    if jpeg_quality is not None:
        if params["Format"] != "JPEG":
            raise ValidationError("jpeg_quality applies only to format='JPEG'")
        quality = check_int(jpeg_quality, "jpeg_quality", 1, 100)
        params["FormatConfig"] = {"JPEGQuality": str(quality)}
    return params


def _whole_ms(value: datetime) -> datetime:
    """``value`` cut to the millisecond, as botocore sends it."""
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


_RESULT_LIMITS = {
    "HLS": ("MaxMediaPlaylistFragmentResults", "max_media_playlist_fragment_results"),
    "DASH": ("MaxManifestFragmentResults", "max_manifest_fragment_results"),
}


def session_params(
    kind: str,
    *,
    playback_mode: str,
    start: Optional[TimeLike],
    end: Optional[TimeLike],
    timestamp_type: str,
    display_fragment_timestamp: str,
    expires: int,
    max_results: Optional[int],
    container_format: str = "",
    discontinuity_mode: str = "",
    display_fragment_number: str = "",
) -> dict[str, Any]:
    """Get{kind}StreamingSessionURL's parameters (without the stream), ``kind`` HLS or DASH.

    ``container_format`` and ``discontinuity_mode`` are HLS's own,
    ``display_fragment_number`` DASH's; ``max_results`` is the fragment limit
    of the playlist (HLS) or manifest (DASH).
    """
    params = _shared_session_params(
        kind,
        playback_mode=playback_mode,
        start=start,
        end=end,
        timestamp_type=timestamp_type,
        expires=expires,
        display_fragment_timestamp=display_fragment_timestamp,
    )
    if kind == "HLS":
        params["ContainerFormat"] = check_choice(
            container_format, "container_format", CONTAINER_FORMATS
        )
        params["DiscontinuityMode"] = check_choice(
            discontinuity_mode, "discontinuity_mode", DISCONTINUITY_MODES
        )
    else:
        params["DisplayFragmentNumber"] = check_choice(
            display_fragment_number, "display_fragment_number", ALWAYS_NEVER
        )
    if max_results is not None:
        key, name = _RESULT_LIMITS[kind]
        params[key] = check_int(max_results, name, 1, SESSION_MAX_RESULTS)
    return params


def _shared_session_params(
    kind: str,
    *,
    playback_mode: str,
    start: Optional[TimeLike],
    end: Optional[TimeLike],
    timestamp_type: str,
    expires: int,
    display_fragment_timestamp: str,
) -> dict[str, Any]:
    """Checked parameters shared by the HLS and DASH session calls."""
    mode = check_choice(playback_mode, "playback_mode", PLAYBACK_MODES)
    params: dict[str, Any] = {
        "PlaybackMode": mode,
        "Expires": check_int(expires, "expires", *EXPIRES_RANGE),
        "DisplayFragmentTimestamp": check_choice(
            display_fragment_timestamp, "display_fragment_timestamp", ALWAYS_NEVER
        ),
    }
    selector_type = check_timestamp_type(timestamp_type)
    if mode == "LIVE":
        if start is not None or end is not None:
            raise ValidationError("playback_mode='LIVE' takes no start or end")
        return params
    if start is None:
        raise ValidationError(f"playback_mode={mode!r} needs start")
    if mode == "ON_DEMAND" and end is None:
        raise ValidationError("playback_mode='ON_DEMAND' needs both start and end")
    time_range: Mapping[str, Any]
    if end is None:
        time_range = {"StartTimestamp": parse_time(start, "start")}
    else:
        first, last = check_range(start, end, longest=MAX_SPAN, empty=False)
        time_range = {"StartTimestamp": first, "EndTimestamp": last}
    params[f"{kind}FragmentSelector"] = {
        "FragmentSelectorType": selector_type,
        "TimestampRange": time_range,
    }
    return params
