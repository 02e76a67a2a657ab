"""Lead quality by first-touch source, and what "reached MQL" and "reached SQL" mean."""

from __future__ import annotations

import pytest

from leads.models import Stage
from leads.tests.factories import LeadFactory
from reports.selectors import Report
from reports.tests.conftest import scope
from reports.tests.factories import Step, journey

pytestmark = pytest.mark.django_db


def quality() -> dict[str, tuple[object, ...]]:
    return {row[0]: row[1:] for row in Report(scope()).quality().rows}


def test_rates_per_source_are_per_lead() -> None:
    podcast = Step("podcast", source="b2b-growth-podcast")
    journey(podcast, stage=Stage.SQL, moves=[(Stage.MQL, 1), (Stage.SQL, 2)])
    journey(podcast, stage=Stage.MQL, moves=[(Stage.MQL, 1)])
    journey(podcast)
    journey(podcast)

    assert quality()["b2b-growth-podcast"] == (4, 2, 1, 0.5, 0.25, 0.5)


def test_a_lead_sales_rejected_after_mql_still_counts_as_an_mql() -> None:
    journey(Step("cpc", source="google"), stage=Stage.REJECTED, moves=[(Stage.MQL, 1), (Stage.REJECTED, 2)])

    assert quality()["google"][:3] == (1, 1, 0)


def test_a_lead_imported_straight_into_sql_counts_as_mql_and_sql() -> None:
    journey(Step("cpc", source="google"), stage=Stage.SQL)

    assert quality()["google"][:3] == (1, 1, 1)


def test_a_lead_recycled_to_nurture_after_sql_still_counts_as_sql() -> None:
    journey(Step("cpc", source="google"), stage=Stage.NURTURE,
            moves=[(Stage.MQL, 1), (Stage.SQL, 2), (Stage.NURTURE, 3)])  # fmt: skip

    assert quality()["google"][:3] == (1, 1, 1)


def test_leads_without_a_first_touch_are_shown_as_none() -> None:
    LeadFactory()

    assert quality()["(none)"][0] == 1


def test_quality_ends_with_all_sources() -> None:
    journey(Step("cpc", source="google"), stage=Stage.MQL, moves=[(Stage.MQL, 1)])
    journey(Step("podcast", source="b2b-growth-podcast"))

    assert quality()["All sources"] == (2, 1, 0, 0.5, 0.0, 0.0)
