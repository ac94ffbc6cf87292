"""Times and durations typed on the command line (canarystats.timeparse)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from canarystats.errors import ConfigError
from canarystats.timeparse import format_duration, parse_duration, parse_time, resolve_window

REF = datetime(2026, 3, 10, 15, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("15m", 900), ("90s", 90), ("1h30m", 5400), ("2d", 172800), ("1w", 604800), (" 2H ", 7200)],
)
def test_durations_read_as_written(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "15", "m", "15 minutes", "-5m", "1.5h", "0m", "5y"])
def test_bad_durations_name_the_flag(text: str) -> None:
    with pytest.raises(ConfigError, match="--lookback") as info:
        parse_duration(text)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", REF),
        ("-15m", datetime(2026, 3, 10, 14, 45, tzinfo=UTC)),
        ("now-2h", datetime(2026, 3, 10, 13, 0, tzinfo=UTC)),
        ("-1d", datetime(2026, 3, 9, 15, 0, tzinfo=UTC)),
        ("+5m", datetime(2026, 3, 10, 15, 5, tzinfo=UTC)),
        ("2026-03-10T15:00:00Z", datetime(2026, 3, 10, 15, 0, tzinfo=UTC)),
        # An offset is converted: 16:00 at +01:00 is 15:00 UTC.
        ("2026-03-10T16:00:00+01:00", datetime(2026, 3, 10, 15, 0, tzinfo=UTC)),
        # No offset: UTC, as documented.
        ("2026-03-10T12:30:00", datetime(2026, 3, 10, 12, 30, tzinfo=UTC)),
        ("2026-03-10", datetime(2026, 3, 10, tzinfo=UTC)),
    ],
)
def test_times_read_as_written(text: str, expected: datetime) -> None:
    got = parse_time(text, now=REF)
    assert got == expected
    assert got.tzinfo is not None and got.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", ["", "yesterday", "-15", "2026-13-01T00:00:00Z", "15m", "now-"])
def test_bad_times_name_the_flag(text: str) -> None:
    with pytest.raises(ConfigError, match="--end") as info:
        parse_time(text, now=REF, flag="--end")
    assert "\n" not in str(info.value)


@given(st.integers(min_value=1, max_value=10 * 365 * 86400))
def test_format_then_parse_is_identity(seconds: int) -> None:
    duration = timedelta(seconds=seconds)
    assert parse_duration(format_duration(duration)) == duration


@given(st.integers(min_value=1, max_value=10 * 365 * 86400))
def test_relative_time_is_now_minus_the_duration(seconds: int) -> None:
    text = "-" + format_duration(timedelta(seconds=seconds))
    assert REF - parse_time(text, now=REF) == timedelta(seconds=seconds)


@given(
    st.datetimes(
        min_value=datetime(1971, 1, 1),
        max_value=datetime(2199, 1, 1),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone.min]),
    )
)
def test_iso_round_trip_keeps_the_instant(moment: datetime) -> None:
    parsed = parse_time(moment.isoformat(), now=REF)
    assert parsed == moment
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text", ["0001-01-01T00:00:00Z", "9999-12-31T23:00:00Z", "1969-12-31T23:59:59Z", "+800w"]
)
def test_times_outside_the_judged_range_are_one_line(text: str) -> None:
    with pytest.raises(ConfigError, match="out of the range of times canarystats judges"):
        parse_time(text, now=datetime(2190, 1, 1, tzinfo=UTC), flag="--start")


@given(st.text(max_size=20))
def test_any_text_parses_or_gives_one_line(text: str) -> None:
    try:
        parsed = parse_time(text, now=REF)
    except ConfigError as exc:
        assert "\n" not in str(exc).strip("\n")
        assert str(exc).startswith("--start")
    else:
        assert parsed.utcoffset() == timedelta(0)


def test_lookback_alone_ends_now() -> None:
    assert resolve_window(None, None, "15m", now=REF) == (REF - timedelta(minutes=15), REF)


def test_start_with_lookback_sets_the_length() -> None:
    start = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
    assert resolve_window("2026-03-10T14:00:00Z", None, "10m", now=REF) == (
        start,
        start + timedelta(minutes=10),
    )


def test_start_alone_ends_now_and_end_is_honoured() -> None:
    assert resolve_window("-1h", None, None, now=REF) == (REF - timedelta(hours=1), REF)
    assert resolve_window("-1h", "-30m", None, now=REF) == (
        REF - timedelta(hours=1),
        REF - timedelta(minutes=30),
    )


@pytest.mark.parametrize(
    ("start", "end", "lookback", "flag"),
    [
        (None, None, None, "--lookback"),
        ("-1h", "now", "5m", "--end"),
        ("-10m", "-20m", None, "--end"),
        # No --end: the end is now, so a start in the future is what to fix.
        ("+5m", None, None, r"--start .* is not in the past \(now is 2026-"),
    ],
)
def test_impossible_windows_are_config_errors(
    start: str | None, end: str | None, lookback: str | None, flag: str
) -> None:
    with pytest.raises(ConfigError, match=flag):
        resolve_window(start, end, lookback, now=REF)
