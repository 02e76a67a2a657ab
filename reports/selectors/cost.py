"""Cost per lead, per MQL and per SQL: spend per source and campaign over the leads they brought in.

Leads are credited by first touch: a lead counts for its first-touch source and campaign. Spend is
counted for every calendar month the date filter touches (spend is monthly). A source's row takes all
its spend (its campaigns' and the source-wide rows) over all its leads; a campaign's row takes that
campaign's spend over the leads whose first touch carried that campaign. Currencies are never added up:
each currency gets rows of its own.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db.models import Sum

from reports.models import Spend
from reports.selectors.base import Column, ReportScope, Table
from reports.selectors.outcomes import Outcome, Totals, totals_by

ALL_CAMPAIGNS = "All campaigns"


def spend_totals(scope: ReportScope) -> list[tuple[str, str, str, Decimal]]:
    """(source, campaign, currency, amount) summed over the months the scope's dates touch."""
    spend = Spend.objects.order_by()
    if scope.created_from is not None:
        spend = spend.filter(month__gte=_month_of(scope.created_from.date()))
    if scope.created_to is not None:
        spend = spend.filter(month__lte=_month_of(scope.created_to.date()))
    if scope.campaign:
        spend = spend.filter(campaign=scope.campaign)
    return list(spend.values_list("source", "campaign", "currency").annotate(total=Sum("amount")))


def _month_of(day: date) -> date:
    return day.replace(day=1)


def cost_table(outcomes: list[Outcome], spend: list[tuple[str, str, str, Decimal]], *, campaign: str = "") -> Table:
    by_source = totals_by(outcomes, lambda outcome: outcome.source)
    by_campaign = totals_by(outcomes, lambda outcome: (outcome.source, outcome.campaign))
    source_spend: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    campaign_spend: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for source, spend_campaign, currency, amount in spend:
        source_spend[(source, currency)] += amount
        if spend_campaign:
            campaign_spend[(source, spend_campaign, currency)] += amount

    rows = []
    for source, currency in sorted(source_spend):
        total = _row(source, ALL_CAMPAIGNS, currency, source_spend[(source, currency)], by_source.get(source))
        # With a campaign filter a source total would only repeat the campaign's row.
        if not campaign:
            rows.append(total)
        for (c_source, c_name, c_currency), amount in sorted(campaign_spend.items()):
            if (c_source, c_currency) != (source, currency):
                continue
            row = _row(source, c_name, currency, amount, by_campaign.get((source, c_name)))
            if campaign or row[3:] != total[3:]:  # a campaign that is the whole source adds nothing
                rows.append(row)

    totals = [row for row in rows if row[1] == ALL_CAMPAIGNS or campaign]
    chart = {
        "labels": [f"{row[0]} ({row[2]})" for row in totals],
        "datasets": [
            {"label": "Cost per lead", "data": [_number(row[7]) for row in totals]},
            {"label": "Cost per MQL", "data": [_number(row[8]) for row in totals]},
            {"label": "Cost per SQL", "data": [_number(row[9]) for row in totals]},
        ],
    }
    return Table(
        key="cost",
        title="Cost per lead, MQL and SQL",
        columns=[
            Column("source", "Source"),
            Column("campaign", "Campaign"),
            Column("currency", "Currency"),
            Column("spend", "Spend", "money"),
            Column("leads", "Leads", "int"),
            Column("mqls", "MQLs", "int"),
            Column("sqls", "SQLs", "int"),
            Column("cost_per_lead", "Cost per lead", "money"),
            Column("cost_per_mql", "Cost per MQL", "money"),
            Column("cost_per_sql", "Cost per SQL", "money"),
        ],
        rows=rows,
        chart=chart,
        note="Leads count for their first-touch source and campaign; spend counts for every month the dates "
        "touch. The form and team filters narrow the leads, not the spend.",
    )


def _row(source: str, campaign: str, currency: str, amount: Decimal, totals: Totals | None) -> tuple[object, ...]:
    t = totals or Totals()
    return (source, campaign, currency, amount, t.leads, t.mqls, t.sqls, _cost(amount, t.leads),
            _cost(amount, t.mqls), _cost(amount, t.sqls))  # fmt: skip


def _cost(amount: Decimal, count: int) -> Decimal | None:
    return (amount / count).quantize(Decimal("0.01")) if count else None


def _number(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]
