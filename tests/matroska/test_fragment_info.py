"""What a fragment's tags say (FragmentInfo): every tag in order, timestamps, error chunks."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from mkvbuild import (
    NUMBER,
    PRODUCER,
    SERVER,
    B,
    scan,
)

from kvarchive._errors import ServiceError
from kvarchive._matroska import ids as E
from kvarchive._matroska.scanner import FragmentScanner
from kvarchive._matroska.vint import encode_id

# --- tags ---------------------------------------------------------------------------------


def test_tags_before_and_after_the_cluster_and_producer_tags() -> None:
    """SimpleTags of every Tags element of the fragment are gathered."""
    body = B.fragment(
        before={"PRODUCER_TAG": "camera-1"},
        after={"AWS_KINESISVIDEO_MILLIS_BEHIND_NOW": "250", "LATE": "yes"},
    )
    (found,) = scan(body)
    assert found.tags == {
        "PRODUCER_TAG": "camera-1",
        "AWS_KINESISVIDEO_FRAGMENT_NUMBER": NUMBER,
        "AWS_KINESISVIDEO_SERVER_TIMESTAMP": SERVER,
        "AWS_KINESISVIDEO_PRODUCER_TIMESTAMP": PRODUCER,
        "AWS_KINESISVIDEO_MILLIS_BEHIND_NOW": "250",
        "LATE": "yes",
    }


def test_nested_simple_tags_are_gathered() -> None:
    """A SimpleTag inside a SimpleTag is read too."""
    inner = B.simple_tag("INNER", "2", B.simple_tag("INNERMOST", "3"))
    tags = B.el(E.TAGS, B.el(E.TAG, B.simple_tag("OUTER", "1", inner)))
    body = B.header() + B.master(E.SEGMENT, B.info() + tags, known=False)
    (found,) = scan(body)
    assert found.tags == {"OUTER": "1", "INNER": "2", "INNERMOST": "3"}


def test_tag_list_keeps_every_tag_in_file_order() -> None:
    """Repeated names stay in tag_list, a SimpleTag before those nested in it; tags keeps the last."""
    inner = B.simple_tag("INNER", "2", B.simple_tag("INNERMOST", "3"))
    tags = B.el(
        E.TAGS,
        B.el(E.TAG, B.simple_tag("ENCODER", "a") + B.simple_tag("OUTER", "1", inner))
        + B.el(E.TAG, B.simple_tag("ENCODER", "b")),
    )
    body = B.header() + B.master(E.SEGMENT, B.info() + tags, known=False)
    (found,) = scan(body, chunk=5)
    assert found.tag_list == [
        ("ENCODER", "a"),
        ("OUTER", "1"),
        ("INNER", "2"),
        ("INNERMOST", "3"),
        ("ENCODER", "b"),
    ]
    assert found.tags["ENCODER"] == "b"


def test_tags_of_one_fragment_do_not_leak_into_the_next() -> None:
    """Each record holds only its own fragment's tags."""
    body = B.fragment("1", after={"ONLY_FIRST": "x"}) + B.fragment("2")
    first, second = scan(body)
    assert "ONLY_FIRST" in first.tags
    assert "ONLY_FIRST" not in second.tags


def test_current_fragment_shows_the_fragment_in_progress() -> None:
    """The number of a fragment still arriving is known once its Tags are read."""
    body = B.fragment()
    cluster_at = body.index(encode_id(E.CLUSTER))
    scanner = FragmentScanner()
    assert scanner.current_fragment is None
    scanner.feed(body[: cluster_at + 2])
    current = scanner.current_fragment
    assert current is not None
    assert (current.start, current.end, current.clusters) == (0, cluster_at + 2, 0)
    assert current.number == NUMBER


def test_timestamps_are_aware_utc_datetimes() -> None:
    """Server and producer timestamps parse to UTC datetimes with milliseconds."""
    (found,) = scan(B.fragment())
    assert found.server_timestamp == datetime(2017, 11, 28, 6, 55, 9, 126000, timezone.utc)
    assert found.producer_timestamp == datetime(2017, 11, 28, 6, 55, 8, 500000, timezone.utc)


def test_side_timestamp_spelling_is_accepted() -> None:
    """The GetMediaForFragmentList docs' ..._SIDE_TIMESTAMP tags are read too."""
    body = B.fragment(
        service_tags={
            "AWS_KINESISVIDEO_FRAGMENT_NUMBER": "7",
            "AWS_KINESISVIDEO_SERVER_SIDE_TIMESTAMP": "1600000000",
            "AWS_KINESISVIDEO_PRODUCER_SIDE_TIMESTAMP": "1599999999.9",
        }
    )
    (found,) = scan(body)
    assert found.server_timestamp == datetime(2020, 9, 13, 12, 26, 40, tzinfo=timezone.utc)
    assert found.producer_timestamp == datetime(2020, 9, 13, 12, 26, 39, 900000, timezone.utc)
    assert not found.is_error


def test_unreadable_or_missing_timestamps_are_none() -> None:
    """A timestamp tag that is not epoch seconds, or none at all, gives None."""
    body = B.fragment(service_tags={"AWS_KINESISVIDEO_SERVER_TIMESTAMP": "yesterday"})
    (found,) = scan(body)
    assert found.server_timestamp is None
    assert found.producer_timestamp is None
    assert found.number is None


@pytest.mark.parametrize(
    "text",
    ["253402300800", "99999999999999999999", "9" * 4301, "1.٣", "٣", "-5", "1e9", "", "."],
)
def test_timestamps_past_year_9999_or_not_plain_digits_are_none(text: str) -> None:
    """Epoch seconds that no datetime holds are unreadable, not an OverflowError."""
    body = B.fragment(
        service_tags={
            "AWS_KINESISVIDEO_SERVER_TIMESTAMP": text,
            "AWS_KINESISVIDEO_PRODUCER_TIMESTAMP": " 253402300799.9999999 ",
        }
    )
    (found,) = scan(body)
    assert found.server_timestamp is None
    assert found.producer_timestamp == datetime(9999, 12, 31, 23, 59, 59, 999999, timezone.utc)


def test_leading_zeros_do_not_count_as_digits() -> None:
    """Thousands of leading zeros still read as the number they pad."""
    body = B.fragment(service_tags={"AWS_KINESISVIDEO_SERVER_TIMESTAMP": "0" * 5000 + "1.5"})
    (found,) = scan(body)
    assert found.server_timestamp == datetime(1970, 1, 1, 0, 0, 1, 500000, timezone.utc)


# --- error chunks -------------------------------------------------------------------------


def test_error_chunk_with_exception_tags() -> None:
    """EXCEPTION_ERROR_CODE / EXCEPTION_MESSAGE mark an error chunk."""
    body = B.fragment(
        service_tags={
            "AWS_KINESISVIDEO_FRAGMENT_NUMBER": NUMBER,
            "AWS_KINESISVIDEO_EXCEPTION_ERROR_CODE": "4000",
            "AWS_KINESISVIDEO_EXCEPTION_MESSAGE": "Requested fragment is not found",
        }
    )
    (found,) = scan(body)
    assert found.is_error
    assert (found.error_code, found.error_message) == ("4000", "Requested fragment is not found")
    error = found.error()
    assert isinstance(error, ServiceError)
    assert (error.code, error.message) == ("4000", "Requested fragment is not found")


def test_error_chunk_with_getmedia_tags() -> None:
    """GetMedia's ERROR_ID (integer code) and ERROR_CODE (text) mark an error chunk."""
    tags = {"AWS_KINESISVIDEO_ERROR_CODE": "Internal error", "AWS_KINESISVIDEO_ERROR_ID": "5000"}
    header_and_tags = B.header() + B.master(E.SEGMENT, B.tags(tags), known=False)
    (found,) = scan(header_and_tags)
    assert found.is_error
    assert (found.error_code, found.error_message) == ("5000", "Internal error")
    assert found.clusters == 0


def test_number_without_server_timestamp_is_not_an_error_chunk() -> None:
    """Only error tags make an error chunk: a fragment that merely lacks its timestamp does not."""
    body = B.fragment(service_tags={"AWS_KINESISVIDEO_FRAGMENT_NUMBER": "9"})
    (found,) = scan(body)
    assert not found.is_error
    assert found.error() is None


def test_media_fragment_is_not_an_error() -> None:
    """An ordinary fragment has no error."""
    (found,) = scan(B.fragment())
    assert found.error() is None
