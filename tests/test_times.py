"""Times in every accepted form become aware UTC datetimes."""

from datetime import datetime, timedelta, timezone

import pytest

from kvarchive import ValidationError
from kvarchive._times import compact_seconds, compact_time, from_epoch, parse_time, to_utc

UTC = timezone.utc


def test_naive_datetime_is_utc() -> None:
    """A naive datetime means UTC, as in botocore."""
    assert parse_time(datetime(2026, 1, 1, 12), "start") == datetime(2026, 1, 1, 12, tzinfo=UTC)


def test_aware_datetime_is_converted_to_utc() -> None:
    """An aware datetime in another zone is converted, not relabelled."""
    paris = timezone(timedelta(hours=1))
    value = parse_time(datetime(2026, 1, 1, 13, tzinfo=paris), "start")
    assert value == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert value.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-01T12:00:00Z", datetime(2026, 1, 1, 12, tzinfo=UTC)),
        ("2026-01-01T12:00:00.123Z", datetime(2026, 1, 1, 12, 0, 0, 123000, tzinfo=UTC)),
        ("2026-01-01T13:00:00+01:00", datetime(2026, 1, 1, 12, tzinfo=UTC)),
        ("2026-01-01T12:00:00", datetime(2026, 1, 1, 12, tzinfo=UTC)),
        ("2026-01-01", datetime(2026, 1, 1, tzinfo=UTC)),
    ],
)
def test_iso_strings(text: str, expected: datetime) -> None:
    """ISO 8601 strings parse, with or without a zone (none means UTC)."""
    assert parse_time(text, "start") == expected


def test_epoch_seconds_keep_milliseconds() -> None:
    """Epoch seconds as int or float; fractions are kept to the millisecond."""
    assert parse_time(1767268800, "end") == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert parse_time(1767268800.123, "end") == datetime(2026, 1, 1, 12, 0, 0, 123000, tzinfo=UTC)


@pytest.mark.parametrize("bad", ["yesterday", "", True, None, [1], -5, 1e20])
def test_bad_times_name_the_argument(bad: object) -> None:
    """Anything else is a ValidationError that names the argument."""
    with pytest.raises(ValidationError, match="start"):
        parse_time(bad, "start")  # type: ignore[arg-type]


def test_local_zone_response_times_become_utc() -> None:
    """botocore's tzlocal() timestamps are converted to UTC."""
    from dateutil.tz import tzlocal

    local = datetime(2026, 1, 1, 12, tzinfo=tzlocal())
    assert to_utc(local).tzinfo is UTC
    assert to_utc(local) == local


def test_from_epoch_is_exact() -> None:
    """Epoch floats convert without floating-point drift in the milliseconds."""
    assert from_epoch(1511852109.126).microsecond == 126000


def test_compact_time_is_utc_to_the_millisecond_with_a_space_and_z() -> None:
    """Tables print times as ``2026-11-29 23:23:28.365Z``, converted to UTC, microseconds cut."""
    paris = timezone(timedelta(hours=1))
    value = datetime(2026, 11, 30, 0, 23, 28, 365999, tzinfo=paris)
    assert compact_time(value) == "2026-11-29 23:23:28.365Z"
    assert compact_time(datetime(2026, 1, 1)) == "2026-01-01 00:00:00.000Z"


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (timedelta(seconds=2), "2.000s"),
        (timedelta(milliseconds=1), "0.001s"),
        (timedelta(days=1, milliseconds=5), "86400.005s"),
        (timedelta(microseconds=999), "0.000s"),
        (timedelta(milliseconds=-1500), "-1.500s"),
    ],
)
def test_compact_seconds_are_exact_to_the_millisecond(duration: timedelta, text: str) -> None:
    """Durations print as seconds with three decimals, without float rounding."""
    assert compact_seconds(duration) == text
