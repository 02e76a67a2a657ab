"""Scoring-rule effectiveness: per rule of the active model, does it pick the leads that become MQLs and SQLs?

For the leads created in a period of whole UTC days, per rule: how many it fired on (the rule is in the lead's
stored ``score_breakdown``, which lists each rule that added points or disqualified), how many of those reached
MQL and SQL against the leads it did not fire on (the lift: the ratio of the two rates), its average points,
and the leads it alone carried over its model's MQL threshold (their score is at or above it, and would be
below it without the rule's points). "Reached MQL/SQL" is the reports' rule (``leads.selectors``): in that
stage or beyond now, or ever moved there (``StageChange``), so a lead sales rejected later still counts.

Every count is exact. The page reads them from per-day rollups (``EffectivenessDay``, ``RuleDayRollup``),
summed over the period's days: a few hundred small rows whatever the number of leads. The rollups are
kept current by ``scoring.effectiveness_rollups`` (marks written with each stored score and stage change,
refreshed every minute), which computes each day with ``count_days`` below, the same query this module
runs live over a period when the rollups were never built. ``count_days`` counts in the database without
loading a lead into Python: the breakdown JSON is expanded per lead with ``json_each`` (SQLite) or
``jsonb_array_elements`` (PostgreSQL) and grouped by creation day and rule id.

A suggested change in points is offered only where the data is strong enough: the rule adds points, at
least ``MIN_SAMPLE`` leads on each side, and the SQL rates differ by a two-proportion z-test at the 95 %
level. The suggestion scales the points by the SQL lift, kept between half and double: a rule whose leads
become SQLs twice as often as the rest earns up to twice its points. SQL is the outcome used, not MQL,
because a rule's points themselves push its leads over the MQL threshold. The marketer previews it with the
existing what-if (``scoring.services.whatif.preview_rule_change``) before saving the rule in admin.

Caveats the page states: the breakdown is the lead's latest scoring, so a rule added or changed recently
has fired only on the leads scored since; and correlation is not cause.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import connection
from django.db.models import Case, IntegerField, Sum, Value, When

from core.rollup_days import day_bounds
from leads import selectors
from leads.models import Lead
from scoring.models import EffectivenessDay, EffectivenessState, RuleDayRollup, ScoringModel, ScoringRule

MIN_SAMPLE = 30  # leads on each side (fired, not fired) before a change in points is suggested
Z_95 = 1.96
LIFT_BOUNDS = (0.5, 2.0)  # a suggestion at most halves or doubles the points


@dataclass(frozen=True)
class Totals:
    leads: int
    reached_mql: int
    reached_sql: int

    def __add__(self, other: Totals) -> Totals:
        return Totals(self.leads + other.leads, self.reached_mql + other.reached_mql,
                      self.reached_sql + other.reached_sql)  # fmt: skip


@dataclass(frozen=True)
class RuleCounts:
    """What the database counted for one rule among a period's (or a day's) leads."""

    fired: int
    reached_mql: int
    reached_sql: int
    points_sum: int
    carried_over_threshold: int

    def __add__(self, other: RuleCounts) -> RuleCounts:
        return RuleCounts(*(mine + theirs for mine, theirs in zip(self._values(), other._values(), strict=True)))

    def _values(self) -> tuple[int, int, int, int, int]:
        return self.fired, self.reached_mql, self.reached_sql, self.points_sum, self.carried_over_threshold


NO_COUNTS = RuleCounts(0, 0, 0, 0, 0)


@dataclass(frozen=True)
class DayRuleCounts:
    """One rule's counts among the leads created on ``day``; ``carried`` against ``mql_threshold``."""

    day: date
    rule_id: int
    mql_threshold: int
    counts: RuleCounts


@dataclass(frozen=True)
class DayCounts:
    """What ``count_days`` found: per creation day, its totals, and per day and rule, the rule's counts."""

    totals: dict[date, Totals]
    rules: list[DayRuleCounts]


@dataclass(frozen=True)
class RuleEffectiveness:
    rule: ScoringRule
    fired: int
    not_fired: int
    mql_rate_fired: float | None
    mql_rate_not_fired: float | None
    sql_rate_fired: float | None
    sql_rate_not_fired: float | None
    average_points: float | None
    carried_over_threshold: int
    suggested_points: int | None
    z_sql: float | None

    @property
    def mql_lift(self) -> float | None:
        return _ratio(self.mql_rate_fired, self.mql_rate_not_fired)

    @property
    def sql_lift(self) -> float | None:
        return _ratio(self.sql_rate_fired, self.sql_rate_not_fired)

    @property
    def sample_size(self) -> str:
        """The leads the rates rest on: what a suggestion's strength depends on."""
        return f"{self.fired} fired / {self.not_fired} not"


@dataclass(frozen=True)
class Effectiveness:
    model: ScoringModel
    first_day: date
    last_day: date
    totals: Totals
    rules: list[RuleEffectiveness]
    counted_at: datetime | None = None  # the rollups' last refresh; None: counted live, now


def rule_effectiveness(*, model: ScoringModel, first_day: date, last_day: date) -> Effectiveness:
    """The effectiveness of each active rule of ``model`` over the leads created from ``first_day`` to
    ``last_day`` (UTC days, both included): from the rollups once built, else counted live."""
    rules = list(model.rules.filter(is_active=True).order_by("order", "id"))
    state = EffectivenessState.objects.filter(rebuilt_at__isnull=False).first()
    if state is not None:
        totals, counts = _rolled_up(first_day=first_day, last_day=last_day, rule_ids=[rule.pk for rule in rules])
    else:
        totals, counts = _counted_live(first_day=first_day, last_day=last_day)
    rows = [_effectiveness(rule, counts.get(rule.pk, NO_COUNTS), totals) for rule in rules]
    counted_at = state.refreshed_at if state is not None else None
    return Effectiveness(model, first_day, last_day, totals, rows, counted_at=counted_at)


def _rolled_up(*, first_day: date, last_day: date, rule_ids: list[int]) -> tuple[Totals, dict[int, RuleCounts]]:
    """The period's totals and the rules' counts, summed over the days' rollup rows."""
    days = EffectivenessDay.objects.filter(day__gte=first_day, day__lte=last_day)
    sums = days.aggregate(leads=Sum("leads"), mql=Sum("reached_mql"), sql=Sum("reached_sql"))
    totals = Totals(int(sums["leads"] or 0), int(sums["mql"] or 0), int(sums["sql"] or 0))
    rows = (
        RuleDayRollup.objects.filter(day__gte=first_day, day__lte=last_day, rule_id__in=rule_ids)
        .values("rule_id")
        .annotate(
            f=Sum("fired"), m=Sum("reached_mql"), s=Sum("reached_sql"), p=Sum("points"), c=Sum("carried_over_threshold")
        )
        .values_list("rule_id", "f", "m", "s", "p", "c")
        .order_by()
    )
    return totals, {rule_id: RuleCounts(*map(int, values)) for rule_id, *values in rows}


def _counted_live(*, first_day: date, last_day: date) -> tuple[Totals, dict[int, RuleCounts]]:
    """The period's totals and each rule's counts, computed from the leads now (the rollups' own query)."""
    start, end = day_bounds(first_day, last_day)
    found = count_days(start=start, end=end)
    totals = sum(found.totals.values(), Totals(0, 0, 0))
    counts: dict[int, RuleCounts] = defaultdict(lambda: NO_COUNTS)
    for row in found.rules:
        counts[row.rule_id] += row.counts
    return totals, counts


def count_days(*, start: datetime, end: datetime) -> DayCounts:
    """Per UTC creation day of the leads created in [start, end): the totals, and per rule id listed in their
    stored breakdowns (of a rule that still exists), its counts. One query; no lead is loaded into Python."""
    leads_sql, leads_params = _period_leads_sql(start=start, end=end)
    with connection.cursor() as cursor:
        cursor.execute(_counts_sql(leads_sql), leads_params)
        rows = cursor.fetchall()
    totals: dict[date, Totals] = {}
    rules = []
    for day, rule_id, threshold, fired, m, s, p, c in rows:
        day = day if isinstance(day, date) else date.fromisoformat(day)
        if rule_id is None:  # a day's totals row
            totals[day] = Totals(leads=int(fired), reached_mql=int(m or 0), reached_sql=int(s or 0))
        else:
            counts = RuleCounts(int(fired), int(m or 0), int(s or 0), int(p or 0), int(c or 0))
            rules.append(DayRuleCounts(day=day, rule_id=int(rule_id), mql_threshold=int(threshold), counts=counts))
    return DayCounts(totals=totals, rules=rules)


def _period_leads_sql(*, start: datetime, end: datetime) -> tuple[str, tuple[Any, ...]]:
    mql_now, mql_ever = selectors.reached_mql()
    sql_now, sql_ever = selectors.reached_sql()
    reached_mql, reached_sql = mql_now | mql_ever, sql_now | sql_ever
    leads = (
        Lead.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(is_mql=Case(When(reached_mql, then=Value(1)), default=Value(0), output_field=IntegerField()))
        .annotate(is_sql=Case(When(reached_sql, then=Value(1)), default=Value(0), output_field=IntegerField()))
        .values("created_at", "score", "score_breakdown", "is_mql", "is_sql")
        .order_by()
    )
    sql, params = leads.query.sql_with_params()
    return sql, tuple(params)


def _counts_sql(leads_sql: str) -> str:
    """Per day and rule id: the rule's model's threshold, fired, reached MQL, reached SQL, points, carried over
    that threshold; then per day a totals row (rule id NULL). Parameters: the leads query's.

    Each lead's day and flags are computed once (``l``) and each breakdown item's rule id and points read once
    (``f``): reading the JSON is the cost, so no expression reads it twice. Items of a deleted rule are left out.
    The day is the database's own expression, not Django's ``TruncDate``: on SQLite that is a Python function
    called per row, which made counting a year several times slower.
    """
    if connection.vendor == "postgresql":
        day = "(q.created_at AT TIME ZONE 'UTC')::date"
        items = "jsonb_array_elements(CASE WHEN jsonb_typeof(l.score_breakdown) = 'array' THEN l.score_breakdown ELSE '[]'::jsonb END)"  # noqa: E501
        rule_id, points = "(e.value ->> 'rule_id')::bigint", "COALESCE((e.value ->> 'points')::int, 0)"
        source = f"l CROSS JOIN LATERAL {items} AS e(value)"
        where = "jsonb_typeof(e.value -> 'rule_id') = 'number'"
    else:
        day = "substr(q.created_at, 1, 10)"  # stored as UTC text, 'YYYY-MM-DD HH:MM:SS[.ffffff]'
        rule_id, points = "json_extract(e.value, '$.rule_id')", "COALESCE(json_extract(e.value, '$.points'), 0)"
        source = "l, json_each(CASE WHEN json_type(l.score_breakdown) = 'array' THEN l.score_breakdown ELSE '[]' END) e"
        where = "e.type = 'object'"
    rule, model = ScoringRule._meta.db_table, ScoringModel._meta.db_table
    return (
        f"WITH l AS MATERIALIZED (SELECT {day} AS day, q.score, q.score_breakdown, q.is_mql, q.is_sql "
        f"FROM ({leads_sql}) q), "
        f"f AS MATERIALIZED (SELECT l.day, l.score, l.is_mql, l.is_sql, {rule_id} AS rule_id, {points} AS points "
        f"FROM {source} WHERE {where}) "
        "SELECT f.day, f.rule_id, m.mql_threshold, COUNT(*), SUM(f.is_mql), SUM(f.is_sql), SUM(f.points), "
        "SUM(CASE WHEN f.points > 0 AND f.score >= m.mql_threshold AND f.score - f.points < m.mql_threshold "
        "THEN 1 ELSE 0 END) "
        f"FROM f JOIN {rule} r ON r.id = f.rule_id JOIN {model} m ON m.id = r.scoring_model_id "
        "GROUP BY f.day, f.rule_id, m.mql_threshold "
        "UNION ALL SELECT l.day, NULL, NULL, COUNT(*), SUM(l.is_mql), SUM(l.is_sql), 0, 0 FROM l GROUP BY l.day"
    )


def _effectiveness(rule: ScoringRule, counts: RuleCounts, totals: Totals) -> RuleEffectiveness:
    """One rule's row: its rates against the rest of the period's leads, the test and the suggestion."""
    not_fired = totals.leads - counts.fired
    sql_rate_fired = _rate(counts.reached_sql, counts.fired)
    sql_rate_not_fired = _rate(totals.reached_sql - counts.reached_sql, not_fired)
    z = _z_two_proportions(counts.reached_sql, counts.fired, totals.reached_sql - counts.reached_sql, not_fired)
    return RuleEffectiveness(
        rule=rule,
        fired=counts.fired,
        not_fired=not_fired,
        mql_rate_fired=_rate(counts.reached_mql, counts.fired),
        mql_rate_not_fired=_rate(totals.reached_mql - counts.reached_mql, not_fired),
        sql_rate_fired=sql_rate_fired,
        sql_rate_not_fired=sql_rate_not_fired,
        average_points=counts.points_sum / counts.fired if counts.fired else None,
        carried_over_threshold=counts.carried_over_threshold,
        suggested_points=suggest_points(
            points=rule.points,
            fired=counts.fired,
            not_fired=not_fired,
            lift=_ratio(sql_rate_fired, sql_rate_not_fired),
            z=z,
        ),
        z_sql=z,
    )


def suggest_points(*, points: int, fired: int, not_fired: int, lift: float | None, z: float | None) -> int | None:
    """Points scaled by the SQL lift (between half and double), only for a rule adding points on strong data."""
    if points <= 0 or fired < MIN_SAMPLE or not_fired < MIN_SAMPLE or lift is None or z is None or abs(z) < Z_95:
        return None
    low, high = LIFT_BOUNDS
    suggested = round(points * min(max(lift, low), high))
    return suggested if suggested != points else None


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def _z_two_proportions(hits_a: int, n_a: int, hits_b: int, n_b: int) -> float | None:
    """The z statistic of the difference of two proportions (pooled); None when it is undefined."""
    if not n_a or not n_b:
        return None
    pooled = (hits_a + hits_b) / (n_a + n_b)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if spread == 0:
        return None
    return (hits_a / n_a - hits_b / n_b) / spread
