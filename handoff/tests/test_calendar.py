"""Business-time maths: pure, so no database and no frozen clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handoff.calendar import BusinessCalendar

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")

ALL_WEEK = range(7)
WHOLE_DAY = ((time(0), time(0)),)

# Mon-Fri 09:00-17:00 with English bank holidays. The week of Monday 2 June 2025 has no holidays.
LONDON_OFFICE = BusinessCalendar.standard("Europe/London", holiday_country="GB")
NEW_YORK_OFFICE = BusinessCalendar.standard("America/New_York", holiday_country="US")
TOKYO_OFFICE = BusinessCalendar.standard("Asia/Tokyo", start=time(9), end=time(18), holiday_country="JP")
SPLIT_SHIFT = BusinessCalendar(
    timezone="Europe/London",
    hours=dict.fromkeys(range(5), ((time(9), time(12)), (time(13), time(17, 30)))),
)
LONDON_NIGHT_SHIFT = BusinessCalendar.standard("Europe/London", start=time(0), end=time(4), weekdays=ALL_WEEK)
NEW_YORK_NIGHT_SHIFT = BusinessCalendar.standard("America/New_York", start=time(0), end=time(4), weekdays=ALL_WEEK)
LONDON_24_7 = BusinessCalendar("Europe/London", hours=dict.fromkeys(ALL_WEEK, WHOLE_DAY))
NEW_YORK_24_7 = BusinessCalendar("America/New_York", hours=dict.fromkeys(ALL_WEEK, WHOLE_DAY))

PROPERTY_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    database=None,
)
CALENDARS = st.sampled_from(
    [
        LONDON_OFFICE,
        NEW_YORK_OFFICE,
        SPLIT_SHIFT,
        LONDON_NIGHT_SHIFT,
        NEW_YORK_24_7,
        BusinessCalendar(
            timezone="America/New_York",
            hours={0: ((time(22), time(0)),), 1: ((time(0), time(6)), (time(22), time(0))), 2: ((time(0), time(2)),)},
            closed_dates=frozenset({date(2025, 3, 10), date(2025, 11, 3)}),
            holiday_country="US",
        ),
    ]
)
STARTS = st.datetimes(
    min_value=datetime(2024, 1, 1),
    max_value=datetime(2027, 12, 31),
    timezones=st.sampled_from([UTC, LONDON, NEW_YORK, TOKYO]),
    allow_imaginary=False,
)
DURATIONS = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=200))


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def new_york(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- add_business_time -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        (london(2025, 6, 3, 9), timedelta(hours=1), london(2025, 6, 3, 10)),
        (london(2025, 6, 3, 10, 30), timedelta(minutes=90), london(2025, 6, 3, 12)),
        (london(2025, 6, 3, 9, 15), timedelta(hours=7, minutes=44, seconds=59), london(2025, 6, 3, 16, 59, 59)),
    ],
)
def test_add_business_time_stays_within_the_day(start: datetime, duration: timedelta, expected: datetime) -> None:
    result = LONDON_OFFICE.add_business_time(start, duration)

    assert result == expected


def test_add_business_time_landing_on_closing_returns_the_closing_instant() -> None:
    start = london(2025, 6, 3, 9)

    result = LONDON_OFFICE.add_business_time(start, timedelta(hours=8))

    assert result == london(2025, 6, 3, 17)


def test_add_business_time_carries_over_to_the_next_day() -> None:
    start = london(2025, 6, 3, 16)

    result = LONDON_OFFICE.add_business_time(start, timedelta(hours=3))

    assert result == london(2025, 6, 4, 11)


def test_add_business_time_skips_the_weekend() -> None:
    friday_afternoon = london(2025, 6, 6, 16)

    result = LONDON_OFFICE.add_business_time(friday_afternoon, timedelta(hours=2))

    assert result == london(2025, 6, 9, 10)


@pytest.mark.parametrize(
    ("calendar", "start", "expected"),
    [
        # Christmas Day (Thu) and Boxing Day (Fri), then the weekend.
        (LONDON_OFFICE, london(2025, 12, 24, 16), london(2025, 12, 29, 10)),
        # Christmas 2022 fell on a Sunday, so Tuesday 27 December was a substitute bank holiday.
        (LONDON_OFFICE, london(2022, 12, 23, 16), london(2022, 12, 28, 10)),
        # Independence Day 2025 is a Friday.
        (NEW_YORK_OFFICE, new_york(2025, 7, 3, 16), new_york(2025, 7, 7, 10)),
    ],
)
def test_add_business_time_skips_public_holidays(
    calendar: BusinessCalendar, start: datetime, expected: datetime
) -> None:
    result = calendar.add_business_time(start, timedelta(hours=2))

    assert result == expected


def test_add_business_time_skips_custom_closed_dates() -> None:
    calendar = BusinessCalendar.standard("Europe/London", closed_dates=[date(2025, 6, 4)])

    result = calendar.add_business_time(london(2025, 6, 3, 16), timedelta(hours=2))

    assert result == london(2025, 6, 5, 10)


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        # 2 January is a bank holiday in Scotland only.
        ("SCT", london(2026, 1, 5, 10)),
        ("ENG", london(2026, 1, 2, 10)),
    ],
)
def test_add_business_time_follows_the_holiday_subdivision(region: str, expected: datetime) -> None:
    calendar = BusinessCalendar.standard("Europe/London", holiday_country="GB", holiday_subdivision=region)

    result = calendar.add_business_time(london(2026, 1, 1, 12), timedelta(hours=1))

    assert result == expected


def test_add_business_time_does_not_count_the_lunch_break() -> None:
    start = london(2025, 6, 3, 11)

    result = SPLIT_SHIFT.add_business_time(start, timedelta(hours=2))

    assert result == london(2025, 6, 3, 14)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (london(2025, 6, 3, 7), london(2025, 6, 3, 10)),  # before opening
        (london(2025, 6, 3, 19), london(2025, 6, 4, 10)),  # after closing
        (london(2025, 6, 3, 17), london(2025, 6, 4, 10)),  # exactly at closing
        (london(2025, 6, 7, 12), london(2025, 6, 9, 10)),  # on Saturday
    ],
)
def test_add_business_time_from_outside_hours_counts_from_the_next_opening(start: datetime, expected: datetime) -> None:
    result = LONDON_OFFICE.add_business_time(start, timedelta(hours=1))

    assert result == expected


def test_add_business_time_carries_the_remainder_from_a_minute_before_closing() -> None:
    calendar = BusinessCalendar.standard("Europe/London", start=time(9), end=time(18))

    result = calendar.add_business_time(london(2025, 6, 3, 17, 59), timedelta(hours=1))

    assert result == london(2025, 6, 4, 9, 59)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (london(2025, 6, 3, 11), london(2025, 6, 3, 11)),
        (london(2025, 6, 3, 20), london(2025, 6, 4, 9)),
    ],
)
def test_add_business_time_of_zero_returns_the_next_opening(start: datetime, expected: datetime) -> None:
    result = LONDON_OFFICE.add_business_time(start, timedelta(0))

    assert result == expected


def test_add_business_time_rejects_a_negative_duration() -> None:
    start = london(2025, 6, 3, 11)

    with pytest.raises(ValueError, match="negative"):
        LONDON_OFFICE.add_business_time(start, timedelta(minutes=-1))


def test_add_business_time_returns_utc() -> None:
    start = london(2025, 6, 3, 11)

    result = LONDON_OFFICE.add_business_time(start, timedelta(hours=1))

    assert result.tzinfo is UTC


def test_add_business_time_reads_a_utc_start_in_the_calendars_timezone() -> None:
    # 23:30 UTC on Monday is 08:30 on Tuesday in Tokyo, half an hour before opening.
    start = utc(2025, 6, 2, 23, 30)

    result = TOKYO_OFFICE.add_business_time(start, timedelta(hours=1))

    assert result == datetime(2025, 6, 3, 10, tzinfo=TOKYO)


# --- DST ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day_start",
    [
        london(2025, 3, 30),  # clocks go forward
        london(2025, 10, 26),  # clocks go back
        new_york(2025, 3, 9),
        new_york(2025, 11, 2),
    ],
)
def test_office_day_on_a_clock_change_is_eight_real_hours(day_start: datetime) -> None:
    calendar = BusinessCalendar.standard(str(day_start.tzinfo), weekdays=ALL_WEEK)

    result = calendar.business_time_between(day_start, day_start + timedelta(days=1))

    assert result == timedelta(hours=8)


@pytest.mark.parametrize(
    ("calendar", "day_start", "expected"),
    [
        (LONDON_NIGHT_SHIFT, london(2025, 3, 30), timedelta(hours=3)),
        (LONDON_NIGHT_SHIFT, london(2025, 10, 26), timedelta(hours=5)),
        (NEW_YORK_NIGHT_SHIFT, new_york(2025, 3, 9), timedelta(hours=3)),
        (NEW_YORK_NIGHT_SHIFT, new_york(2025, 11, 2), timedelta(hours=5)),
        (LONDON_24_7, london(2025, 3, 30), timedelta(hours=23)),
        (NEW_YORK_24_7, new_york(2025, 11, 2), timedelta(hours=25)),
    ],
)
def test_interval_spanning_a_clock_change_counts_real_time(
    calendar: BusinessCalendar, day_start: datetime, expected: timedelta
) -> None:
    day_end = datetime.combine(day_start.date() + timedelta(days=1), time(0), tzinfo=day_start.tzinfo)

    result = calendar.business_time_between(day_start, day_end)

    assert result == expected


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (london(2025, 3, 29, 12), london(2025, 3, 30, 13)),  # 12:00 GMT + 24h is 13:00 BST
        (london(2025, 10, 25, 12), london(2025, 10, 26, 11)),  # 12:00 BST + 24h is 11:00 GMT
        (new_york(2025, 3, 8, 12), new_york(2025, 3, 9, 13)),
        (new_york(2025, 11, 1, 12), new_york(2025, 11, 2, 11)),
    ],
)
def test_add_business_time_on_a_24_7_calendar_adds_real_hours_across_a_clock_change(
    start: datetime, expected: datetime
) -> None:
    calendar = BusinessCalendar(str(start.tzinfo), hours=dict.fromkeys(ALL_WEEK, WHOLE_DAY))

    result = calendar.add_business_time(start, timedelta(hours=24))

    assert result == expected


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (london(2025, 3, 28, 16), utc(2025, 3, 31, 9)),  # Friday GMT, Monday 10:00 BST
        (london(2025, 10, 24, 16), utc(2025, 10, 27, 10)),  # Friday BST, Monday 10:00 GMT
    ],
)
def test_add_business_time_over_a_weekend_with_a_clock_change_keeps_local_opening_hours(
    start: datetime, expected: datetime
) -> None:
    result = LONDON_OFFICE.add_business_time(start, timedelta(hours=2))

    assert result == expected


def test_opening_at_a_skipped_wall_time_opens_when_the_clocks_jump() -> None:
    # On 30 March 2025 London's clocks jump from 01:00 GMT to 02:00 BST; 01:30 never happens.
    calendar = BusinessCalendar("Europe/London", hours={6: ((time(1, 30), time(3)),)})

    result = calendar.next_opening(london(2025, 3, 30))

    assert result == utc(2025, 3, 30, 1)


def test_closing_at_a_repeated_wall_time_uses_its_first_occurrence() -> None:
    # On 26 October 2025 London reads 01:00-02:00 twice, first in BST (00:00-01:00 UTC) then in GMT.
    calendar = BusinessCalendar("Europe/London", hours={6: ((time(0), time(1, 30)),)})

    result = calendar.business_time_between(london(2025, 10, 26), london(2025, 10, 27))

    assert result == timedelta(hours=1, minutes=30)


# --- business_time_between ---------------------------------------------------------------------------


def test_business_time_between_counts_only_open_hours() -> None:
    start, end = london(2025, 6, 6, 16), london(2025, 6, 9, 10)

    result = LONDON_OFFICE.business_time_between(start, end)

    assert result == timedelta(hours=2)


def test_business_time_between_does_not_count_the_lunch_break() -> None:
    start, end = london(2025, 6, 3, 11), london(2025, 6, 3, 14)

    result = SPLIT_SHIFT.business_time_between(start, end)

    assert result == timedelta(hours=2)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (london(2025, 6, 3, 11), london(2025, 6, 3, 11)),
        (london(2025, 6, 3, 14), london(2025, 6, 3, 11)),
    ],
)
def test_business_time_between_is_zero_unless_end_is_after_start(start: datetime, end: datetime) -> None:
    result = LONDON_OFFICE.business_time_between(start, end)

    assert result == timedelta(0)


def test_business_time_between_reversed_gives_time_overdue() -> None:
    due_at, now = london(2025, 6, 6, 16), london(2025, 6, 9, 11)

    overdue = LONDON_OFFICE.business_time_between(due_at, now)

    assert overdue == timedelta(hours=3)


@pytest.mark.parametrize(
    ("start", "duration"),
    [
        (london(2025, 6, 6, 16), timedelta(hours=2)),
        (london(2025, 12, 24, 8), timedelta(hours=30)),
        (london(2025, 3, 28, 16, 17), timedelta(hours=11, minutes=3)),
    ],
)
def test_business_time_between_inverts_add_business_time(start: datetime, duration: timedelta) -> None:
    deadline = LONDON_OFFICE.add_business_time(start, duration)

    result = LONDON_OFFICE.business_time_between(start, deadline)

    assert result == duration


# --- is_open and next_opening ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("calendar", "at", "expected"),
    [
        (LONDON_OFFICE, london(2025, 6, 3, 8, 59, 59, 999999), False),
        (LONDON_OFFICE, london(2025, 6, 3, 9), True),
        (LONDON_OFFICE, london(2025, 6, 3, 16, 59, 59, 999999), True),
        (LONDON_OFFICE, london(2025, 6, 3, 17), False),
        (LONDON_OFFICE, london(2025, 6, 7, 12), False),  # Saturday
        (LONDON_OFFICE, london(2025, 12, 25, 12), False),  # Christmas Day
        (SPLIT_SHIFT, london(2025, 6, 3, 12), False),
        (SPLIT_SHIFT, london(2025, 6, 3, 13), True),
        (TOKYO_OFFICE, utc(2025, 6, 3, 0), True),  # 09:00 in Tokyo
        (TOKYO_OFFICE, utc(2025, 6, 3, 9), False),  # 18:00 in Tokyo
    ],
)
def test_is_open_treats_intervals_as_half_open(calendar: BusinessCalendar, at: datetime, expected: bool) -> None:
    result = calendar.is_open(at)

    assert result is expected


def test_is_open_is_true_all_day_on_a_24_7_calendar_across_midnight() -> None:
    at = london(2025, 6, 3, 23, 59, 59, 999999)

    result = LONDON_24_7.is_open(at) and LONDON_24_7.is_open(at + timedelta(microseconds=1))

    assert result is True


def test_next_opening_returns_the_instant_itself_when_open() -> None:
    at = london(2025, 6, 3, 11, 7)

    result = LONDON_OFFICE.next_opening(at)

    assert result == at


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (london(2025, 6, 3, 17), london(2025, 6, 4, 9)),
        (london(2025, 6, 6, 18), london(2025, 6, 9, 9)),
        (london(2025, 12, 24, 17), london(2025, 12, 29, 9)),
    ],
)
def test_next_opening_when_closed_is_the_following_opening(at: datetime, expected: datetime) -> None:
    result = LONDON_OFFICE.next_opening(at)

    assert result == expected


# --- guards ------------------------------------------------------------------------------------------

NAIVE = datetime(2025, 6, 3, 11)
AWARE = london(2025, 6, 3, 11)


@pytest.mark.parametrize(
    "call",
    [
        lambda calendar: calendar.is_open(NAIVE),
        lambda calendar: calendar.next_opening(NAIVE),
        lambda calendar: calendar.add_business_time(NAIVE, timedelta(hours=1)),
        lambda calendar: calendar.business_time_between(NAIVE, AWARE),
        lambda calendar: calendar.business_time_between(AWARE, NAIVE),
    ],
)
def test_methods_reject_naive_datetimes(call: Callable[[BusinessCalendar], Any]) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call(LONDON_OFFICE)


@pytest.mark.parametrize("hours", [{}, {0: ()}, dict.fromkeys(ALL_WEEK, ())])
def test_calendar_that_is_never_open_is_rejected(hours: dict[int, tuple[()]]) -> None:
    with pytest.raises(ValueError, match="never open"):
        BusinessCalendar("Europe/London", hours=hours)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"timezone": "Europe/Atlantis"},
        {"hours": {7: ((time(9), time(17)),)}},
        {"hours": {0: ((time(17), time(9)),)}},
        {"hours": {0: ((time(9), time(13)), (time(12), time(17)))}},
        {"hours": {0: ((time(9, tzinfo=UTC), time(17)),)}},
        {"holiday_country": "XX"},
        {"holiday_country": "GB", "holiday_subdivision": "XX"},
        {"holiday_subdivision": "SCT"},
    ],
)
def test_invalid_calendar_is_rejected(kwargs: dict[str, Any]) -> None:
    arguments = {"timezone": "Europe/London", "hours": {0: ((time(9), time(17)),)}, **kwargs}

    with pytest.raises(ValueError):
        BusinessCalendar(**arguments)


def test_search_gives_up_on_a_calendar_closed_for_years() -> None:
    mondays = {date(2025, 6, 2) + timedelta(weeks=week) for week in range(52 * 4)}
    calendar = BusinessCalendar.standard("Europe/London", weekdays=[0], closed_dates=mondays)

    with pytest.raises(ValueError, match="no opening hours"):
        calendar.next_opening(london(2025, 6, 1))


def test_business_time_between_over_years_of_closure_is_zero() -> None:
    mondays = {date(2025, 6, 2) + timedelta(weeks=week) for week in range(52 * 4)}
    calendar = BusinessCalendar.standard("Europe/London", weekdays=[0], closed_dates=mondays)

    result = calendar.business_time_between(london(2025, 6, 1), london(2029, 5, 1))

    assert result == timedelta(0)


def test_hours_cannot_be_changed_after_construction() -> None:
    hours = {0: ((time(9), time(17)),)}
    calendar = BusinessCalendar("Europe/London", hours=hours)

    hours[1] = ((time(9), time(17)),)

    assert isinstance(calendar.hours, MappingProxyType)
    assert 1 not in calendar.hours


def test_equal_calendars_hash_equal() -> None:
    first = BusinessCalendar.standard("Europe/London", holiday_country="GB")

    second = BusinessCalendar.standard("Europe/London", holiday_country="GB")

    assert first == second
    assert hash(first) == hash(second)


# --- properties --------------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(calendar=CALENDARS, start=STARTS, duration=DURATIONS)
def test_business_time_between_recovers_the_added_duration(
    calendar: BusinessCalendar, start: datetime, duration: timedelta
) -> None:
    deadline = calendar.add_business_time(start, duration)

    elapsed = calendar.business_time_between(calendar.next_opening(start), deadline)

    assert elapsed == duration


@PROPERTY_SETTINGS
@given(calendar=CALENDARS, start=STARTS, durations=st.lists(DURATIONS, min_size=2, max_size=2))
def test_add_business_time_is_monotonic_in_duration(
    calendar: BusinessCalendar, start: datetime, durations: list[timedelta]
) -> None:
    shorter, longer = sorted(durations)

    earlier = calendar.add_business_time(start, shorter)
    later = calendar.add_business_time(start, longer)

    assert earlier <= later


@PROPERTY_SETTINGS
@given(calendar=CALENDARS, start=STARTS, duration=DURATIONS)
def test_add_business_time_lands_inside_hours_or_exactly_at_a_closing(
    calendar: BusinessCalendar, start: datetime, duration: timedelta
) -> None:
    deadline = calendar.add_business_time(start, duration)

    is_open = calendar.is_open(deadline)
    is_closing = calendar.is_open(deadline - timedelta(microseconds=1))

    assert is_open or is_closing
    assert deadline >= start


@PROPERTY_SETTINGS
@given(calendar=CALENDARS, start=STARTS)
def test_next_opening_is_open_and_nothing_before_it_is(calendar: BusinessCalendar, start: datetime) -> None:
    opening = calendar.next_opening(start)

    assert calendar.is_open(opening)
    assert opening == start or calendar.business_time_between(start, opening) == timedelta(0)


# --- open_intervals ----------------------------------------------------------------------------------


def test_open_intervals_are_clipped_to_both_ends() -> None:
    result = LONDON_OFFICE.open_intervals(london(2025, 6, 3, 11), london(2025, 6, 4, 10))

    assert result == [(london(2025, 6, 3, 11), london(2025, 6, 3, 17)), (london(2025, 6, 4, 9), london(2025, 6, 4, 10))]


def test_open_intervals_skip_weekends_and_holidays() -> None:
    result = LONDON_OFFICE.open_intervals(london(2025, 12, 24, 16), london(2025, 12, 30))

    assert result == [
        (london(2025, 12, 24, 16), london(2025, 12, 24, 17)),
        (london(2025, 12, 29, 9), london(2025, 12, 29, 17)),
    ]


def test_open_intervals_of_a_split_shift_leave_out_the_break() -> None:
    result = SPLIT_SHIFT.open_intervals(london(2025, 6, 3, 10), london(2025, 6, 3, 14))

    assert result == [
        (london(2025, 6, 3, 10), london(2025, 6, 3, 12)),
        (london(2025, 6, 3, 13), london(2025, 6, 3, 14)),
    ]


def test_open_intervals_are_empty_when_end_is_not_after_start() -> None:
    result = LONDON_OFFICE.open_intervals(london(2025, 6, 3, 11), london(2025, 6, 3, 11))

    assert result == []


def test_add_business_time_skips_the_break_of_a_split_shift() -> None:
    result = SPLIT_SHIFT.add_business_time(london(2025, 6, 3, 11), timedelta(hours=2))

    assert result == london(2025, 6, 3, 14)


@PROPERTY_SETTINGS
@given(calendar=CALENDARS, start=STARTS, duration=DURATIONS)
def test_open_intervals_add_up_to_the_business_time_between(
    calendar: BusinessCalendar, start: datetime, duration: timedelta
) -> None:
    end = start + duration

    intervals = calendar.open_intervals(start, end)

    assert sum((closes - opens for opens, closes in intervals), timedelta(0)) == calendar.business_time_between(
        start, end
    )
