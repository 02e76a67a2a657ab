"""How far the leads got, by first-touch source, campaign and channel: one GROUP BY over the lead table.

Quality, cost, the funnel's counts and the first-touch attribution model are all sums of these rows,
so the page reads the lead table once for all four.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db.models import Case, Count, Exists, IntegerField, Q, Sum, When

from leads.selectors import reached_mql, reached_sql
from reports.selectors.base import ReportScope, Unindexed


@dataclass(frozen=True)
class Outcome:
    source: str
    campaign: str
    channel: str
    leads: int
    mqls: int
    sqls: int


@dataclass(frozen=True)
class Totals:
    leads: int = 0
    mqls: int = 0
    sqls: int = 0

    def __add__(self, other: Totals) -> Totals:
        return Totals(self.leads + other.leads, self.mqls + other.mqls, self.sqls + other.sqls)


def lead_outcomes(scope: ReportScope) -> list[Outcome]:
    rows = (
        scope.leads.order_by()
        .annotate(
            source=Unindexed("first_touch_source"),
            campaign=Unindexed("first_touch_campaign"),
            channel=Unindexed("first_touch_channel"),
        )
        .values_list("source", "campaign", "channel")
        .annotate(leads=Count("*"), mqls=count_where(reached_mql()), sqls=count_where(reached_sql()))
    )
    return [Outcome(*row) for row in rows]


def count_where(conditions: tuple[Q, Exists]) -> Sum:
    """How many leads meet either condition; a CASE, so the stage-change lookup runs only when the stage
    alone does not already say yes."""
    stage, change = conditions
    return Sum(Case(When(stage, then=1), When(change, then=1), default=0, output_field=IntegerField()))


def totals_by(outcomes: Iterable[Outcome], key: Callable[[Outcome], object]) -> dict[object, Totals]:
    """The outcomes summed per ``key(outcome)``."""
    sums: dict[object, Totals] = defaultdict(Totals)
    for outcome in outcomes:
        sums[key(outcome)] += Totals(outcome.leads, outcome.mqls, outcome.sqls)
    return dict(sums)


def grand_totals(outcomes: Iterable[Outcome]) -> Totals:
    return sum((Totals(o.leads, o.mqls, o.sqls) for o in outcomes), Totals())
