"""The Lead → MQL → SQL funnel: counts, conversion and median time in stage, worked out by hand."""

from __future__ import annotations

import pytest

from leads.models import Stage
from leads.tests.factories import LeadFactory
from reports.selectors import Report
from reports.selectors.funnel import stage_medians
from reports.tests.conftest import scope
from reports.tests.factories import Step, journey

pytestmark = pytest.mark.django_db


@pytest.fixture
def ten_leads(db: None) -> None:
    """10 leads: 4 reached MQL (after 2, 4 and 10 hours, and one imported as MQL), 1 of them SQL 24 h later."""
    journey(Step("cpc"), stage=Stage.SQL, moves=[(Stage.MQL, 2), (Stage.SQL, 26)])
    journey(Step("cpc"), stage=Stage.MQL, moves=[(Stage.MQL, 4)])
    journey(Step("cpc"), stage=Stage.REJECTED, moves=[(Stage.MQL, 10), (Stage.REJECTED, 12)])
    LeadFactory(stage=Stage.MQL)
    LeadFactory.create_batch(6, stage=Stage.NURTURE)


def test_funnel_counts_and_conversion_rates(ten_leads: None) -> None:
    table = Report(scope()).funnel()

    assert [row[:4] for row in table.rows] == [
        ("Lead", 10, None, 1.0),
        ("MQL", 4, 0.4, 0.4),
        ("SQL", 1, 0.25, 0.1),
    ]


def test_median_time_to_mql_is_the_middle_lead(ten_leads: None) -> None:
    # Leads with a recorded move to MQL took 2, 4 and 10 hours; the imported MQL has no time.
    assert stage_medians(scope()).lead_to_mql_hours == pytest.approx(4)


def test_median_of_an_even_count_is_the_mean_of_the_middle_two() -> None:
    for hours in (2, 4, 6, 10):
        journey(Step("cpc"), stage=Stage.MQL, moves=[(Stage.MQL, hours)])

    assert stage_medians(scope()).lead_to_mql_hours == pytest.approx(5)


def test_median_time_as_mql_runs_from_mql_to_sql(ten_leads: None) -> None:
    assert stage_medians(scope()).mql_to_sql_hours == pytest.approx(24)


def test_medians_are_empty_without_stage_changes() -> None:
    LeadFactory(stage=Stage.NEW)

    medians = stage_medians(scope())

    assert (medians.lead_to_mql_hours, medians.mql_to_sql_hours) == (None, None)


def test_an_empty_funnel_has_no_rates() -> None:
    table = Report(scope()).funnel()

    assert table.rows[0][:4] == ("Lead", 0, None, None)
    assert table.rows[1][2] is None
