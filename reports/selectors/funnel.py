"""The Lead → MQL → SQL funnel: counts, conversion, and the median time each step took.

Times come from the stage changes: a lead's MQL time is its first change to ``mql`` (or straight to
``sql``), its SQL time its first change to ``sql``. "Time as a lead" is creation → MQL time; "time as
an MQL" is MQL time → SQL time (including any detour through nurture). Leads without those stage changes (say, imported
straight into a stage) count in the funnel but not in the medians.

The median is computed in the database: ``PERCENTILE_CONT(0.5)`` on PostgreSQL; on SQLite, which has
no percentile function, the middle row (or the mean of the two middle rows) by ``ROW_NUMBER()`` over
the sorted durations — the same value ``PERCENTILE_CONT(0.5)`` gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection

from leads.models import Stage, StageChange
from reports.selectors.base import Column, ReportScope, Table, compiled, is_postgresql, ratio
from reports.selectors.outcomes import Outcome, grand_totals


@dataclass(frozen=True)
class StageMedians:
    lead_to_mql_hours: float | None
    mql_to_sql_hours: float | None


def _milestones_sql(scope: ReportScope) -> tuple[str, tuple[Any, ...]]:
    """Each lead's creation, first move to MQL (or beyond) and first move to SQL; the stage changes are
    grouped once and then joined to the leads in scope."""
    lead_sql, lead_params = compiled(scope.leads.values("id", "created_at"))
    sql = f"""
        SELECT ms.lead_id, l.created_at, ms.mql_at, ms.sql_at
        FROM (
            SELECT lead_id, MIN(changed_at) AS mql_at, MIN(CASE WHEN to_stage = %s THEN changed_at END) AS sql_at
            FROM {StageChange._meta.db_table} WHERE to_stage IN (%s, %s) GROUP BY lead_id
        ) ms
        JOIN ({lead_sql}) l ON l.id = ms.lead_id
    """
    return sql, (Stage.SQL, Stage.MQL, Stage.SQL, *lead_params)


POSTGRESQL_MEDIANS = """
    WITH m AS ({milestones})
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM (mql_at - created_at))),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM (sql_at - mql_at)))
    FROM m
"""
SQLITE_MEDIANS = """
    WITH m AS ({milestones}),
    a AS (SELECT (julianday(mql_at) - julianday(created_at)) * 86400.0 AS s FROM m WHERE mql_at IS NOT NULL),
    b AS (SELECT (julianday(sql_at) - julianday(mql_at)) * 86400.0 AS s FROM m
          WHERE mql_at IS NOT NULL AND sql_at IS NOT NULL),
    ra AS (SELECT s, ROW_NUMBER() OVER (ORDER BY s) AS rn, COUNT(*) OVER () AS c FROM a),
    rb AS (SELECT s, ROW_NUMBER() OVER (ORDER BY s) AS rn, COUNT(*) OVER () AS c FROM b)
    SELECT (SELECT AVG(s) FROM ra WHERE rn IN ((c + 1) / 2, (c + 2) / 2)),
           (SELECT AVG(s) FROM rb WHERE rn IN ((c + 1) / 2, (c + 2) / 2))
"""


def stage_medians(scope: ReportScope) -> StageMedians:
    milestones, params = _milestones_sql(scope)
    template = POSTGRESQL_MEDIANS if is_postgresql() else SQLITE_MEDIANS
    with connection.cursor() as cursor:
        cursor.execute(template.format(milestones=milestones), params)
        to_mql, to_sql = cursor.fetchone()
    return StageMedians(_hours(to_mql), _hours(to_sql))


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else float(seconds) / 3600


def funnel_table(outcomes: list[Outcome], medians: StageMedians) -> Table:
    total = grand_totals(outcomes)
    rows = [
        ("Lead", total.leads, None, 1.0 if total.leads else None, None),
        ("MQL", total.mqls, ratio(total.mqls, total.leads), ratio(total.mqls, total.leads), medians.lead_to_mql_hours),
        ("SQL", total.sqls, ratio(total.sqls, total.mqls), ratio(total.sqls, total.leads), medians.mql_to_sql_hours),
    ]
    return Table(
        key="funnel",
        title="Lead → MQL → SQL funnel",
        columns=[
            Column("stage", "Stage"),
            Column("leads", "Leads", "int"),
            Column("from_previous", "From previous", "pct"),
            Column("from_leads", "From all leads", "pct"),
            Column("median_time", "Median time", "hours"),
        ],
        rows=rows,
        chart={"labels": [row[0] for row in rows], "data": [row[1] for row in rows]},
        note="Median time from the previous step: creation to the first move to MQL, then to the first move to "
        "SQL; leads without recorded stage changes are left out of the medians.",
    )
