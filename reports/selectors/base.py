"""What every report reads: the filtered leads (a scope), the milestones a lead reached, and table shapes.

Definitions used throughout the reports:

- A lead **reached MQL** when it is in stage ``mql`` or ``sql`` now, or has ever had a stage change
  to ``mql`` or ``sql`` (so a lead sales later rejected or recycled still counts as an MQL).
- A lead **reached SQL** when it is in stage ``sql`` now, or has ever had a stage change to ``sql``.
- **MQL rate** = leads that reached MQL / leads; **SQL rate** = leads that reached SQL / leads;
  **MQL → SQL** = leads that reached SQL / leads that reached MQL. Leads are counted by creation date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import (
    DateField,
    Exists,
    Func,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.functions import Trunc
from django.utils import timezone

from core.rollup_days import is_utc
from leads.models import Activity, ActivityKind, Lead, Submission

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler, _AsSqlType

NO_VALUE = "(none)"
EMPTY_NUMBER = "\u2013"  # an en dash: no number to show (a rate of zero leads, a median of nothing)


@dataclass(frozen=True)
class ReportScope:
    """The leads a report covers (already filtered) and the report's options."""

    leads: QuerySet[Lead]
    created_from: datetime | None = None
    created_to: datetime | None = None
    campaign: str = ""
    is_filtered: bool = False
    period: str = "week"
    volume_by: str = "channel"
    # Set when these filters can be answered from the rollups (``reports.selectors.rollups``); None: live.
    rollup: RollupFilter | None = None


@dataclass(frozen=True)
class RollupFilter:
    """The filters as the rollups are keyed: creation days (in ``report_zone``, both inclusive), a form's slug or ""
    for every lead, the first-touch campaign and the routing team ("" for any); and whether the SLA clocks are
    rolled up (``RollupState.sla_rebuilt_at``) or read live."""

    refreshed_at: datetime
    day_from: date | None = None
    day_to: date | None = None
    form: str = ""
    campaign: str = ""
    team: str = ""
    has_sla: bool = False


class Unindexed(Func):
    """A column to GROUP BY without SQLite walking an index in that column's order.

    To save a sort, SQLite's planner groups by walking an index on the first grouped column and reading
    each lead's row through it: eight times slower at 100,000 leads than scanning the table. A unary
    ``+`` makes the term an expression no index matches (SQLite's documented way to say so); other
    databases get the plain column.
    """

    arity = 1
    template = "%(expressions)s"

    def as_sqlite(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> _AsSqlType:
        return self.as_sql(compiler, connection, template="+%(expressions)s", **extra)


def leads_of_form(leads: QuerySet[Lead], slug: str, *, few: bool = False) -> QuerySet[Lead]:
    """Leads that submitted the form: by its submissions, or by the form named on a form_submitted activity.

    The activity covers leads captured before submissions were stored (and the demo leads). With ``few`` (a
    rollup's day of leads) each lead is looked up in the submissions and activities; otherwise the database lists
    the form's submitters once, which over the whole table is quicker, but for a day of leads costs as much
    (5 s a query for a form of 300,000 submissions, nine queries a form and day).
    """
    if few:
        submitted: Any = Exists(Submission.objects.filter(lead=OuterRef("pk"), form__slug=slug))
        recorded: Any = Exists(
            Activity.objects.filter(lead=OuterRef("pk"), kind=ActivityKind.FORM_SUBMITTED, metadata__form=slug)
        )
        return leads.filter(submitted | recorded)
    submitted = Submission.objects.filter(form__slug=slug).values("lead_id")
    recorded = Activity.objects.filter(kind=ActivityKind.FORM_SUBMITTED, metadata__form=slug).values("lead_id")
    return leads.filter(Q(pk__in=submitted) | Q(pk__in=recorded))


def compiled(queryset: QuerySet[Any]) -> tuple[str, tuple[Any, ...]]:
    """The SQL and parameters of a queryset, to use as a derived table in a raw query."""
    sql, params = queryset.order_by().query.sql_with_params()
    return sql, tuple(params)


def report_zone() -> tzinfo:
    """The time zone of the report's days: the site's ``TIME_ZONE``, in which the date filter gives its days and the
    rollups count them (``reports.rollups``)."""
    return timezone.get_default_timezone()


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


class PeriodStart(Func):
    """The first day (UTC) of the week (Monday) or month an instant falls in (``period_start`` gives it in the
    report's zone).

    Native SQL on both databases: Django's ``TruncWeek``/``TruncMonth`` call a Python function per
    row on SQLite, which is most of the time of a GROUP BY over a million leads.
    """

    output_field = DateField()
    arity = 1

    def __init__(self, expression: Any, *, period: str) -> None:
        if period not in ("week", "month"):
            raise ValueError(f"Unknown period {period!r}")
        self.period = period
        super().__init__(expression)

    def as_sqlite(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> _AsSqlType:
        modifiers = "'-6 days', 'weekday 1'" if self.period == "week" else "'start of month'"
        return self.as_sql(compiler, connection, template=f"date(%(expressions)s, {modifiers})", **extra)

    def as_postgresql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> _AsSqlType:
        template = f"(date_trunc('{self.period}', %(expressions)s AT TIME ZONE 'UTC'))::date"
        return self.as_sql(compiler, connection, template=template, **extra)


def period_start(expression: str, *, period: str) -> Func:
    """The first day of the week (Monday) or month an instant falls in, in the report's zone (``report_zone``):
    ``PeriodStart``'s native SQL in UTC; Django's ``Trunc`` elsewhere (on SQLite a Python function per row)."""
    zone = report_zone()
    if is_utc(zone):
        return PeriodStart(expression, period=period)
    if period not in ("week", "month"):
        raise ValueError(f"Unknown period {period!r}")
    return Trunc(expression, period, output_field=DateField(), tzinfo=zone)


# --- Tables ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"  # text, int, credit, pct, money, hours, date
    group: str = ""


@dataclass(frozen=True)
class Cell:
    text: str
    is_number: bool


@dataclass
class Table:
    """One report table: what the page shows, what the CSV export writes, and its chart's data."""

    key: str
    title: str
    columns: Sequence[Column]
    rows: list[tuple[Any, ...]]
    chart: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    has_total_row: bool = False
    empty_text: str = "No data for these filters."

    @property
    def header_groups(self) -> list[tuple[str, int]]:
        """(label, colspan) for a second header row above the columns, or [] when no column is grouped."""
        if not any(column.group for column in self.columns):
            return []
        groups: list[tuple[str, int]] = []
        for column in self.columns:
            if groups and groups[-1][0] == column.group:
                groups[-1] = (column.group, groups[-1][1] + 1)
            else:
                groups.append((column.group, 1))
        return groups

    def display_rows(self) -> list[list[Cell]]:
        return [
            [
                Cell(display(value, column.kind), column.kind != "text")
                for column, value in zip(self.columns, row, strict=True)
            ]
            for row in self.rows
        ]

    def csv_header(self) -> list[str]:
        return [export_label(column) for column in self.columns]

    def csv_rows(self) -> list[list[object]]:
        return [
            [export(value, column.kind) for column, value in zip(self.columns, row, strict=True)] for row in self.rows
        ]


def ratio(part: float | Decimal | None, whole: float | Decimal | None) -> float | None:
    if part is None or not whole:
        return None
    return float(part) / float(whole)


def display(value: Any, kind: str) -> str:
    if value is None or value == "":
        return EMPTY_NUMBER if kind != "text" else NO_VALUE
    if kind == "int":
        return f"{value:,}"
    if kind == "credit":
        return f"{value:,.1f}"
    if kind == "pct":
        return f"{value * 100:.1f}%"
    if kind == "money":
        return f"{value:,.2f}"
    if kind == "hours":
        return _duration(value)
    if kind == "date":
        return value.isoformat() if isinstance(value, date) else str(value)
    return str(value)


def _duration(hours: float) -> str:
    if hours < 1:
        return f"{round(hours * 60)} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} d"


def export_label(column: Column) -> str:
    label = f"{column.group} {column.label.lower()}" if column.group else column.label
    suffix = {"pct": " (%)", "hours": " (hours)"}.get(column.kind, "")
    return label + suffix


def export(value: Any, kind: str) -> object:
    """A cell for the CSV: plain numbers (percentages as 12.5, durations in hours), dates as ISO text."""
    if value is None:
        return ""
    if kind == "pct":
        return round(value * 100, 2)
    if kind in ("credit", "hours"):
        return round(value, 2)
    if kind == "money":
        return Decimal(value).quantize(Decimal("0.01"))
    if kind == "date":
        return value.isoformat() if isinstance(value, date) else value
    return value
