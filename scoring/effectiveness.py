"""Scoring-rule effectiveness: per rule of the active model, does it pick the leads that become MQLs and SQLs?

For the leads created in a period, per rule: how many it fired on (the rule is in the lead's stored
``score_breakdown``, which lists each rule that added points or disqualified), how many of those reached MQL
and SQL against the leads it did not fire on (the lift: the ratio of the two rates), its average points,
and the leads it alone carried over the MQL threshold (their score is at or above it, and would be below
it without the rule's points). "Reached MQL/SQL" is the reports' rule: in that stage or beyond now, or ever
moved there (``StageChange``), so a lead sales rejected later still counts.

Everything is counted in the database, in one query, without loading a lead into Python: the breakdown
JSON is expanded per lead with ``json_each`` (SQLite) or ``jsonb_array_elements`` (PostgreSQL) and grouped
by rule id. Reading each lead's row and its JSON is the cost, so a period with more than ``EXACT_UP_TO``
leads is counted on a systematic sample (every n-th lead by id, picked from the ``created_at`` index, as the
what-if preview samples): the counts are multiplied by n and the page says they are estimates; rates, lifts
and the test behind a suggestion are the sample's own, with its size shown. The work per page is then
bounded by the sample, not the table; ``bench/rule_effectiveness_bench.py`` times it against the floor.
No rollup: the breakdown changes on every rescore, so a rollup would be recomputed whole after each.

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
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Case, F, IntegerField, Value, When

from leads import selectors
from leads.models import Lead
from scoring.models import ScoringModel, ScoringRule

EXACT_UP_TO = 10_000  # leads counted one by one; a period with more is counted on every n-th lead
MIN_SAMPLE = 30  # leads on each side (fired, not fired) before a change in points is suggested
Z_95 = 1.96
LIFT_BOUNDS = (0.5, 2.0)  # a suggestion at most halves or doubles the points


@dataclass(frozen=True)
class Totals:
    leads: int
    reached_mql: int
    reached_sql: int


@dataclass(frozen=True)
class RuleCounts:
    """What the database counted for one rule id among the period's leads."""

    fired: int
    reached_mql: int
    reached_sql: int
    points_sum: int
    carried_over_threshold: int


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
    sample_every: int = 1  # 1: every lead counted; n: every n-th lead, the counts above multiplied by n

    @property
    def mql_lift(self) -> float | None:
        return _ratio(self.mql_rate_fired, self.mql_rate_not_fired)

    @property
    def sql_lift(self) -> float | None:
        return _ratio(self.sql_rate_fired, self.sql_rate_not_fired)

    @property
    def sample_size(self) -> str:
        """The leads the rates rest on (the sample's, when sampled): what a suggestion's strength depends on."""
        every = self.sample_every
        return f"{self.fired // every} fired / {self.not_fired // every} not" + (" sampled" if every > 1 else "")


@dataclass(frozen=True)
class Effectiveness:
    model: ScoringModel
    start: datetime
    end: datetime
    totals: Totals
    rules: list[RuleEffectiveness]
    sample_every: int = 1

    @property
    def is_estimate(self) -> bool:
        return self.sample_every > 1


def rule_effectiveness(*, model: ScoringModel, start: datetime, end: datetime) -> Effectiveness:
    """The effectiveness of each active rule of ``model`` over the leads created in [start, end)."""
    every = sample_every(start=start, end=end)
    totals, counts = count_by_rule(start=start, end=end, threshold=model.mql_threshold, every=every)
    rows = [
        _effectiveness(rule, counts.get(rule.pk, RuleCounts(0, 0, 0, 0, 0)), totals, every=every)
        for rule in model.rules.filter(is_active=True).order_by("order", "id")
    ]
    scaled = Totals(
        leads=totals.leads * every, reached_mql=totals.reached_mql * every, reached_sql=totals.reached_sql * every
    )
    return Effectiveness(model=model, start=start, end=end, totals=scaled, rules=rows, sample_every=every)


def sample_every(*, start: datetime, end: datetime) -> int:
    """1 when the period has at most ``EXACT_UP_TO`` leads; else n, to count every n-th lead (by id)."""
    leads = Lead.objects.filter(created_at__gte=start, created_at__lt=end).count()  # the created_at index alone
    return max(1, math.ceil(leads / EXACT_UP_TO))


def count_by_rule(
    *, start: datetime, end: datetime, threshold: int, every: int = 1
) -> tuple[Totals, dict[int, RuleCounts]]:
    """The period's totals and, per rule id in the stored breakdowns, its counts: one query, no lead loaded.

    With ``every`` > 1, only the leads whose id is a multiple of it are counted (the counts are the sample's).
    """
    leads_sql, leads_params = _period_leads_sql(start=start, end=end, every=every)
    with connection.cursor() as cursor:
        cursor.execute(_counts_sql(leads_sql), (*leads_params, threshold, threshold))
        rows = cursor.fetchall()
    totals = Totals(0, 0, 0)
    counts = {}
    for rule_id, fired, m, s, p, c in rows:
        if rule_id is None:  # the totals row
            totals = Totals(leads=int(fired or 0), reached_mql=int(m or 0), reached_sql=int(s or 0))
        else:
            counts[int(rule_id)] = RuleCounts(int(fired), int(m or 0), int(s or 0), int(p or 0), int(c or 0))
    return totals, counts


def _period_leads_sql(*, start: datetime, end: datetime, every: int) -> tuple[str, tuple[Any, ...]]:
    mql_now, mql_ever = selectors.reached_mql()
    sql_now, sql_ever = selectors.reached_sql()
    reached_mql, reached_sql = mql_now | mql_ever, sql_now | sql_ever
    leads = (
        Lead.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(is_mql=Case(When(reached_mql, then=Value(1)), default=Value(0), output_field=IntegerField()))
        .annotate(is_sql=Case(When(reached_sql, then=Value(1)), default=Value(0), output_field=IntegerField()))
        .values("id", "score", "score_breakdown", "is_mql", "is_sql")
        .order_by()
    )
    if every > 1:
        leads = leads.alias(sample=F("id") % every).filter(sample=0)
    sql, params = leads.query.sql_with_params()
    return sql, tuple(params)


def _counts_sql(leads_sql: str) -> str:
    """Per rule id: fired, reached MQL, reached SQL, points, carried over the threshold; then a totals row (rule
    id NULL). Parameters: the leads query's, then the threshold twice.

    Each lead's flags are computed once (``l``) and each breakdown item's rule id and points read once (``f``):
    reading the JSON is the cost, so no expression reads it twice.
    """
    if connection.vendor == "postgresql":
        items = "jsonb_array_elements(CASE WHEN jsonb_typeof(l.score_breakdown) = 'array' THEN l.score_breakdown ELSE '[]'::jsonb END)"  # noqa: E501
        rule_id, points = "(e.value ->> 'rule_id')::bigint", "COALESCE((e.value ->> 'points')::int, 0)"
        source = f"l CROSS JOIN LATERAL {items} AS e(value)"
        where = "jsonb_typeof(e.value -> 'rule_id') = 'number'"
    else:
        rule_id, points = "json_extract(e.value, '$.rule_id')", "COALESCE(json_extract(e.value, '$.points'), 0)"
        source = "l, json_each(CASE WHEN json_type(l.score_breakdown) = 'array' THEN l.score_breakdown ELSE '[]' END) e"
        where = "e.type = 'object'"
    return (
        f"WITH l AS MATERIALIZED ({leads_sql}), "
        f"f AS MATERIALIZED (SELECT l.score, l.is_mql, l.is_sql, {rule_id} AS rule_id, {points} AS points "
        f"FROM {source} WHERE {where}) "
        "SELECT rule_id, COUNT(*), SUM(is_mql), SUM(is_sql), SUM(points), "
        "SUM(CASE WHEN points > 0 AND score >= %s AND score - points < %s THEN 1 ELSE 0 END) "
        "FROM f WHERE rule_id IS NOT NULL GROUP BY rule_id "
        "UNION ALL SELECT NULL, COUNT(*), SUM(is_mql), SUM(is_sql), 0, 0 FROM l"
    )


def _effectiveness(rule: ScoringRule, counts: RuleCounts, totals: Totals, *, every: int) -> RuleEffectiveness:
    """One rule's row from the (sampled) counts: rates and the test on the sample, counts scaled up by ``every``."""
    not_fired = totals.leads - counts.fired
    sql_rate_fired = _rate(counts.reached_sql, counts.fired)
    sql_rate_not_fired = _rate(totals.reached_sql - counts.reached_sql, not_fired)
    z = _z_two_proportions(counts.reached_sql, counts.fired, totals.reached_sql - counts.reached_sql, not_fired)
    return RuleEffectiveness(
        rule=rule,
        fired=counts.fired * every,
        not_fired=not_fired * every,
        mql_rate_fired=_rate(counts.reached_mql, counts.fired),
        mql_rate_not_fired=_rate(totals.reached_mql - counts.reached_mql, not_fired),
        sql_rate_fired=sql_rate_fired,
        sql_rate_not_fired=sql_rate_not_fired,
        average_points=counts.points_sum / counts.fired if counts.fired else None,
        carried_over_threshold=counts.carried_over_threshold * every,
        suggested_points=suggest_points(
            points=rule.points,
            fired=counts.fired,
            not_fired=not_fired,
            lift=_ratio(sql_rate_fired, sql_rate_not_fired),
            z=z,
        ),
        z_sql=z,
        sample_every=every,
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
