"""What a countdown says: pure, so no database and no frozen clock."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handoff.calendar import BusinessCalendar
from handoff.countdown import (
    BusinessTimeline,
    ClockInput,
    breached_label,
    format_duration,
    opening_windows,
    sla_clock,
    sla_clocks,
)

OFFICE = BusinessCalendar.standard("Europe/London")
MONDAY_10 = datetime(2026, 3, 2, 10, tzinfo=UTC)  # 10:00 in London (GMT)
DUE = OFFICE.add_business_time(MONDAY_10, timedelta(hours=24))
TARGET = timedelta(hours=24)


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0, "0s"), (45, "45s"), (60, "1m 00s"), (725, "12m 05s"), (11525, "3h 12m 05s"), (86400, "24h 00m 00s")],
)
def test_format_duration(seconds: int, expected: str) -> None:
    assert format_duration(seconds) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "breached"),
        (59, "breached"),
        (60, "breached 1m ago in business hours"),
        (7500, "breached 2h 05m ago in business hours"),
    ],
)
def test_breached_label(seconds: int, expected: str) -> None:
    assert breached_label(seconds) == expected


def test_a_running_clock_counts_business_seconds_left() -> None:
    clock = sla_clock(calendar=OFFICE, due_at=DUE, target=TARGET, now=MONDAY_10 + timedelta(hours=1))

    assert (clock.state, clock.balance_seconds, clock.label) == ("running", 23 * 3600, "due in 23h 00m 00s")


@pytest.mark.parametrize(
    ("hours_in", "urgency"),
    [(1, "ok"), (12, "ok"), (13, "warn"), (18, "warn"), (19, "urgent")],
)
def test_a_running_clock_turns_amber_at_half_and_red_at_a_quarter(hours_in: int, urgency: str) -> None:
    now = OFFICE.add_business_time(MONDAY_10, timedelta(hours=hours_in))

    clock = sla_clock(calendar=OFFICE, due_at=DUE, target=TARGET, now=now)

    assert clock.urgency == urgency


def test_a_clock_outside_business_hours_is_paused() -> None:
    monday_evening = MONDAY_10 + timedelta(hours=9)

    clock = sla_clock(calendar=OFFICE, due_at=DUE, target=TARGET, now=monday_evening)

    assert (clock.state, clock.is_open) == ("paused", False)
    assert clock.label == "paused — outside business hours · 17h 00m 00s left"


def test_a_breached_clock_counts_business_time_overdue() -> None:
    clock = sla_clock(calendar=OFFICE, due_at=DUE, target=TARGET, now=DUE + timedelta(hours=2))

    assert (clock.state, clock.balance_seconds, clock.label) == (
        "breached",
        -7200,
        "breached 2h 00m ago in business hours",
    )


def test_a_met_clock_says_so_whatever_the_time() -> None:
    clock = sla_clock(calendar=OFFICE, due_at=DUE, target=TARGET, now=DUE + timedelta(days=3), met_at=MONDAY_10)

    assert (clock.state, clock.label) == ("met", "SLA met")


def test_opening_windows_cover_the_next_two_days_in_epoch_milliseconds() -> None:
    windows = opening_windows(calendar=OFFICE, now=MONDAY_10)

    monday_close = datetime(2026, 3, 2, 17, tzinfo=UTC)
    tuesday = (datetime(2026, 3, 3, 9, tzinfo=UTC), datetime(2026, 3, 3, 17, tzinfo=UTC))
    wednesday_until_ten = (datetime(2026, 3, 4, 9, tzinfo=UTC), datetime(2026, 3, 4, 10, tzinfo=UTC))
    assert windows == [
        [int(start.timestamp() * 1000), int(end.timestamp() * 1000)]
        for start, end in ((MONDAY_10, monday_close), tuesday, wednesday_until_ten)
    ]


def test_opening_windows_of_a_split_shift_skip_the_break() -> None:
    calendar = BusinessCalendar("Europe/London", hours={0: ((time(9), time(12)), (time(13), time(17)))})

    windows = opening_windows(calendar=calendar, now=MONDAY_10, horizon=timedelta(hours=8))

    assert [(end - start) // 3_600_000 for start, end in windows] == [2, 4]


def test_a_breach_older_than_the_horizon_stops_counting() -> None:
    long_ago = DUE + timedelta(days=31)

    clock = sla_clock(calendar=OFFICE, due_at=DUE, target=TARGET, now=long_ago)

    assert (clock.state, clock.urgency, clock.label) == ("overdue", "breached", "breached over 30 days ago")


def test_clocks_of_one_team_are_counted_together_like_one_by_one() -> None:
    now = MONDAY_10 + timedelta(days=2, hours=3)
    inputs = [ClockInput(MONDAY_10 + timedelta(hours=hours), TARGET) for hours in (-30, 0, 5, 50, 100)]

    together = sla_clocks(calendar=OFFICE, clocks=inputs, now=now)

    assert together == [sla_clock(calendar=OFFICE, due_at=i.due_at, target=i.target, now=now) for i in inputs]


@settings(max_examples=200, deadline=None, database=None)
@given(
    start=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)),
    offsets=st.lists(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)), min_size=2, max_size=2),
)
def test_a_timeline_agrees_with_the_calendar(start: datetime, offsets: list[timedelta]) -> None:
    calendar = BusinessCalendar(
        "Europe/London", hours={0: ((time(9), time(12)), (time(13), time(17))), 2: ((time(0), time(0)),)},
        holiday_country="GB",
    )  # fmt: skip
    timeline = BusinessTimeline(calendar, start, start + timedelta(days=20))
    first, second = (start + offset for offset in offsets)

    assert timeline.between(first, second) == calendar.business_time_between(first, second)
