"""Writes of the rule-effectiveness rollups: each creation day's rows recomputed whole from the leads of that day.

Why whole days and not deltas: a lead's part in the page (its stored breakdown and score, its stage history)
changes on every rescore and every stage change, and the rule's model's threshold decides what "carried over
the threshold" means. A day is a few thousand leads at a million a year, so recomputing it is one small query
(``scoring.effectiveness.count_days``, the same query the page runs live before the rollups are built), and a
recomputation is a function of what is committed: running it twice, or after a retry, writes the same rows.
``scoring/tests/test_effectiveness_rollups.py`` checks the rollups kept current equal a rebuild from scratch.

What gets recomputed, by ``refresh_rollups`` (every minute, ``scoring.tasks``):

- every day from two days before the last refresh's day up to today (``core.rollup_days.recent_days``, in UTC
  days): new leads are created with ``created_at`` = now and scored within minutes, so neither capture nor the
  pipeline writes anything for this page;
- the days marked in ``EffectivenessDirtyDay``: a change to an older lead adds a mark in the same transaction
  as the change. Scores are stored by ``scoring.services.lead_scoring.rescore_leads`` (one INSERT per batch,
  for the days of the leads whose score changed); stage changes and deleted leads are heard by
  ``scoring.receivers``. The refresh deletes only the marks it read, so a change committed while it runs
  keeps its mark for the next run;
- the days with a rule counted against a threshold its model no longer has (a marketer changed it).

A refresh recomputes at most ``DAYS_PER_REFRESH`` older days (a rescore of every lead marks every day), newest
first, and stops early once its time budget is spent (the task passes ``settings.PIPELINE_TASK_BUDGET``); the
marks of the others stay for the next runs. Refreshes lock the ``EffectivenessState`` row, so two runs never
interleave their DELETE and INSERT of the same day.

The first build is a refresh too: the first run marks every day that has leads
(``_begin_build``) and the refreshes work through those marks within their budget, without the
``DAYS_PER_REFRESH`` cap; a year at a million leads is too much for one task. ``rebuilt_at`` is set once none of
the build's own marks is left (``build_marks_through``: a busy site keeps marking days), and until then the page
counts live and says how many days the build has still to count (``rollup_freshness``). ``manage.py
rebuild_rule_effectiveness`` (``rebuild_rollups``) builds every day in one go.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import F, Max

from core.budget import time_is_up_after
from core.rollup_days import (
    build_marks_left,
    day_bounds,
    day_of,
    days_between,
    days_with,
    delete_days_not_in,
    delete_where_in,
    is_recent,
    recent_days,
)
from leads.models import Lead
from scoring.effectiveness import count_days
from scoring.models import EffectivenessDay, EffectivenessDirtyDay, EffectivenessState, RuleDayRollup

MARKS_PER_REFRESH = 5_000
DAYS_PER_REFRESH = 60  # older days (marked or stale) recomputed by one refresh, well inside the task timeout
DAYS_PER_QUERY = 3  # consecutive days counted in one query and written in one transaction (SQLite: one write lock)


def mark_days_changed(*, created: Iterable[datetime], now: datetime) -> None:
    """Note that leads created at the instants ``created`` changed: one mark per older day, none for recent days.

    Call it inside the transaction of the change, so the marks commit (or roll back) with it.
    """
    days = sorted({day_of(instant) for instant in created if not is_recent(instant, now=now)})
    if days:
        EffectivenessDirtyDay.objects.bulk_create([EffectivenessDirtyDay(day=day) for day in days])


def recompute_days(*, first_day: date, last_day: date) -> None:
    """Replace the rollups of the days ``first_day`` to ``last_day`` with what their leads give now."""
    start, end = day_bounds(first_day, last_day)
    days = {"day__gte": first_day, "day__lte": last_day}
    with transaction.atomic():
        # One refresh at a time, and the count taken under the lock: a run that counted before another
        # wrote must not write its older numbers after it.
        list(EffectivenessState.objects.select_for_update().values_list("pk"))
        found = count_days(start=start, end=end)
        EffectivenessDay.objects.filter(**days).delete()
        RuleDayRollup.objects.filter(**days).delete()
        EffectivenessDay.objects.bulk_create(
            EffectivenessDay(day=day, leads=t.leads, reached_mql=t.reached_mql, reached_sql=t.reached_sql)
            for day, t in found.totals.items()
        )
        RuleDayRollup.objects.bulk_create(
            (
                RuleDayRollup(day=row.day, rule_id=row.rule_id, mql_threshold=row.mql_threshold,
                              fired=row.counts.fired, reached_mql=row.counts.reached_mql,
                              reached_sql=row.counts.reached_sql, points=row.counts.points_sum,
                              carried_over_threshold=row.counts.carried_over_threshold)
                for row in found.rules
            ),
            batch_size=500,
        )  # fmt: skip


def refresh_rollups(
    *, now: datetime, clock: Callable[[], datetime] | None = None, budget: timedelta | None = None
) -> int:
    """Recompute the recent, the marked and the stale days; returns how many days were recomputed.

    The recent days always; then the older ones newest first, a run of days at a time, until none is left,
    ``DAYS_PER_REFRESH`` are done (once built) or ``budget`` is spent by ``clock``. The first call begins the
    first build (``_begin_build``), which the calls after go on with; the build is done once none of its marks is left.
    """
    state = _begin_build(now=now)
    assert state.refreshed_at is not None
    is_building = state.rebuilt_at is None
    marks = list(EffectivenessDirtyDay.objects.order_by("pk").values_list("pk", "day")[:MARKS_PER_REFRESH])
    recent = set(recent_days(refreshed_at=state.refreshed_at, now=now))
    older = sorted(({day for _, day in marks} | _days_with_another_threshold()) - recent, reverse=True)
    done = _recompute(
        recent=sorted(recent),
        older=older if is_building else older[:DAYS_PER_REFRESH],
        time_is_up=time_is_up_after(budget=budget, clock=clock or (lambda: now)),
    )
    delete_where_in(EffectivenessDirtyDay, "pk", (pk for pk, day in marks if day in done))
    EffectivenessState.objects.filter(pk=state.pk, refreshed_at__lt=now).update(refreshed_at=now)
    built = not build_marks_left(EffectivenessDirtyDay, through=state.build_marks_through)
    if is_building and built and not _days_with_another_threshold():
        EffectivenessState.objects.filter(pk=state.pk, rebuilt_at__isnull=True).update(rebuilt_at=now)
    return len(done)


def _begin_build(*, now: datetime) -> EffectivenessState:
    """The state of the rollups; the first call (no refresh yet) marks every day that has leads.

    Every change after this instant (``refreshed_at``) to a lead of an older day marks its day, as always,
    so the marked days and the recent ones are all the refreshes have to count.
    """
    state = EffectivenessState.objects.first()
    if state is not None and state.refreshed_at is not None:
        return state
    with transaction.atomic():
        pk = (state or EffectivenessState.objects.create()).pk
        state = EffectivenessState.objects.select_for_update().get(pk=pk)
        if state.refreshed_at is None:  # not begun by another run meanwhile
            days = _lead_days()
            delete_days_not_in((EffectivenessDay, RuleDayRollup), days)
            EffectivenessDirtyDay.objects.bulk_create(EffectivenessDirtyDay(day=day) for day in days)
            state.refreshed_at = now
            state.build_marks_through = EffectivenessDirtyDay.objects.aggregate(last=Max("pk"))["last"]
            state.save(update_fields=["refreshed_at", "build_marks_through"])
    return state


def _recompute(*, recent: list[date], older: list[date], time_is_up: Callable[[], bool]) -> set[date]:
    """Recompute the ``recent`` days, then the ``older`` ones (newest first) until the time is up; the days done.

    At least one run of older days per call, so a refresh whose budget the recent days spent still gets on.
    """
    done: set[date] = set()
    for first, last in _runs(recent):
        recompute_days(first_day=first, last_day=last)
        done.update(days_between(first, last))
    for first, last in _runs(older, newest_first=True):
        recompute_days(first_day=first, last_day=last)
        done.update(days_between(first, last))
        if time_is_up():
            break
    return done


def rebuild_rollups(*, now: datetime) -> int:
    """Recompute every day that has leads and drop the rows of any other day; returns the days.

    Each run of days is replaced in a transaction of its own, so the page keeps reading whole days meanwhile.
    All in one call: ``manage.py rebuild_rule_effectiveness`` runs it; the scheduled refresh builds in steps.
    """
    state = EffectivenessState.objects.first() or EffectivenessState.objects.create()
    marks = list(EffectivenessDirtyDay.objects.values_list("pk", flat=True))
    days = _lead_days()
    for first, last in _runs(days):
        recompute_days(first_day=first, last_day=last)
    delete_days_not_in((EffectivenessDay, RuleDayRollup), days)
    delete_where_in(EffectivenessDirtyDay, "pk", marks)
    EffectivenessState.objects.filter(pk=state.pk).update(refreshed_at=now, rebuilt_at=now)
    return len(days)


def _lead_days() -> list[date]:
    """The UTC days on which at least one lead was created: one index seek each."""
    return days_with(Lead.objects.all(), "created_at")


@dataclass(frozen=True)
class RollupFreshness:
    """How complete the rollups are, for the page: still being built, and how many days are left to count."""

    is_building: bool
    days_to_count: int  # the older days changed since the last refresh (or, while building, not counted yet)


def rollup_freshness() -> RollupFreshness:
    state = EffectivenessState.objects.first()
    is_building = state is not None and state.refreshed_at is not None and state.rebuilt_at is None
    days = EffectivenessDirtyDay.objects.values("day").distinct().count() if state is not None else 0
    return RollupFreshness(is_building=is_building, days_to_count=days)


def _days_with_another_threshold() -> set[date]:
    """The days with a rule counted against a threshold its model no longer has."""
    stale = RuleDayRollup.objects.exclude(mql_threshold=F("rule__scoring_model__mql_threshold"))
    return set(stale.values_list("day", flat=True).distinct())


def _runs(days: list[date], *, newest_first: bool = False) -> Iterator[tuple[date, date]]:
    """The sorted ``days`` (oldest first, or newest first) as (first, last) runs of consecutive days, each at
    most ``DAYS_PER_QUERY`` long, in the same order."""
    step = timedelta(days=-1 if newest_first else 1)
    run: list[date] = []
    for day in days:
        if run and (day - run[-1] != step or len(run) == DAYS_PER_QUERY):
            yield min(run), max(run)
            run = []
        run.append(day)
    if run:
        yield min(run), max(run)
