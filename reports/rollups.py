"""Writes of the report rollups: each creation day's rows recomputed whole from the leads of that day.

Why whole days and not deltas: a lead's contribution to the report (its first touch, team, forms, stage
history, path credits) changes in many places, some by ``QuerySet.update()`` that sends no signal. A day is
a few thousand leads at a million a year, so recomputing it is a few small queries, and a recomputation is
a function of what is committed: running it twice, or after a retry, writes the same rows. It uses the same
SQL as the live report (``path_credit_sql``, ``reached_mql``), so both give the same numbers by construction,
and ``reports/tests/test_rollups.py`` checks they do.

What gets recomputed, by ``refresh_rollups`` (every minute, ``reports.tasks``):

- every day from two days before the last refresh's day up to today (``core.rollup_days.recent_days``): new
  leads are created with ``created_at`` = now, so capture writes nothing for the reports (no extra query on the
  capture path), and a change to a lead of today or yesterday marks nothing either. The second day back covers a
  writer that read the clock before midnight and committed after a refresh of the new day had counted its
  yesterday (``core.rollup_days.is_recent``);
- the days marked in ``RollupDirtyDay``: a change to an older lead (a touch, a stage change, a submission,
  a saved lead, a first-touch correction, a routing decision, a logged contact, an erasure) adds a mark in the
  same transaction as the change (``reports.receivers``, ``reports.services``); an assignment and an SLA breach
  mark it when their lead event is heard, after the commit. The marked days are counted newest first until the
  task's time budget is spent (``settings.PIPELINE_TASK_BUDGET``); the refresh deletes only the marks of the
  days it counted, so the others, and a change committed while it runs, wait for the next run.

The first build is a refresh too, because at a million leads it can take longer than a task may run (60-141 s
on SQLite, 193 s on PostgreSQL, against a 120 s timeout; a killed build would start again from nothing every
minute). The first run marks every day that has leads (``_begin_build``) and the runs after count them within
their budget; ``rebuilt_at`` is set once none of those marks is left, and until then the page reads the leads
live and says how many days are left. A site whose rollups predate the SLA rollup is built the same way, its
other tables read from the rollups meanwhile, and so is a site whose ``TIME_ZONE`` changed: a rollup day is a
day in that zone (``RollupState.zone``), the days the report's date filter gives. ``manage.py
rebuild_report_rollups`` (``rebuild_rollups``) builds every day in one go.

Refreshes lock the ``RollupState`` row for each day they rewrite, so two runs never interleave their
DELETE and INSERT of the same day (PostgreSQL; SQLite's IMMEDIATE transactions serialise them anyway).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Max, QuerySet, Value
from django.db.models.functions import Coalesce

from core.budget import time_is_up_after
from core.rollup_days import (
    build_marks_left,
    day_bounds,
    day_of,
    days_with,
    delete_days_not_in,
    delete_where_in,
    is_recent,
    recent_days,
)
from handoff.models import SLARecord
from leads.models import Activity, ActivityKind, CaptureForm, Lead, Stage, StageChange, Submission
from leads.selectors import reached_mql, reached_sql
from reports.models import (
    ALL_FORMS,
    CreditDayRollup,
    LeadDayRollup,
    MilestoneDayRollup,
    RollupDirtyDay,
    RollupState,
    SLADayRollup,
)
from reports.selectors.attribution import path_credit_rows
from reports.selectors.base import compiled, is_postgresql, leads_of_form, report_zone
from reports.selectors.outcomes import count_where
from reports.selectors.sla import clock_counts

ROLLUPS = (LeadDayRollup, CreditDayRollup, MilestoneDayRollup, SLADayRollup)
MARKS_PER_REFRESH = 5_000
STATE_PK = 1  # the one RollupState row: two refreshes beginning a build at once cannot create two
BATCH = 2_000


def mark_day_changed(*, created_at: datetime, now: datetime) -> None:
    """Note that a lead created at ``created_at`` changed; a no-op for a day the next refresh recomputes anyway.

    Call it inside the transaction of the change, so the mark commits (or rolls back) with it.
    """
    zone = report_zone()
    if not is_recent(created_at, now=now, zone=zone):
        RollupDirtyDay.objects.create(day=day_of(created_at, zone=zone))


def mark_days_changed(*, created: Iterable[datetime], now: datetime) -> None:
    """``mark_day_changed`` for a batch of leads created at ``created``: one mark for each day, in one INSERT."""
    zone = report_zone()
    days = sorted({day_of(at, zone=zone) for at in created if not is_recent(at, now=now, zone=zone)})
    RollupDirtyDay.objects.bulk_create(RollupDirtyDay(day=day) for day in days)


# --- Computing one day --------------------------------------------------------------------------------


def recompute_day(*, day: date) -> None:
    """Replace the rollups of ``day`` with what the leads created that day give now."""
    start, end = day_bounds(day, day, zone=report_zone())
    leads = Lead.objects.filter(created_at__gte=start, created_at__lt=end).order_by()
    with transaction.atomic():
        list(RollupState.objects.select_for_update().values_list("pk"))  # one refresh at a time
        for model in ROLLUPS:
            model.objects.filter(day=day).delete()
        for form in (ALL_FORMS, *_forms_submitted(leads)):
            subset = leads if form == ALL_FORMS else leads_of_form(leads, form, few=True)
            LeadDayRollup.objects.bulk_create(_lead_rows(day, form, subset), batch_size=BATCH)
            CreditDayRollup.objects.bulk_create(_credit_rows(day, form, subset), batch_size=BATCH)
            MilestoneDayRollup.objects.bulk_create(_milestone_day_rows(day, form, subset), batch_size=BATCH)
            SLADayRollup.objects.bulk_create(_sla_rows(day, form, subset), batch_size=BATCH)


def _forms_submitted(leads: QuerySet[Lead]) -> list[str]:
    """The slugs of the forms these leads submitted (by submission or form_submitted activity) that exist."""
    submitted = set(Submission.objects.filter(lead__in=leads).values_list("form__slug", flat=True).distinct())
    activities = Activity.objects.filter(lead__in=leads, kind=ActivityKind.FORM_SUBMITTED)
    recorded = {value for value in activities.values_list("metadata__form", flat=True).distinct() if value}
    return sorted(CaptureForm.objects.filter(slug__in=submitted | recorded).values_list("slug", flat=True))


# The rows of one day and form, one function per rollup; ``recompute_day`` writes them in this order.


# The slug of the team routing sent each lead to (handoff's RoutingDecision), else "".
ROUTING_TEAM = Coalesce(F("routing_decision__team__slug"), Value(""))


def _with_team(leads: QuerySet[Lead]) -> QuerySet[Lead]:
    """``leads`` with ``routing_team`` (``ROUTING_TEAM``), for the raw SQL that groups by that column."""
    return leads.annotate(routing_team=ROUTING_TEAM)


def _lead_rows(day: date, form: str, leads: QuerySet[Lead]) -> list[LeadDayRollup]:
    key = {"day": day, "form": form}
    outcomes = (
        leads.values_list(ROUTING_TEAM, "first_touch_source", "first_touch_campaign", "first_touch_channel")
        .annotate(leads=Count("*"), mqls=count_where(reached_mql()), sqls=count_where(reached_sql()))
        .order_by()
    )
    return [
        LeadDayRollup(**key, team=team, source=source, campaign=campaign, channel=channel, leads=n, mqls=m, sqls=s)
        for team, source, campaign, channel, n, m, s in outcomes
    ]


def _credit_rows(day: date, form: str, leads: QuerySet[Lead]) -> list[CreditDayRollup]:
    key = {"day": day, "form": form}
    credits = path_credit_rows(_with_team(leads), groups=("routing_team", "first_touch_campaign"))
    return [
        CreditDayRollup(**key, channel=row[0], **dict(zip(CREDIT_FIELDS, map(_float, row[1:10]), strict=True)),
                        team=row[10], campaign=row[11])
        for row in credits
    ]  # fmt: skip


def _milestone_day_rows(day: date, form: str, leads: QuerySet[Lead]) -> list[MilestoneDayRollup]:
    key = {"day": day, "form": form}
    return [
        MilestoneDayRollup(**key, team=team, campaign=campaign, step=step, seconds=float(seconds), leads=n)
        for team, campaign, step, seconds, n in _milestone_rows(leads)
    ]


def _sla_rows(day: date, form: str, leads: QuerySet[Lead]) -> list[SLADayRollup]:
    key = {"day": day, "form": form}
    records = SLARecord.objects.filter(assignment__lead__in=leads.values("pk")).order_by()
    lead = "assignment__lead__"
    counted = clock_counts(
        records, Coalesce(F(f"{lead}routing_decision__team__slug"), Value("")), f"{lead}first_touch_campaign",
        "assignment__rep_id", "assignment__team_id", f"{lead}first_touch_source",
    )  # fmt: skip
    return [
        SLADayRollup(**key, team=team, campaign=campaign, rep_key=rep, sales_team_key=sales_team, source=source,
                     clocks=clocks, met=met, breached=breached, running=running)
        for team, campaign, rep, sales_team, source, clocks, met, breached, running in counted
    ]  # fmt: skip


CREDIT_FIELDS = tuple(f"{measure}_{model}" for measure in ("leads", "mqls", "sqls")
                      for model in ("last", "linear", "position"))  # fmt: skip


def _float(value: float | Decimal | None) -> float:
    return float(value or 0)


def _seconds(later: str, earlier: str) -> str:
    """The same duration expressions as the live medians (``reports.selectors.funnel``), so the same floats."""
    if is_postgresql():
        return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
    return f"(julianday({later}) - julianday({earlier})) * 86400.0"


def _milestone_rows(leads: QuerySet[Lead]) -> list[tuple[str, str, str, float, int]]:
    """(team, campaign, step, seconds, leads): creation → first MQL, first MQL → first SQL, counted per value."""
    lead_sql, params = compiled(leads.values("id", "created_at", "first_touch_campaign", routing_team=ROUTING_TEAM))
    sql = f"""
        WITH l AS ({lead_sql}),
        m AS (
            SELECT l.routing_team AS team, l.first_touch_campaign AS campaign, l.created_at, ms.mql_at, ms.sql_at
            FROM (
                SELECT lead_id, MIN(changed_at) AS mql_at,
                       MIN(CASE WHEN to_stage = %s THEN changed_at END) AS sql_at
                FROM {StageChange._meta.db_table}
                WHERE to_stage IN (%s, %s) AND lead_id IN (SELECT id FROM l)
                GROUP BY lead_id
            ) ms
            JOIN l ON l.id = ms.lead_id
        )
        SELECT team, campaign, 'mql', {_seconds("mql_at", "created_at")} AS s, COUNT(*)
        FROM m WHERE mql_at IS NOT NULL GROUP BY team, campaign, s
        UNION ALL
        SELECT team, campaign, 'sql', {_seconds("sql_at", "mql_at")} AS s, COUNT(*)
        FROM m WHERE mql_at IS NOT NULL AND sql_at IS NOT NULL GROUP BY team, campaign, s
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, (*params, Stage.SQL, Stage.MQL, Stage.SQL))
        return cursor.fetchall()


# --- Refresh and rebuild --------------------------------------------------------------------------------


def refresh_rollups(
    *, now: datetime, clock: Callable[[], datetime] | None = None, budget: timedelta | None = None
) -> int:
    """Recompute the recent days and the days marked as changed; returns how many days were recomputed.

    The recent days always; then the marked older days, newest first, until none is left or ``budget`` is spent
    by ``clock`` (at least one per call); the marks of the others stay for the next runs. A first build, and the
    build of a site whose rollups predate the SLA rollup or count another time zone's days, is begun here
    (``_begin_build``) and worked through by the calls after; it is done once none of its own marks is left.
    """
    state = _begin_build(now=now)
    marks = list(RollupDirtyDay.objects.order_by("pk").values_list("pk", "day")[:MARKS_PER_REFRESH])
    zone = report_zone()
    recent = recent_days(refreshed_at=state.refreshed_at, now=now, zone=zone)
    older = sorted({day for _, day in marks} - set(recent), reverse=True)
    time_is_up = time_is_up_after(budget=budget, clock=clock or (lambda: now))
    done = set()
    for day in recent:
        recompute_day(day=day)
        done.add(day)
    for day in older:
        recompute_day(day=day)
        done.add(day)
        if time_is_up():
            break
    delete_where_in(RollupDirtyDay, "pk", (pk for pk, day in marks if day in done))
    RollupState.objects.filter(pk=state.pk, refreshed_at__lt=now).update(refreshed_at=now)
    if state.build_begun_at is not None and not build_marks_left(RollupDirtyDay, through=state.build_marks_through):
        _finish_build(pk=state.pk, now=now)
    return len(done)


def _begin_build(*, now: datetime) -> RollupState:
    """The rollups' state; when they were never built, built before the SLA rollup or built in the days of another
    time zone (``TIME_ZONE`` changed), the first call marks every day that has leads for the refreshes to count.

    Every change after this instant to a lead of an older day marks its day, as always, so the marked days and
    the recent ones are all the refreshes have to count. Until the marks are counted the page reads live what
    the rollups cannot answer yet (everything on a first build or a new zone, the SLA table on an upgrade).
    """
    state = RollupState.objects.first()
    if state is not None and not _must_begin(state):
        return state
    days = _lead_days()  # read before the write transaction: a lead created meanwhile is on a recent day
    with transaction.atomic():
        if state is None:
            state, _ = RollupState.objects.get_or_create(pk=STATE_PK, defaults={"refreshed_at": now})
        state = RollupState.objects.select_for_update().get(pk=state.pk)
        if _must_begin(state):  # not begun by another run meanwhile
            if state.zone != settings.TIME_ZONE:  # every day counted again, and the page live until then
                state.zone, state.rebuilt_at, state.sla_rebuilt_at = settings.TIME_ZONE, None, None
            delete_days_not_in(ROLLUPS, days)
            # Newest first: the refreshes read the marks in the order they were written.
            RollupDirtyDay.objects.bulk_create((RollupDirtyDay(day=day) for day in reversed(days)), batch_size=BATCH)
            state.build_begun_at = now
            state.build_marks_through = RollupDirtyDay.objects.aggregate(last=Max("pk"))["last"]
            state.save(update_fields=["zone", "rebuilt_at", "sla_rebuilt_at", "build_begun_at", "build_marks_through"])
    return state


def _must_begin(state: RollupState) -> bool:
    """Whether a build in steps must begin: the rollups need one and none is under way in the site's zone."""
    if state.zone != settings.TIME_ZONE:
        return True
    return state.build_begun_at is None and (state.rebuilt_at is None or state.sla_rebuilt_at is None)


def _finish_build(*, pk: int, now: datetime) -> None:
    state = RollupState.objects.filter(pk=pk)
    state.filter(rebuilt_at__isnull=True).update(rebuilt_at=now)
    state.filter(sla_rebuilt_at__isnull=True).update(sla_rebuilt_at=now)
    state.update(build_begun_at=None, build_marks_through=None)


def _lead_days() -> list[date]:
    """The days (in the report's zone) on which at least one lead was created: one index seek each."""
    return days_with(Lead.objects.all(), "created_at", zone=report_zone())


def rebuild_rollups(*, now: datetime) -> int:
    """Recompute every day that has leads and drop the rows of days that have none; returns the days built.

    Each day is replaced in a transaction of its own, so the page keeps reading whole days meanwhile.
    All in one call: ``manage.py rebuild_report_rollups`` runs it; the scheduled refresh builds in steps.
    """
    marks = list(RollupDirtyDay.objects.values_list("pk", flat=True))
    days = _lead_days()
    for day in days:
        recompute_day(day=day)
    delete_days_not_in(ROLLUPS, days)
    delete_where_in(RollupDirtyDay, "pk", marks)
    built = {"refreshed_at": now, "rebuilt_at": now, "zone": settings.TIME_ZONE, "build_begun_at": None,
             "build_marks_through": None}  # fmt: skip
    state = RollupState.objects.first()
    if state is None:
        state, _ = RollupState.objects.get_or_create(pk=STATE_PK, defaults={**built, "sla_rebuilt_at": now})
    RollupState.objects.filter(pk=state.pk).update(**built)
    RollupState.objects.filter(pk=state.pk, sla_rebuilt_at__isnull=True).update(sla_rebuilt_at=now)
    return len(days)
