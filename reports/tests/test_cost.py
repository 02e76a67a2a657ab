"""Cost per lead, MQL and SQL from spend over the leads each source and campaign brought in."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from leads.models import Lead, Stage
from reports.selectors import Report
from reports.tests.conftest import scope
from reports.tests.factories import SpendFactory, Step, journey

pytestmark = pytest.mark.django_db

FEBRUARY = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)


def cost_rows(**options: object) -> dict[tuple[str, str], tuple[object, ...]]:
    """(source, campaign) -> (spend, leads, MQLs, SQLs, cost per lead, per MQL, per SQL)."""
    table = Report(scope(**options)).cost()
    return {(row[0], row[1]): row[3:] for row in table.rows}


@pytest.fixture
def google_and_linkedin(db: None) -> None:
    """Google brand search: 4 leads (2 MQLs, 1 SQL) + 1 lead on another Google campaign; 1,000 on the
    campaign and 200 on Google as a whole. LinkedIn: 3 leads (1 MQL), 600 on its one campaign."""
    brand = Step("cpc", source="google", campaign="brand-search")
    journey(brand, created_at=FEBRUARY, stage=Stage.SQL, moves=[(Stage.MQL, 1), (Stage.SQL, 2)])
    journey(brand, created_at=FEBRUARY, stage=Stage.MQL, moves=[(Stage.MQL, 1)])
    journey(brand, created_at=FEBRUARY)
    journey(brand, created_at=FEBRUARY)
    journey(Step("cpc", source="google", campaign="competitor-terms"), created_at=FEBRUARY)
    whitepaper = Step("paid_social", source="linkedin", campaign="q3-whitepaper")
    journey(whitepaper, created_at=FEBRUARY, stage=Stage.MQL, moves=[(Stage.MQL, 1)])
    journey(whitepaper, created_at=FEBRUARY)
    journey(whitepaper, created_at=FEBRUARY)
    SpendFactory(source="google", campaign="brand-search", amount=Decimal("1000.00"))
    SpendFactory(source="google", campaign="", amount=Decimal("200.00"))
    SpendFactory(source="linkedin", campaign="q3-whitepaper", amount=Decimal("600.00"))


def test_a_source_row_divides_all_its_spend_by_all_its_leads(google_and_linkedin: None) -> None:
    assert cost_rows()[("google", "All campaigns")] == (
        Decimal("1200.00"), 5, 2, 1, Decimal("240.00"), Decimal("600.00"), Decimal("1200.00"),
    )  # fmt: skip


def test_a_campaign_row_divides_its_spend_by_the_campaigns_leads(google_and_linkedin: None) -> None:
    assert cost_rows()[("google", "brand-search")] == (
        Decimal("1000.00"), 4, 2, 1, Decimal("250.00"), Decimal("500.00"), Decimal("1000.00"),
    )  # fmt: skip


def test_cost_per_sql_is_empty_without_sqls(google_and_linkedin: None) -> None:
    *_, per_lead, per_mql, per_sql = cost_rows()[("linkedin", "All campaigns")]

    assert (per_lead, per_mql, per_sql) == (Decimal("200.00"), Decimal("600.00"), None)


def test_a_campaign_that_is_the_whole_source_is_not_repeated(google_and_linkedin: None) -> None:
    assert ("linkedin", "q3-whitepaper") not in cost_rows()


def test_spend_counts_for_the_months_the_date_range_touches(google_and_linkedin: None) -> None:
    SpendFactory(source="google", campaign="brand-search", month=date(2026, 1, 1), amount=Decimal("5000.00"))

    rows = cost_rows(created_from=datetime(2026, 2, 15, tzinfo=UTC), created_to=datetime(2026, 2, 28, tzinfo=UTC))

    assert rows[("google", "brand-search")][0] == Decimal("1000.00")


def test_currencies_are_never_added_up(google_and_linkedin: None) -> None:
    SpendFactory(source="google", campaign="", month=date(2026, 3, 1), amount=Decimal("50.00"), currency="USD")

    table = Report(scope()).cost()

    google = [(row[1], row[2], row[3]) for row in table.rows if row[0] == "google"]
    assert google == [
        ("All campaigns", "EUR", Decimal("1200.00")),
        ("brand-search", "EUR", Decimal("1000.00")),
        ("All campaigns", "USD", Decimal("50.00")),
    ]


def test_a_campaign_filter_shows_only_that_campaigns_spend(google_and_linkedin: None) -> None:
    rows = cost_rows(leads=Lead.objects.filter(first_touch_campaign="brand-search"), campaign="brand-search")

    assert list(rows) == [("google", "brand-search")]
