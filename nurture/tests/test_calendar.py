"""Business days and daytime in a lead's calendar (pure code, no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from nurture import calendar

WINDOW = {"send_from": time(9), "send_until": time(17)}


def _calendar(country: str = "GB", *, fallback: str = "UTC") -> calendar.SendCalendar:
    return calendar.for_lead(country=country, timezone=fallback, holiday_country="", **WINDOW)


def test_a_lead_takes_its_countrys_time_zone_and_holidays() -> None:
    assert _calendar("DE") == calendar.SendCalendar("Europe/Berlin", "DE", time(9), time(17))


def test_a_lead_without_a_country_takes_the_tracks_time_zone() -> None:
    assert _calendar("", fallback="America/Chicago").timezone == "America/Chicago"


def test_business_days_skip_weekends_and_public_holidays() -> None:
    # Friday 3 April 2026 is Good Friday and Monday 6 April Easter Monday, public holidays all over Germany.
    assert _calendar("DE").add_business_days(date(2026, 4, 2), 1) == date(2026, 4, 7)


def test_zero_days_from_a_saturday_is_the_next_monday() -> None:
    assert _calendar().add_business_days(date(2026, 3, 7), 0) == date(2026, 3, 9)


def test_the_next_send_time_after_the_window_is_the_next_business_morning() -> None:
    friday_evening = datetime(2026, 3, 6, 18, 0, tzinfo=UTC)

    assert _calendar().next_send_time(friday_evening) == datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


def test_the_window_is_local_time_across_a_dst_change() -> None:
    # London is on summer time (UTC+1) from 29 March 2026: 9:00 local is 8:00 UTC.
    assert _calendar().next_send_time(datetime(2026, 3, 30, 7, 0, tzinfo=UTC)) == datetime(
        2026, 3, 30, 8, 0, tzinfo=UTC
    )


def test_a_step_due_today_waits_for_the_window_but_not_for_tomorrow() -> None:
    assert _calendar().due_after(datetime(2026, 3, 2, 7, 0, tzinfo=UTC), 0) == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert _calendar().due_after(datetime(2026, 3, 2, 11, 0, tzinfo=UTC), 0) == datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
