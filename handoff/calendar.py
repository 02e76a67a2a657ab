"""Business-time maths for SLA deadlines: pure code, no ORM and no clock.

A `BusinessCalendar` says when a team is open: opening intervals per weekday in the team's timezone, minus
public holidays and custom closed dates. Every method takes timezone-aware datetimes (naive ones raise
ValueError) and returns aware UTC datetimes.

Conventions:

- Intervals are half-open, [opens, closes). `time(0)` as a closing time means midnight at the end of the
  day, so `(time(0), time(0))` is a whole day and a 24/7 calendar is that interval on every weekday. An
  interval cannot run past midnight; split a night shift into two days' intervals instead.
- Days are walked in the calendar's local date; each interval is turned into UTC instants and all
  arithmetic happens in UTC, so DST changes count in real elapsed time (a 00:00-04:00 interval is 3 hours
  on a spring-forward night and 5 on a fall-back night in Europe/London).
- A wall time that occurs twice (clocks going back) means its first occurrence (PEP 495 `fold=0`). A wall
  time that never occurs (clocks going forward) means the instant the clocks jump, so an interval opening
  at 01:30 on a night that skips 01:00-02:00 opens when the clocks read 02:00.
- A deadline that lands exactly at the end of an interval is returned as that closing instant, not as the
  next opening.
- Adding zero business time returns the next opening (the start itself when it is open), so a result is
  always either open or exactly at a closing instant.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

Interval = tuple[time, time]

MIDNIGHT = time(0)
_ONE_DAY = timedelta(days=1)
_ONE_MICROSECOND = timedelta(microseconds=1)
# Searches give up after this many consecutive closed days, so a calendar shut by holidays or closed
# dates raises instead of looping for ever.
_MAX_CLOSED_DAYS = 3 * 366
# How many days' intervals a calendar keeps: more than a year's, what the countdowns and deadlines ask about.
_DAYS_KEPT = 400


@dataclass(frozen=True)
class BusinessCalendar:
    """When a team is open: weekly hours in `timezone`, minus public holidays and `closed_dates`.

    `hours` maps a weekday (0=Monday ... 6=Sunday, as `date.weekday()`) to its opening intervals; a missing
    key or an empty tuple means closed all day. The calendar must be open on at least one weekday.
    """

    timezone: str
    hours: Mapping[int, tuple[Interval, ...]]
    closed_dates: frozenset[date] = field(default_factory=frozenset)
    holiday_country: str = ""
    holiday_subdivision: str = ""

    def __post_init__(self) -> None:
        _check_timezone(self.timezone)
        _check_holiday_region(self.holiday_country, self.holiday_subdivision)
        # Frozen means frozen: copy the inputs into read-only shapes the caller cannot change later.
        object.__setattr__(self, "hours", _normalise_hours(self.hours))
        object.__setattr__(self, "closed_dates", frozenset(self.closed_dates))
        object.__setattr__(self, "_days", {})  # each day's opening intervals, once worked out (_day_intervals)

    def __hash__(self) -> int:
        # The generated __hash__ would fail on the `hours` mapping; hash its items instead.
        hours = tuple(self.hours.items())
        return hash((self.timezone, hours, self.closed_dates, self.holiday_country, self.holiday_subdivision))

    @classmethod
    def standard(
        cls,
        timezone: str,
        *,
        start: time = time(9),
        end: time = time(17),
        weekdays: Iterable[int] = range(5),
        holiday_country: str = "",
        holiday_subdivision: str = "",
        closed_dates: Iterable[date] = (),
    ) -> BusinessCalendar:
        """Build a calendar open from `start` to `end` on each of `weekdays` (Monday to Friday by default)."""
        return cls(
            timezone=timezone,
            hours=dict.fromkeys(weekdays, ((start, end),)),
            closed_dates=frozenset(closed_dates),
            holiday_country=holiday_country,
            holiday_subdivision=holiday_subdivision,
        )

    def is_open(self, at: datetime) -> bool:
        """Whether the instant `at` falls inside an opening interval."""
        at = _as_utc(at, "at")
        opens_at, _ = next(self._open_intervals(at, until=at), (None, None))
        return opens_at == at

    def next_opening(self, at: datetime) -> datetime:
        """The first instant at or after `at` when the calendar is open (`at` itself if open now)."""
        at = _as_utc(at, "at")
        opens_at, _ = next(self._open_intervals(at))
        return opens_at

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """The instant at which `duration` of business time has elapsed, counting from `start`.

        Counting begins at the next opening when `start` is outside business hours.
        """
        if duration < timedelta(0):
            raise ValueError(f"duration must not be negative, got {duration}")
        remaining = duration
        for opens_at, closes_at in self._open_intervals(_as_utc(start, "start")):
            if remaining <= closes_at - opens_at:
                return opens_at + remaining
            remaining -= closes_at - opens_at
        raise AssertionError("unreachable: _open_intervals never ends without an upper bound")

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """The business time elapsed from `start` to `end`; zero when `end` is not after `start`.

        Never negative: for "breached 2h ago" pass the instants the other way round,
        `business_time_between(due_at, now)`.
        """
        start, end = _as_utc(start, "start"), _as_utc(end, "end")
        total = timedelta(0)
        if end <= start:
            return total
        for opens_at, closes_at in self._open_intervals(start, until=end):
            if opens_at >= end:
                break
            total += min(closes_at, end) - opens_at
        return total

    def open_intervals(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The opening intervals between `start` and `end` as sorted UTC pairs, clipped to both ends.

        For clients that count business time themselves (the inbox's live countdowns).
        """
        start, end = _as_utc(start, "start"), _as_utc(end, "end")
        return [
            (opens_at, min(closes_at, end))
            for opens_at, closes_at in self._open_intervals(start, until=end)
            if opens_at < end
        ]

    def _open_intervals(self, since: datetime, until: datetime | None = None) -> Iterator[tuple[datetime, datetime]]:
        """Yield the opening intervals after `since` as sorted, disjoint UTC pairs, the first clipped to `since`.

        Stops after the local day that follows `until`, if given; otherwise raises ValueError after
        `_MAX_CLOSED_DAYS` days in a row without an opening.
        """
        zone = ZoneInfo(self.timezone)
        day = since.astimezone(zone).date()
        last_day = date.max if until is None else until.astimezone(zone).date() + _ONE_DAY
        closed_days = 0
        while day <= last_day:
            closed_days += 1
            for opens_at, closes_at in self._day_intervals(day, zone):
                opens_at = max(opens_at, since)
                if closes_at > opens_at:
                    closed_days = 0
                    yield opens_at, closes_at
            if until is None and closed_days > _MAX_CLOSED_DAYS:
                raise ValueError(f"calendar has no opening hours in the {_MAX_CLOSED_DAYS} days before {day}")
            day += _ONE_DAY

    def _day_intervals(self, day: date, zone: ZoneInfo) -> tuple[tuple[datetime, datetime], ...]:
        # A day's intervals never change (nor do the hours, closures and zone rules they come from), and the
        # list pages keep one calendar per team for the process (handoff.selectors): each view asks for the same
        # few days again, each worked out once.
        days: dict[date, tuple[tuple[datetime, datetime], ...]] = self._days  # type: ignore[attr-defined]
        intervals = days.get(day)
        if intervals is None:
            if len(days) >= _DAYS_KEPT:
                days.clear()
            intervals = days[day] = self._work_out_day_intervals(day, zone)
        return intervals

    def _work_out_day_intervals(self, day: date, zone: ZoneInfo) -> tuple[tuple[datetime, datetime], ...]:
        if self._is_closed_all_day(day):
            return ()
        return tuple(
            (_wall_to_utc(day, opens, zone), _wall_to_utc(day + _ONE_DAY if closes == MIDNIGHT else day, closes, zone))
            for opens, closes in self.hours.get(day.weekday(), ())
        )

    def _is_closed_all_day(self, day: date) -> bool:
        if day in self.closed_dates:
            return True
        return bool(self.holiday_country) and day in _public_holidays(
            self.holiday_country, self.holiday_subdivision, day.year
        )


@functools.lru_cache(maxsize=256)
def _public_holidays(country: str, subdivision: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, subdiv=subdivision or None, years=year).keys())


def _wall_to_utc(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall time: the first occurrence if ambiguous, the clock jump if skipped."""
    local = datetime.combine(day, wall.replace(fold=0), tzinfo=zone)
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
        return instant
    # `local` falls in a spring-forward gap: fold=0 read it with the old offset (after the jump) and fold=1
    # with the new one (before it). The jump itself lies between them.
    return _transition_between(local.replace(fold=1).astimezone(UTC), instant, zone)


def _transition_between(before: datetime, after: datetime, zone: ZoneInfo) -> datetime:
    """The first instant in (before, after] whose UTC offset in `zone` differs from the offset at `before`."""
    offset_before = before.astimezone(zone).utcoffset()
    while after - before > _ONE_MICROSECOND:
        middle = before + (after - before) // 2
        if middle.astimezone(zone).utcoffset() == offset_before:
            before = middle
        else:
            after = middle
    return after


def _as_utc(value: datetime, name: str) -> datetime:
    # Same-zone aware datetimes compare by wall time and ignore fold, so all maths happens in UTC.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _check_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown timezone {name!r}") from error


def _check_holiday_region(country: str, subdivision: str) -> None:
    if subdivision and not country:
        raise ValueError("holiday_subdivision needs a holiday_country")
    if country:
        try:
            holidays.country_holidays(country, subdiv=subdivision or None)
        except NotImplementedError as error:
            raise ValueError(str(error)) from error


def _normalise_hours(hours: Mapping[int, Iterable[Interval]]) -> Mapping[int, tuple[Interval, ...]]:
    """Check the opening intervals and return them sorted, per weekday, in a read-only mapping."""
    normalised: dict[int, tuple[Interval, ...]] = {}
    for weekday, intervals in sorted(hours.items()):
        if weekday not in range(7):
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), got {weekday}")
        ordered = tuple(sorted((opens, closes) for opens, closes in intervals))
        previous_close: time | None = None
        for opens, closes in ordered:
            if opens.tzinfo is not None or closes.tzinfo is not None:
                raise ValueError("opening hours are wall times in the calendar's timezone; drop the tzinfo")
            if closes != MIDNIGHT and closes <= opens:
                raise ValueError(f"interval {opens}-{closes} must close after it opens")
            if previous_close is not None and (previous_close == MIDNIGHT or opens < previous_close):
                raise ValueError(f"intervals on weekday {weekday} overlap at {opens}")
            previous_close = closes
        if ordered:
            normalised[weekday] = ordered
    if not normalised:
        raise ValueError("calendar is never open: give at least one weekday some opening hours")
    return MappingProxyType(normalised)
