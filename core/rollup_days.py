"""Day arithmetic shared by the per-day rollups (``reports.rollups``, ``scoring.effectiveness_rollups``).

A rollup day is a lead's creation date in the rollup's time zone: UTC for the rule-effectiveness rollups (their
page counts UTC days), the site's ``TIME_ZONE`` for the report rollups (the report's date filter gives local
days). A change to a lead of an older day marks that day for the next refresh; a change to today's or yesterday's
lead marks nothing (``is_recent``), since every refresh recomputes the days from two before its last run's day
(``recent_days``) anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from django.db.models import Model, QuerySet

SQLITE_PARAMETERS = 500  # at most this many values in one ``IN (…)``: SQLite caps the parameters of a statement


def day_of(instant: datetime, *, zone: tzinfo = UTC) -> date:
    """The rollup day of an instant: its date in ``zone``, the day whose ``day_bounds`` hold it.

    The two differ only where the clocks went back across midnight (Newfoundland until 2010): the repeated hour
    of the day before lies after the next day's midnight, and counts on that next day, as a filter from midnight
    to midnight counts it.
    """
    day = instant.astimezone(zone).date()
    if not is_utc(zone) and instant >= day_bounds(day, day, zone=zone)[1]:
        return day + timedelta(days=1)
    return day


def is_utc(zone: tzinfo) -> bool:
    """Python's UTC, or the zone named UTC (Django's default zone on a site whose ``TIME_ZONE`` is UTC)."""
    return zone is UTC or getattr(zone, "key", None) == "UTC"


def day_bounds(first_day: date, last_day: date, *, zone: tzinfo = UTC) -> tuple[datetime, datetime]:
    """The instants [start, end) of the days ``first_day`` to ``last_day`` in ``zone``, both included: from
    midnight to midnight, so a day in a zone with summer time may last 23 or 25 hours."""
    start = datetime.combine(first_day, time.min, tzinfo=zone).astimezone(UTC)
    return start, datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)


RECENT_DAYS = 2  # a refresh recomputes the days from this many before its last run's day, marked or not


def is_recent(instant: datetime, *, now: datetime, zone: tzinfo = UTC) -> bool:
    """Whether a lead created at ``instant`` is on a day every refresh recomputes anyway (today, yesterday).

    One day fewer than a refresh recomputes (``recent_days``), so a writer whose ``now`` lags a refresh across
    midnight is covered: it read 23:59:59 and marked nothing for a lead of the day before, then committed after the
    first refresh of the new day had counted that day; the next refresh counts it again, from two days before the
    new day (its last run's).
    """
    return day_of(instant, zone=zone) >= day_of(now, zone=zone) - timedelta(days=1)


def recent_days(*, refreshed_at: datetime, now: datetime, zone: tzinfo = UTC) -> list[date]:
    """The days a refresh at ``now`` recomputes whether marked or not, after a last run at ``refreshed_at``: from
    ``RECENT_DAYS`` before that run's day up to today, the days ``is_recent`` leaves unmarked and one more."""
    return days_between(day_of(refreshed_at, zone=zone) - timedelta(days=RECENT_DAYS), day_of(now, zone=zone))


def days_between(first: date, last: date) -> list[date]:
    """Every day from ``first`` to ``last``, both included."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def delete_where_in(model: type[Model], field: str, values: Iterable[Any]) -> None:
    """Delete the rows of ``model`` whose ``field`` is one of ``values``, a bounded ``IN (…)`` at a time."""
    ordered = list(values)
    for start in range(0, len(ordered), SQLITE_PARAMETERS):
        model._default_manager.filter(**{f"{field}__in": ordered[start : start + SQLITE_PARAMETERS]}).delete()


def days_with(rows: QuerySet[Any], field: str, *, zone: tzinfo = UTC) -> list[date]:
    """The days (in ``zone``) on which ``field`` of at least one of ``rows`` falls, oldest first: one index seek
    per such day, however many rows a day has and however far apart the days are."""
    days: list[date] = []
    instants = rows.order_by(field).values_list(field, flat=True)
    first = instants.first()
    while first is not None:
        days.append(day_of(first, zone=zone))
        first = instants.filter(**{f"{field}__gte": day_bounds(days[-1], days[-1], zone=zone)[1]}).first()
    return days


def delete_days_not_in(models: Iterable[type[Model]], days: Iterable[date]) -> None:
    """Delete the rows of each of ``models`` whose ``day`` is not one of ``days``."""
    kept = set(days)
    for model in models:
        present = model._default_manager.order_by().values_list("day", flat=True).distinct()
        delete_where_in(model, "day", sorted(set(present) - kept))


def build_marks_left(marks: type[Model], *, through: int | None) -> bool:
    """Whether a build in steps has marks of its own left in the ``marks`` table: those up to ``through``, the last
    it wrote (every mark when it recorded none). A change's mark written since is a refresh's usual work, so a busy
    site's build still ends."""
    left = marks._default_manager.all()
    if through is not None:
        left = left.filter(pk__lte=through)
    return left.exists()
