"""The report's numbers read from the rollups (``reports.rollups``): sums over a few thousand day rows.

Each function gives the same shape as its live counterpart (``lead_outcomes``, ``volume_counts``,
``stage_medians``, ``path_credits``), so the tables are built by the same code either way.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import QuerySet, Sum

from handoff.models import Team
from reports.models import (
    CreditDayRollup,
    LeadDayRollup,
    MilestoneDayRollup,
    RollupDirtyDay,
    RollupState,
    SLADayRollup,
)
from reports.selectors.attribution import PathCredit
from reports.selectors.base import RollupFilter
from reports.selectors.funnel import StageMedians
from reports.selectors.outcomes import Outcome


def rollup_state() -> RollupState | None:
    """The rollups' state, or None until their first build has finished, or while they count the days of another
    time zone than the site's (the report then reads live)."""
    return RollupState.objects.filter(rebuilt_at__isnull=False, zone=settings.TIME_ZONE).first()


def build_progress() -> int | None:
    """While the refresh works through a build in steps (``reports.rollups``), how many days it has still to
    count; otherwise None."""
    state = RollupState.objects.first()
    if state is None or state.build_begun_at is None:
        return None
    return marked_days()


def marked_days() -> int:
    """How many days are marked for the refresh: changes to older leads it has not counted yet, which the rollups'
    ``refreshed_at`` does not cover (a refresh whose budget ran out leaves the marks of the days it did not count)."""
    return RollupDirtyDay.objects.values("day").distinct().count()


def _rows(model: type, rollup: RollupFilter) -> QuerySet:
    rows = model.objects.filter(form=rollup.form).order_by()  # type: ignore[attr-defined]
    if rollup.day_from is not None:
        rows = rows.filter(day__gte=rollup.day_from)
    if rollup.day_to is not None:
        rows = rows.filter(day__lte=rollup.day_to)
    if rollup.campaign:
        rows = rows.filter(campaign=rollup.campaign)
    if rollup.team:
        rows = rows.filter(team=rollup.team)
    return rows


def rollup_outcomes(rollup: RollupFilter) -> list[Outcome]:
    rows = (
        _rows(LeadDayRollup, rollup)
        .values_list("source", "campaign", "channel")
        .annotate(leads=Sum("leads"), mqls=Sum("mqls"), sqls=Sum("sqls"))
    )
    return [Outcome(*row) for row in rows]


def rollup_volume_counts(rollup: RollupFilter, *, period: str, volume_by: str) -> list[tuple[date, str, int]]:
    """(period start, channel or source, leads), as ``volume_counts`` gives them."""
    dimension = "channel" if volume_by == "channel" else "source"
    rows = _rows(LeadDayRollup, rollup).values_list("day", dimension).annotate(leads=Sum("leads"))
    counts: dict[tuple[date, str], int] = defaultdict(int)
    for day, value, leads in rows:
        counts[(_period_start(day, period), value)] += leads
    return [(start, value, leads) for (start, value), leads in counts.items()]


def _period_start(day: date, period: str) -> date:
    return day - timedelta(days=day.weekday()) if period == "week" else day.replace(day=1)


def rollup_medians(rollup: RollupFilter) -> StageMedians:
    rows = _rows(MilestoneDayRollup, rollup)
    hours = []
    for step in ("mql", "sql"):
        counts = rows.filter(step=step).values_list("seconds").annotate(n=Sum("leads")).order_by("seconds")
        middle = median_of_counts(list(counts))
        hours.append(None if middle is None else middle / 3600)
    return StageMedians(*hours)


def median_of_counts(counts: list[tuple[float, int]]) -> float | None:
    """The median of values given as sorted (value, how many): the middle one, or the mean of the two middle
    ones, as ``PERCENTILE_CONT(0.5)`` (and the live SQLite query) gives it."""
    total = sum(n for _, n in counts)
    if not total:
        return None
    wanted = sorted({(total + 1) // 2, (total + 2) // 2})  # 1-based positions of the middle value(s)
    found, seen = [], 0
    for value, n in counts:
        seen += n
        while wanted and wanted[0] <= seen:
            found.append(value)
            wanted.pop(0)
        if not wanted:
            break
    return found[0] if len(found) == 1 else (found[0] + found[1]) / 2


def rollup_path_credits(rollup: RollupFilter) -> list[PathCredit]:
    names = [f"{m}_{model}" for m in ("leads", "mqls", "sqls") for model in ("last", "linear", "position")]
    rows = _rows(CreditDayRollup, rollup).values_list("channel").annotate(*(Sum(name) for name in names))
    return [
        PathCredit(channel=row[0], leads=_three(row[1:4]), mqls=_three(row[4:7]), sqls=_three(row[7:10]))
        for row in rows
    ]


def _three(values: tuple[object, ...]) -> tuple[float, float, float]:
    first, second, third = (float(value or 0) for value in values)  # type: ignore[arg-type]
    return first, second, third


def rollup_sla_counts(rollup: RollupFilter) -> list[tuple[object, ...]]:
    """The SLA clocks by rep, sales team and source, as ``reports.selectors.sla`` counts them live: the rep's
    username, first and last name, the team's name, the source, then clocks, met, breached and running."""
    rows = list(
        _rows(SLADayRollup, rollup)
        .values_list("rep_key", "sales_team_key", "source")
        .annotate(clocks=Sum("clocks"), met=Sum("met"), breached=Sum("breached"), running=Sum("running"))
    )
    users = get_user_model().objects.filter(pk__in={row[0] for row in rows})
    reps = {pk: names for pk, *names in users.values_list("pk", "username", "first_name", "last_name")}
    teams = dict(Team.objects.filter(pk__in={row[1] for row in rows}).values_list("pk", "name"))
    return [
        (*reps.get(rep, (None, None, None)), teams.get(team), source, *counts) for rep, team, source, *counts in rows
    ]
