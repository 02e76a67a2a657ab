"""Set-based scoring statements over many leads: the rules as materialised CTEs, then an UPDATE or a preview.

    WITH scoring_raw AS MATERIALIZED (    -- the costly part, once per lead and rule
        SELECT id, <raw points of rule 0> AS r0, <does disqualifier 1 match> AS r1, …
        FROM leads_lead WHERE <batch>),
    scoring_s AS MATERIALIZED (           -- whole points, and the reasons of the rules that fired
        SELECT id, <r0 rounded and capped> AS p0, r1 AS p1, …, CASE WHEN p0 <> 0 THEN <reason> END AS x0, …
        FROM scoring_raw JOIN leads_lead ON leads_lead.id = scoring_raw.id)
    UPDATE leads_lead SET fit_score = p0 + …, engagement_score = …, score = …, score_breakdown = '[…]', scored_at = %s
    FROM scoring_s WHERE leads_lead.id = scoring_s.id

An activity rule's subquery runs once per lead; totals and the breakdown are arithmetic over columns.
MATERIALIZED stops SQLite and PostgreSQL from inlining a CTE and running a rule again wherever its
column is used, and the levels keep each expression shallow (SQLite's parser has a small stack).
The expressions of each rule kind live in ``scoring.sql``; this module only assembles them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import or_
from typing import Any

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    DateTimeField,
    Expression,
    F,
    FloatField,
    IntegerField,
    JSONField,
    Q,
    QuerySet,
    TextField,
    When,
)
from django.db.models import Value as V
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, JSONObject, Least
from django.db.models.lookups import Exact, GreaterThan, LessThan

from leads.models import Lead
from scoring import baseline, rules, thresholds
from scoring.selectors import Scoring
from scoring.sql import SQL_KINDS, SqlContext, SqlKind
from scoring.sqlfuncs import Joined, NotNullText, TrimTrailing, is_true

RAW = "scoring_raw"
SCORED = "scoring_s"
MOVES = "scoring_m"
BUCKET_WIDTH = 10  # score histogram buckets: below 0, 0 to 9, 10 to 19, …


@dataclass(frozen=True)
class _Rule:
    index: int
    spec: rules.RuleSpec
    kind: SqlKind

    @property
    def is_disqualifier(self) -> bool:
        return self.kind.is_disqualifier


@dataclass(frozen=True)
class StageMove:
    lead_id: int
    from_stage: str
    to_stage: str


@dataclass(frozen=True)
class MoveCount:
    """How many leads of a score bucket would move from one stage to another (preview rows)."""

    bucket_after: int
    bucket_before: int
    from_stage: str
    to_stage: str
    count: int


class ScoringSql:
    """One scoring model's rules as SQL, at one instant."""

    def __init__(self, scoring: Scoring, *, now: datetime) -> None:
        self.scoring = scoring
        self.now = now
        self.ctx = SqlContext(now=now, half_life_days=scoring.spec.half_life_days)
        missing = sorted({spec.kind for spec in scoring.rule_specs} - set(SQL_KINDS))
        if missing:
            raise LookupError(f"Rule kinds without a SQL version in scoring/sql.py: {', '.join(missing)}.")
        self.rules = [_Rule(i, spec, SQL_KINDS[spec.kind]) for i, spec in enumerate(scoring.rule_specs)]

    # --- Statements ------------------------------------------------------------------------------

    def update_scores(self, leads: QuerySet[Lead]) -> int:
        """Score `leads` in one UPDATE; returns how many rows it wrote.

        Only rows whose score, parts or breakdown change are written (and get a new ``scored_at``), and
        those never scored: rewriting an unchanged row costs the most on PostgreSQL (a new row version
        and an entry in every index of the lead table), and most rows do not change in a decay pass.
        """
        scores = {
            "fit_score": self._dimension_total(rules.FIT),
            "engagement_score": self._dimension_total(rules.ENGAGEMENT),
            "score": self._total(),
        }
        compiler = _Compiler()
        table, ctes, cte_params = _quote(Lead._meta.db_table), *self._ctes(leads, with_reasons=True)
        breakdown = self._breakdown()
        sets = [f"{_quote(name)} = {compiler.compile(value)}" for name, value in scores.items()]
        sets.append(f"{_quote('score_breakdown')} = {compiler.compile(Cast(breakdown, JSONField()))}")
        sets.append(f"{_quote('scored_at')} = {compiler.compile(V(self.now, output_field=DateTimeField()))}")
        changed = [f"{table}.{_quote(name)} <> {compiler.compile(value)}" for name, value in scores.items()]
        changed.append(_json_differs(f"{table}.{_quote('score_breakdown')}", compiler.compile(breakdown)))
        changed.append(f"{table}.{_quote('scored_at')} IS NULL")
        statement = (
            f"{ctes} UPDATE {table} SET {', '.join(sets)} FROM {_quote(SCORED)} "
            f"WHERE {table}.{_quote('id')} = {_quote(SCORED)}.{_quote('id')} AND ({' OR '.join(changed)})"
        )
        with connection.cursor() as cursor:
            cursor.execute(statement, [*cte_params, *compiler.params])
            if connection.vendor == "sqlite":
                # Python's sqlite3 reports no rowcount for a statement that starts with WITH.
                cursor.execute("SELECT changes()")
                return cursor.fetchone()[0]
            return cursor.rowcount

    def stage_moves(self, leads: QuerySet[Lead]) -> list[StageMove]:
        """The unassigned leads whose stored score (or a disqualifier) moves them to another stage.

        A lead parked in nurture at ``self.now`` is not promoted (see ``scoring.thresholds``).
        """
        disqualifying = [r.kind.matches(r.spec, self.ctx) for r in self._disqualifiers(only_disqualifying=True)]
        candidates = (
            leads.filter(owner__isnull=True, stage__in=thresholds.MARKETING_STAGES)
            .order_by()
            .annotate(
                m_disqualified=_flag(reduce(or_, disqualifying) if disqualifying else thresholds.NEVER),
                m_baseline=_flag(baseline.present_q(self.scoring.baseline_fields)),
                m_parked=_flag(thresholds.parked_q(now=self.now)),
            )
            .values("id", "stage", "score", "m_disqualified", "m_baseline", "m_parked")
        )
        moves = thresholds.target_stage_sql(
            stage=_column("stage", TextField(), table=MOVES),
            is_owned=thresholds.NEVER,
            is_parked=is_true(_column("m_parked", BooleanField(), table=MOVES)),
            total=_column("score", IntegerField(), table=MOVES),
            is_disqualified=is_true(_column("m_disqualified", BooleanField(), table=MOVES)),
            has_baseline=is_true(_column("m_baseline", BooleanField(), table=MOVES)),
            spec=self.scoring.spec,
        )
        compiler = _Compiler()
        target = compiler.compile(moves)
        candidates_sql, candidates_params = candidates.query.sql_with_params()
        moves_table, id_ = _quote(MOVES), _quote("id")
        # The candidates are materialised so that each disqualifier is evaluated once per lead.
        statement = (
            f"WITH {moves_table} AS MATERIALIZED ({candidates_sql}) SELECT {moves_table}.{id_}, "
            f"{moves_table}.{_quote('stage')}, {target} FROM {moves_table} ORDER BY 1"
        )
        with connection.cursor() as cursor:
            cursor.execute(statement, [*candidates_params, *compiler.params])
            rows = cursor.fetchall()
        return [StageMove(lead_id, stage, to) for lead_id, stage, to in rows if to not in ("", thresholds.HELD)]

    def preview(self, leads: QuerySet[Lead]) -> list[MoveCount]:
        """For each (new score bucket, stored score bucket, stage, target stage): how many leads."""
        extra = {
            "s_stage": F("stage"),
            "s_owned": _flag(Q(owner__isnull=False)),
            "s_baseline": _flag(baseline.present_q(self.scoring.baseline_fields)),
            "s_parked": _flag(thresholds.parked_q(now=self.now)),
            "s_score": F("score"),
        }
        total = self._total()
        target = thresholds.target_stage_sql(
            stage=_column("s_stage", TextField()),
            is_owned=is_true(_column("s_owned", BooleanField())),
            is_parked=is_true(_column("s_parked", BooleanField())),
            total=total,
            is_disqualified=self._is_disqualified(),
            has_baseline=is_true(_column("s_baseline", BooleanField())),
            spec=self.scoring.spec,
        )
        compiler = _Compiler()
        columns = [_bucket(total), _bucket(_column("s_score", IntegerField())), _column("s_stage", TextField()), target]
        selects = ", ".join(compiler.compile(column) for column in columns)
        ctes, cte_params = self._ctes(leads, with_reasons=False, **extra)
        statement = f"{ctes} SELECT {selects}, COUNT(*) FROM {_quote(SCORED)} GROUP BY 1, 2, 3, 4"
        with connection.cursor() as cursor:
            cursor.execute(statement, [*cte_params, *compiler.params])
            rows = cursor.fetchall()
        counts: Counter[tuple[int, int, str, str]] = Counter()
        for after, before, stage, to_stage, count in rows:
            counts[int(after), int(before), stage, to_stage] += count
        return [MoveCount(*key, count) for key, count in sorted(counts.items())]

    # --- The two CTEs ----------------------------------------------------------------------------

    def _ctes(self, leads: QuerySet[Lead], *, with_reasons: bool, **extra: Any) -> tuple[str, list[Any]]:
        raw_sql, raw_params = self._raw(leads, **extra).query.sql_with_params()
        compiler = _Compiler()
        columns = [f"{_quote(RAW)}.{_quote('id')} AS {_quote('id')}"]
        for rule in self.rules:
            raw = _column(f"r{rule.index}", BooleanField() if rule.is_disqualifier else FloatField(), table=RAW)
            points = raw if rule.is_disqualifier else rule.kind.points(raw, rule.spec)
            columns.append(f"{compiler.compile(points)} AS {_quote(f'p{rule.index}')}")
            if with_reasons:
                columns.append(f"{compiler.compile(self._reason(rule, points))} AS {_quote(f'x{rule.index}')}")
        columns += [f"{_quote(RAW)}.{_quote(name)} AS {_quote(name)}" for name in extra]
        table = _quote(Lead._meta.db_table)
        source = f"{_quote(RAW)} INNER JOIN {table} ON {table}.{_quote('id')} = {_quote(RAW)}.{_quote('id')}"
        scored_from = source if with_reasons else _quote(RAW)
        ctes = (
            f"WITH {_quote(RAW)} AS MATERIALIZED ({raw_sql}), "
            f"{_quote(SCORED)} AS MATERIALIZED (SELECT {', '.join(columns)} FROM {scored_from})"
        )
        return ctes, [*raw_params, *compiler.params]

    def _raw(self, leads: QuerySet[Lead], **extra: Any) -> QuerySet[Lead]:
        """One row per lead: its id, each rule's raw points or whether it matches (r0, r1, …), and `extra`."""
        per_rule: dict[str, Any] = {}
        for rule in self.rules:
            if rule.is_disqualifier:
                matches = rule.kind.matches(rule.spec, self.ctx)
                value = _flag(matches)
            else:
                value = rule.kind.raw_points(rule.spec, self.ctx)
            per_rule[f"r{rule.index}"] = value
        return leads.order_by().annotate(**per_rule, **extra).values("id", *per_rule, *extra)

    def _reason(self, rule: _Rule, points: Expression) -> Expression:
        """The rule's reason for the leads it fired for, NULL for the others (computed only when needed)."""
        fired = is_true(points) if rule.is_disqualifier else ~Q(Exact(points, 0))
        reason = rule.kind.reason(rule.spec, self.ctx)
        return Case(When(fired, then=reason), default=V(None), output_field=TextField())

    # --- Totals over the columns of scoring_s -----------------------------------------------------

    def _points(self, rule: _Rule) -> Expression:
        return _column(f"p{rule.index}", IntegerField())

    def _dimension_total(self, dimension: str) -> Expression:
        parts = [self._points(r) for r in self.rules if not r.is_disqualifier and r.spec.dimension == dimension]
        return reduce(lambda a, b: a + b, parts) if parts else V(0)

    def _disqualifiers(self, *, only_disqualifying: bool) -> list[_Rule]:
        return [
            r
            for r in self.rules
            if r.is_disqualifier and (not only_disqualifying or r.spec.params["effect"] == rules.EFFECT_DISQUALIFY)
        ]

    def _total(self) -> Expression:
        points = self._dimension_total(rules.FIT) + self._dimension_total(rules.ENGAGEMENT)
        floors = [
            Case(
                When(self._matched(r), then=V(rules.floor_score(r.spec.params))),
                default=points,
                output_field=IntegerField(),
            )
            for r in self._disqualifiers(only_disqualifying=False)
        ]
        # Least, not a plain floor: a disqualifier never raises a score already below its floor.
        return Least(points, *floors, output_field=IntegerField()) if floors else points

    def _is_disqualified(self) -> Q:
        conditions = [self._matched(r) for r in self._disqualifiers(only_disqualifying=True)]
        return reduce(or_, conditions) if conditions else thresholds.NEVER

    def _matched(self, rule: _Rule) -> Q:
        return is_true(_column(f"p{rule.index}", BooleanField()))

    def _breakdown(self) -> Expression:
        """The score breakdown as JSON text: one object per rule that gave points or matched, in rule order."""
        pieces = [self._breakdown_item(rule) for rule in self.rules]
        if not pieces:
            return V("[]")
        return Joined("[", TrimTrailing(Joined(*pieces), V(",")), "]")

    def _breakdown_item(self, rule: _Rule) -> Expression:
        reason = _column(f"x{rule.index}", TextField())
        if rule.is_disqualifier:
            fired, points = self._matched(rule), V(0)
        else:
            points = self._points(rule)
            fired = ~Q(Exact(points, 0))
            sign = Case(When(Q(GreaterThan(points, 0)), then=V("+")), default=V(""), output_field=TextField())
            reason = Joined(NotNullText(reason), " (", NotNullText(sign), points, ")")
        item = JSONObject(
            rule_id=V(rule.spec.id, output_field=IntegerField()),
            name=V(rule.spec.name),
            kind=V(rule.spec.kind),
            dimension=V(rule.spec.dimension),
            points=points,
            reason=reason,
        )
        return NotNullText(Case(When(fired, then=Joined(item, ",")), default=V(""), output_field=TextField()))


def _column(name: str, output_field: Any, *, table: str = SCORED) -> RawSQL:
    return RawSQL(f"{_quote(table)}.{_quote(name)}", (), output_field=output_field)


def _flag(condition: Q) -> Case:
    return Case(When(condition, then=V(True)), default=V(False), output_field=BooleanField())


def _bucket(score: Expression) -> Expression:
    """The lower bound of the score's bucket; every negative score shares the bucket -BUCKET_WIDTH."""
    return Case(
        When(Q(LessThan(score, 0)), then=V(-BUCKET_WIDTH)),
        default=score / V(BUCKET_WIDTH) * V(BUCKET_WIDTH),
        output_field=IntegerField(),
    )


def _json_differs(column: str, text: str) -> str:
    """Whether the stored JSON differs from the JSON text, whatever spacing Python or SQL wrote it with."""
    if connection.vendor == "postgresql":
        return f"{column} IS DISTINCT FROM CAST({text} AS jsonb)"
    return f"json({column}) IS NOT json({text})"


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


class _Compiler:
    """Compiles expressions for the statements around the CTEs, where the lead table is `leads_lead`."""

    def __init__(self) -> None:
        self.query = Lead.objects.all().query
        self.query.get_initial_alias()
        self.compiler = self.query.get_compiler(connection=connection)
        self.params: list[Any] = []

    def compile(self, expression: Any) -> str:
        resolved = expression.resolve_expression(self.query, allow_joins=False, reuse=None, summarize=False)
        sql, params = self.compiler.compile(resolved)
        self.params.extend(params)
        return sql
