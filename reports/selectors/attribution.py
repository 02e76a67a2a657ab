"""How much credit each channel gets for the leads, MQLs and SQLs under four attribution models.

Every lead hands out one credit in total:

- **first touch**: all of it to the lead's first meaningful touch (the denormalised ``first_touch_*``
  fields, which honour managers' corrections); read from the lead table alone.
- **last touch**: all of it to the last touch of the lead's path.
- **linear**: an equal share to every touch of the path.
- **position-based (40/20/40)**: one touch takes 100%, two take 50% each; with three or more the first
  and the last take 40% each and the touches between share the remaining 20% evenly.

A lead's *path* is its meaningful touches (bare direct visits are left out unless one is the lead's
first touch), starting with its first touch, the others in time order. For MQLs the path stops at the
lead's first move to MQL, for SQLs at its first move to SQL (a touch after the conversion did not
cause it); leads in a stage without a recorded stage change keep their whole path.

The three path models are one query: running and total counts over the touches partitioned by lead
(``ROW_NUMBER()``, ``SUM(...) OVER``), then a GROUP BY channel summing each touch's credit — never a
loop over leads. Leads with no path at all are shown as "(none)" under every model, so each column
adds up to the number of leads (MQLs, SQLs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet

from leads.models import Lead, Stage, StageChange, Touch
from reports.selectors.base import Column, ReportScope, Table, compiled
from reports.selectors.outcomes import Outcome, Totals, grand_totals, totals_by
from reports.selectors.volume import channel_label

# The position-based shares (settings ATTRIBUTION_POSITION_FIRST_PERCENT and _LAST_PERCENT; 40/20/40 by default).
_FIRST, _LAST = settings.ATTRIBUTION_POSITION_FIRST_PERCENT, settings.ATTRIBUTION_POSITION_LAST_PERCENT
POSITION_LABEL = f"{_FIRST}/{100 - _FIRST - _LAST}/{_LAST}"
MODELS = (
    ("first", "First touch"),
    ("last", "Last touch"),
    ("linear", "Linear"),
    ("position", f"Position {POSITION_LABEL}"),
)
SHORT_LABELS = {"first": "First", "last": "Last", "linear": "Linear", "position": POSITION_LABEL}
MEASURES = (("leads", "Leads"), ("mqls", "MQLs"), ("sqls", "SQLs"))


def _credit_sums(on: str, pos: str, n: str) -> str:
    """SQL summing last-touch, linear and position-based credit over the touches where ``on`` holds."""
    return f"""
           SUM(CASE WHEN {on} AND {pos} = {n} THEN 1.0 ELSE 0.0 END),
           SUM(CASE WHEN {on} THEN 1.0 / {n} ELSE 0.0 END),
           SUM(CASE WHEN NOT ({on}) THEN 0.0 WHEN {n} = 1 THEN 1.0 WHEN {n} = 2 THEN 0.5
                    WHEN {pos} = 1 THEN {_FIRST / 100} WHEN {pos} = {n} THEN {_LAST / 100}
                    ELSE {(100 - _FIRST - _LAST) / 100} / ({n} - 2) END)"""


def _path_position(running: str) -> str:
    """A touch's place in the path (first touch first, the rest in time order) from its place in time order."""
    return f"CASE WHEN is_first = 1 THEN 1 WHEN before_first = 1 THEN {running} + 1 ELSE {running} END"


# One pass of window functions in time order (which the (lead, occurred_at) index already gives), and
# no correlated subqueries: the stage-change milestones are grouped once and joined. ``groups`` are
# columns of the lead CTE to group by besides the touch's channel (the rollups add the team and campaign).
def path_credit_sql(groups: tuple[str, ...] = ()) -> str:
    """The path models' credit per touch channel (and per ``groups`` columns of the leads), to ``.format``
    with ``leads`` (a query of id, first_touch_id, first_touch_at, stage and the ``groups``), ``touch`` and
    ``stage_change`` (table names)."""
    lead_columns = "".join(f", l.{name} AS g_{name}" for name in groups)
    carried = "".join(f", g_{name}" for name in groups)
    return f"""
    WITH l AS ({{leads}}),
    milestones AS (
        SELECT lead_id, MIN(changed_at) AS mql_at,
               MIN(CASE WHEN to_stage = '{Stage.SQL}' THEN changed_at END) AS sql_at
        FROM {{stage_change}}
        WHERE to_stage IN ('{Stage.MQL}', '{Stage.SQL}') AND lead_id IN (SELECT id FROM l)
        GROUP BY lead_id
    ),
    path AS (
        SELECT t.lead_id, t.occurred_at, t.id, t.channel{lead_columns},
               CASE WHEN l.stage IN ('{Stage.MQL}', '{Stage.SQL}') OR m.mql_at IS NOT NULL THEN 1 ELSE 0 END AS is_mql,
               CASE WHEN l.stage = '{Stage.SQL}' OR m.sql_at IS NOT NULL THEN 1 ELSE 0 END AS is_sql,
               CASE WHEN t.id = l.first_touch_id THEN 1 ELSE 0 END AS is_first,
               CASE WHEN l.first_touch_id IS NOT NULL
                         AND (t.occurred_at < l.first_touch_at
                              OR (t.occurred_at = l.first_touch_at AND t.id < l.first_touch_id)) THEN 1 ELSE 0 END
                   AS before_first,
               CASE WHEN m.mql_at IS NULL OR t.occurred_at <= m.mql_at OR t.id = l.first_touch_id
                    THEN 1 ELSE 0 END AS in_mql,
               CASE WHEN m.sql_at IS NULL OR t.occurred_at <= m.sql_at OR t.id = l.first_touch_id
                    THEN 1 ELSE 0 END AS in_sql
        FROM {{touch}} t
        JOIN l ON l.id = t.lead_id
        LEFT JOIN milestones m ON m.lead_id = t.lead_id
        WHERE t.is_meaningful OR t.id = l.first_touch_id
    ),
    ranked AS (
        SELECT channel{carried}, is_mql, is_sql, in_mql, in_sql, is_first, before_first,
               ROW_NUMBER() OVER upto AS p, COUNT(*) OVER whole AS n,
               SUM(in_mql) OVER upto AS p_mql, SUM(in_mql) OVER whole AS n_mql,
               SUM(in_sql) OVER upto AS p_sql, SUM(in_sql) OVER whole AS n_sql
        FROM path
        WINDOW in_time AS (PARTITION BY lead_id ORDER BY occurred_at, id),
               upto AS (in_time ROWS UNBOUNDED PRECEDING),
               whole AS (in_time ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
    ),
    positioned AS (
        SELECT channel{carried}, is_mql, is_sql, in_mql, in_sql, n, n_mql, n_sql,
               {_path_position("p")} AS pos,
               {_path_position("p_mql")} AS pos_mql,
               {_path_position("p_sql")} AS pos_sql
        FROM ranked
    )
    SELECT channel,{_credit_sums("1 = 1", "pos", "n")},{_credit_sums("is_mql = 1 AND in_mql = 1", "pos_mql", "n_mql")},
           {_credit_sums("is_sql = 1 AND in_sql = 1", "pos_sql", "n_sql")}{carried}
    FROM positioned
    GROUP BY channel{carried}
"""


PATH_CREDIT_SQL = path_credit_sql()


@dataclass(frozen=True)
class PathCredit:
    """Credit one channel gets from the path models, per measure: (last, linear, position)."""

    channel: str
    leads: tuple[float, float, float]
    mqls: tuple[float, float, float]
    sqls: tuple[float, float, float]


def path_credit_rows(leads: QuerySet[Lead], groups: tuple[str, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of (channel, leads' last, linear, position, the same for MQLs and SQLs, then the ``groups``).

    As the database driver returns them: the credits are floats on SQLite and Decimals on PostgreSQL."""
    leads_sql, params = compiled(leads.values("id", "first_touch_id", "first_touch_at", "stage", *groups))
    sql = path_credit_sql(groups).format(
        leads=leads_sql, touch=Touch._meta.db_table, stage_change=StageChange._meta.db_table
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def path_credits(scope: ReportScope) -> list[PathCredit]:
    rows = path_credit_rows(scope.leads)
    return [
        PathCredit(
            channel=row[0],
            leads=_floats(row[1:4]),
            mqls=_floats(row[4:7]),
            sqls=_floats(row[7:10]),
        )
        for row in rows
    ]


def _floats(values: Sequence[float | Decimal | None]) -> tuple[float, float, float]:
    first, second, third = (float(value or 0) for value in values)
    return first, second, third


def attribution_credits(outcomes: list[Outcome], paths: list[PathCredit]) -> dict[str, dict[str, dict[str, float]]]:
    """channel -> measure -> model -> credit, with a "" channel for leads no model could credit."""
    first = totals_by(outcomes, lambda outcome: outcome.channel)
    credits: dict[str, dict[str, dict[str, float]]] = {}
    for channel, totals in first.items():
        for measure, _ in MEASURES:
            _slot(credits, str(channel), measure)["first"] = float(getattr(totals, measure))
    for path in paths:
        for measure, _ in MEASURES:
            last, linear, position = getattr(path, measure)
            _slot(credits, path.channel, measure).update(last=last, linear=linear, position=position)
    _credit_the_rest_to_none(credits, grand_totals(outcomes))
    return credits


def _slot(credits: dict[str, dict[str, dict[str, float]]], channel: str, measure: str) -> dict[str, float]:
    by_measure = credits.setdefault(channel, {m: dict.fromkeys([k for k, _ in MODELS], 0.0) for m, _ in MEASURES})
    return by_measure[measure]


def _credit_the_rest_to_none(credits: dict[str, dict[str, dict[str, float]]], total: Totals) -> None:
    for measure, _ in MEASURES:
        for model, _ in MODELS:
            given = sum(by_measure[measure][model] for channel, by_measure in credits.items() if channel)
            rest = round(getattr(total, measure) - given, 6)
            if rest > 0:
                _slot(credits, "", measure)[model] = rest


def attribution_table(outcomes: list[Outcome], paths: list[PathCredit]) -> Table:
    credits = attribution_credits(outcomes, paths)
    channels = sorted(credits, key=lambda c: (c == "", -credits[c]["leads"]["first"], channel_label(c)))
    credit_rows = [[credits[channel][m][model] for m, _ in MEASURES for model, _ in MODELS] for channel in channels]
    rows = [(channel_label(channel), *values) for channel, values in zip(channels, credit_rows, strict=True)]
    if rows:
        rows.append(("All channels", *(sum(column) for column in zip(*credit_rows, strict=True))))
    columns = [
        Column("channel", "Channel"),
        *(Column(f"{m}_{model}", SHORT_LABELS[model], "credit", group=measure_label) for m, measure_label in MEASURES
          for model, _ in MODELS),
    ]  # fmt: skip
    chart = {
        "labels": [channel_label(channel) for channel in channels],
        "measures": {
            m: [{"label": label, "data": [round(credits[c][m][model], 2) for c in channels]} for model, label in MODELS]
            for m, _ in MEASURES
        },
    }
    return Table(
        key="attribution",
        title="Attribution by channel: first, last, linear and position-based",
        columns=columns,
        rows=rows,
        chart=chart,
        has_total_row=True,
        note="Each lead gives one credit in total; position-based gives 40% to the first and the last touch "
        "and shares 20% among the touches between.",
    )
