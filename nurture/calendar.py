"""When a lead may get a nurture email: business days and daytime in the lead's own calendar (pure code).

A lead's calendar is its country's: the time zone the tz database lists first for the country (its
capital's, mostly: America/New_York for the US) and the country's public holidays (``holidays``).
Without a country the track's time zone and holiday country stand in. Weekends (Saturday, Sunday) are
never business days.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import TZPATH, ZoneInfo, ZoneInfoNotFoundError

import holidays


@dataclass(frozen=True)
class SendCalendar:
    timezone: str
    holiday_country: str
    send_from: time
    send_until: time

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.timezone)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in _public_holidays(self.holiday_country, day.year)

    def add_business_days(self, day: date, days: int) -> date:
        """The business day ``days`` business days after ``day`` (``day`` itself, or the next one, for 0)."""
        while not self.is_business_day(day):
            day += timedelta(days=1)
        for _ in range(days):
            day += timedelta(days=1)
            while not self.is_business_day(day):
                day += timedelta(days=1)
        return day

    def window_start(self, day: date) -> datetime:
        return datetime.combine(day, self.send_from, tzinfo=self.zone)

    def due_after(self, start: datetime, days: int) -> datetime:
        """When a step ``days`` business days after ``start`` may go out: that day's window opens, or later."""
        local = start.astimezone(self.zone)
        due_day = self.add_business_days(local.date(), days)
        due = max(self.window_start(due_day), local) if due_day == local.date() else self.window_start(due_day)
        return self.next_send_time(due)

    def is_send_time(self, at: datetime) -> bool:
        local = at.astimezone(self.zone)
        return self.is_business_day(local.date()) and self.send_from <= local.time() < self.send_until

    def next_send_time(self, at: datetime) -> datetime:
        """``at`` if it falls in a sending window, else when the next window opens."""
        if self.is_send_time(at):
            return at
        local = at.astimezone(self.zone)
        day = local.date()
        if self.is_business_day(day) and local.time() < self.send_from:
            return self.window_start(day)
        return self.window_start(self.add_business_days(day + timedelta(days=1), 0))


def for_lead(*, country: str, timezone: str, holiday_country: str, send_from: time, send_until: time) -> SendCalendar:
    """The calendar of a lead in ``country`` (may be blank), with the track's fallbacks and window."""
    country = (country or "").upper()
    zone = _country_zones().get(country) or timezone
    holiday = country if is_valid_holiday_country(country) else holiday_country
    return SendCalendar(timezone=zone, holiday_country=holiday, send_from=send_from, send_until=send_until)


def is_valid_timezone(name: str) -> bool:
    try:
        _zone(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def is_valid_holiday_country(country: str) -> bool:
    return bool(country) and country.upper() in holidays.list_supported_countries()


@functools.cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@functools.cache
def _public_holidays(country: str, year: int) -> frozenset[date]:
    if not country:
        return frozenset()
    try:
        return frozenset(holidays.country_holidays(country, years=year))
    except NotImplementedError:
        return frozenset()


@functools.cache
def _country_zones() -> dict[str, str]:
    """Country code -> its first zone in the tz database's zone.tab (empty when the file is missing)."""
    zones: dict[str, str] = {}
    for directory in TZPATH:
        path = Path(directory) / "zone.tab"
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            if line.startswith("#") or not line.strip():
                continue
            code, _coordinates, zone, *_ = line.split("\t")
            zones.setdefault(code, zone)
        break
    return zones
