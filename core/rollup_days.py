"""Day arithmetic shared by the per-day rollups (``reports.rollups``, ``scoring.effectiveness_rollups``).

A rollup day is a lead's UTC creation date. A change to a lead of an older day marks that day for the next
refresh; today and yesterday are recomputed by every refresh anyway, so changes to them mark nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import Model

SQLITE_PARAMETERS = 500  # at most this many values in one ``IN (…)``: SQLite caps the parameters of a statement


def day_of(instant: datetime) -> date:
    """The rollup day of an instant: its UTC date."""
    return instant.astimezone(UTC).date()


def day_bounds(first_day: date, last_day: date) -> tuple[datetime, datetime]:
    """The instants [start, end) of the UTC days ``first_day`` to ``last_day``, both included."""
    start = datetime.combine(first_day, time.min, tzinfo=UTC)
    return start, datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=UTC)


def is_recent(instant: datetime, *, now: datetime) -> bool:
    """Whether a lead created at ``instant`` is on a day every refresh recomputes anyway (today, yesterday).

    One day fewer than a refresh recomputes: a writer whose ``now`` lags a refresh across midnight is covered.
    """
    return day_of(instant) >= day_of(now) - timedelta(days=1)


def days_between(first: date, last: date) -> list[date]:
    """Every day from ``first`` to ``last``, both included."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def delete_where_in(model: type[Model], field: str, values: Iterable[Any]) -> None:
    """Delete the rows of ``model`` whose ``field`` is one of ``values``, a bounded ``IN (…)`` at a time."""
    ordered = list(values)
    for start in range(0, len(ordered), SQLITE_PARAMETERS):
        model._default_manager.filter(**{f"{field}__in": ordered[start : start + SQLITE_PARAMETERS]}).delete()


def days_to_build(*, first: datetime | None, last: datetime | None, now: datetime) -> list[date]:
    """Every day from the first lead's (created at ``first``) to today, or to the last lead's if later; none
    without a lead (``first`` is None)."""
    if first is None or last is None:
        return []
    return days_between(day_of(first), max(day_of(last), day_of(now)))


def delete_days_outside(models: Iterable[type[Model]], days: list[date]) -> None:
    """Delete the rows of each of ``models`` whose ``day`` is outside ``days`` (the first to the last)."""
    for model in models:
        outside = model._default_manager.all()
        if days:
            outside = outside.exclude(day__gte=days[0], day__lte=days[-1])
        outside.delete()
