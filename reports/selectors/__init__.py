"""Read-only aggregates for the managers' reports.

``Report(scope)`` builds each table on demand; the page asks for all of them, a CSV export for one.
The lead table is grouped once for quality, cost, the funnel's counts and first-touch attribution
(``outcomes``); lead volume, the funnel's medians, the path attribution models and SLA compliance are
one query each. Nothing loops over leads in Python.
"""

from __future__ import annotations

from functools import cached_property

from reports.selectors.attribution import attribution_table, path_credits
from reports.selectors.base import Column, ReportScope, Table
from reports.selectors.cost import cost_table, spend_totals
from reports.selectors.funnel import funnel_table, stage_medians
from reports.selectors.outcomes import Outcome, lead_outcomes
from reports.selectors.quality import quality_table
from reports.selectors.sla import sla_table
from reports.selectors.volume import volume_table

__all__ = ["TABLE_KEYS", "Column", "Report", "ReportScope", "Table"]

TABLE_KEYS = ("volume", "quality", "cost", "funnel", "attribution", "sla")


class Report:
    def __init__(self, scope: ReportScope) -> None:
        self.scope = scope

    @cached_property
    def outcomes(self) -> list[Outcome]:
        return lead_outcomes(self.scope)

    def volume(self) -> Table:
        return volume_table(self.scope)

    def quality(self) -> Table:
        return quality_table(self.outcomes)

    def cost(self) -> Table:
        return cost_table(self.outcomes, spend_totals(self.scope), campaign=self.scope.campaign)

    def funnel(self) -> Table:
        return funnel_table(self.outcomes, stage_medians(self.scope))

    def attribution(self) -> Table:
        return attribution_table(self.outcomes, path_credits(self.scope))

    def sla(self) -> Table | None:
        return sla_table(self.scope)

    def campaigns(self) -> list[str]:
        """The first-touch campaigns of these leads, for the campaign filter's suggestions."""
        return sorted({outcome.campaign for outcome in self.outcomes if outcome.campaign})

    def table(self, key: str) -> Table | None:
        """One table by its key (``TABLE_KEYS``), or None for an unknown key or a section not available yet."""
        if key not in TABLE_KEYS:
            return None
        return getattr(self, key)()

    def tables(self) -> dict[str, Table | None]:
        return {key: self.table(key) for key in TABLE_KEYS}
