"""Read-only aggregates for the managers' reports.

``Report(scope)`` builds each table on demand; the page asks for all of them, a CSV export for one.

When ``scope.rollup`` is set (the filters can be answered from the rollups, and they have been built),
volume, quality, cost, the funnel and attribution are sums over the per-day rollup rows
(``reports.selectors.rollups``), as is SLA compliance: a few thousand rows whatever the number of leads.
Otherwise they are computed live from the leads: the lead table grouped once for quality, cost, the funnel's
counts and first-touch attribution (``outcomes``), one query each for volume, the medians and the path models,
and SLA compliance from the SLA records (one row per assignment).
"""

from __future__ import annotations

from functools import cached_property

from reports.selectors.attribution import attribution_table, path_credits
from reports.selectors.base import Column, ReportScope, Table
from reports.selectors.cost import cost_table, spend_totals
from reports.selectors.funnel import funnel_table, stage_medians
from reports.selectors.outcomes import Outcome, lead_outcomes
from reports.selectors.quality import quality_table
from reports.selectors.rollups import (
    rollup_medians,
    rollup_outcomes,
    rollup_path_credits,
    rollup_sla_counts,
    rollup_volume_counts,
)
from reports.selectors.sla import sla_table
from reports.selectors.volume import volume_table

__all__ = ["TABLE_KEYS", "Column", "Report", "ReportScope", "Table"]

TABLE_KEYS = ("volume", "quality", "cost", "funnel", "attribution", "sla")


class Report:
    def __init__(self, scope: ReportScope) -> None:
        self.scope = scope

    @property
    def is_from_rollups(self) -> bool:
        return self.scope.rollup is not None

    @cached_property
    def outcomes(self) -> list[Outcome]:
        rollup = self.scope.rollup
        return rollup_outcomes(rollup) if rollup else lead_outcomes(self.scope)

    def volume(self) -> Table:
        rollup, scope = self.scope.rollup, self.scope
        if rollup is None:
            return volume_table(scope)
        return volume_table(scope, rollup_volume_counts(rollup, period=scope.period, volume_by=scope.volume_by))

    def quality(self) -> Table:
        return quality_table(self.outcomes)

    def cost(self) -> Table:
        return cost_table(self.outcomes, spend_totals(self.scope), campaign=self.scope.campaign)

    def funnel(self) -> Table:
        rollup = self.scope.rollup
        return funnel_table(self.outcomes, rollup_medians(rollup) if rollup else stage_medians(self.scope))

    def attribution(self) -> Table:
        rollup = self.scope.rollup
        return attribution_table(self.outcomes, rollup_path_credits(rollup) if rollup else path_credits(self.scope))

    def sla(self) -> Table | None:
        rollup = self.scope.rollup
        return sla_table(self.scope, rollup_sla_counts(rollup) if rollup and rollup.has_sla else None)

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
