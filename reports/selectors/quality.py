"""Lead quality by first-touch source: how many of each source's leads reached MQL and SQL."""

from __future__ import annotations

from reports.selectors.base import NO_VALUE, Column, Table, ratio
from reports.selectors.outcomes import Outcome, Totals, grand_totals, totals_by

CHART_SOURCES = 10

# (label, leads, reached MQL, reached SQL, MQL rate, SQL rate, MQL -> SQL)
QualityRow = tuple[str, int, int, int, float | None, float | None, float | None]


def quality_table(outcomes: list[Outcome]) -> Table:
    by_source = totals_by(outcomes, lambda outcome: outcome.source)
    ranked = sorted(by_source.items(), key=lambda item: (-item[1].leads, str(item[0])))
    rows = [_row(str(source) or NO_VALUE, totals) for source, totals in ranked]
    chart = {
        "labels": [row[0] for row in rows[:CHART_SOURCES]],
        "datasets": [
            {"label": "MQL rate", "data": [_pct(row[4]) for row in rows[:CHART_SOURCES]]},
            {"label": "SQL rate", "data": [_pct(row[5]) for row in rows[:CHART_SOURCES]]},
        ],
    }
    if rows:
        rows.append(_row("All sources", grand_totals(outcomes)))
    return Table(
        key="quality",
        title="Lead quality by first-touch source",
        columns=[
            Column("source", "Source"),
            Column("leads", "Leads", "int"),
            Column("mqls", "Reached MQL", "int"),
            Column("sqls", "Reached SQL", "int"),
            Column("mql_rate", "MQL rate", "pct"),
            Column("sql_rate", "SQL rate", "pct"),
            Column("mql_to_sql", "MQL → SQL", "pct"),
        ],
        rows=rows,
        chart=chart,
        has_total_row=True,
        note="A lead reached MQL (SQL) if it is in that stage now or has ever moved to it; rates are per lead.",
    )


def _row(label: str, t: Totals) -> QualityRow:
    return (label, t.leads, t.mqls, t.sqls, ratio(t.mqls, t.leads), ratio(t.sqls, t.leads), ratio(t.sqls, t.mqls))


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)
