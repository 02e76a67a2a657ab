"""Attribution models over a fixture of known journeys; every expected number is worked out by hand.

The journeys (hours after the lead's creation):

    A  paid search                                                     stage new
    B  podcast 0, email 24; MQL at 48                                  stage mql
    C  webinar 0, email 24, paid search 72; MQL at 48, SQL at 96       stage sql
    D  event 0, bare direct visit 12, email 24, paid social 48, email 72   stage nurture
    E  no touches at all, imported straight into SQL (no stage change)
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User

from leads.models import Lead, Stage
from leads.tests.factories import LeadFactory
from reports import services
from reports.selectors import ReportScope
from reports.selectors.attribution import attribution_credits, attribution_table, path_credits
from reports.selectors.outcomes import lead_outcomes
from reports.tests.conftest import scope
from reports.tests.factories import FIXED_NOW, Step, journey

pytestmark = pytest.mark.django_db


def credits(measure: str, model: str) -> dict[str, float]:
    """channel -> credit for one measure and model, leaving out channels with no credit."""
    report_scope = scope()
    by_channel = attribution_credits(lead_outcomes(report_scope), path_credits(report_scope))
    return {
        channel: round(values[measure][model], 4) for channel, values in by_channel.items() if values[measure][model]
    }


@pytest.fixture
def journeys(db: None) -> None:
    journey(Step("cpc"))
    journey(Step("podcast"), Step("email", 24), stage=Stage.MQL, moves=[(Stage.MQL, 48)])
    journey(Step("webinar"), Step("email", 24), Step("cpc", 72),
            stage=Stage.SQL, moves=[(Stage.MQL, 48), (Stage.SQL, 96)])  # fmt: skip
    journey(Step("event"), Step("", 12, is_meaningful=False), Step("email", 24), Step("paid_social", 48),
            Step("email", 72), stage=Stage.NURTURE)  # fmt: skip
    LeadFactory(stage=Stage.SQL)


def test_first_touch_credits_each_lead_to_its_first_touch(journeys: None) -> None:
    assert credits("leads", "first") == {"paid_search": 1, "podcast": 1, "webinar": 1, "event": 1, "": 1}


def test_last_touch_credits_each_lead_to_its_last_touch(journeys: None) -> None:
    assert credits("leads", "last") == {"paid_search": 2, "email": 2, "": 1}


def test_linear_shares_each_lead_equally_among_its_touches(journeys: None) -> None:
    # A: 1 to paid search. B: 1/2 podcast, 1/2 email. C: 1/3 each. D: 1/4 event, 1/2 email, 1/4 paid social.
    assert credits("leads", "linear") == {
        "paid_search": round(1 + 1 / 3, 4),
        "podcast": 0.5,
        "email": round(0.5 + 1 / 3 + 0.5, 4),
        "webinar": round(1 / 3, 4),
        "event": 0.25,
        "paid_social": 0.25,
        "": 1,
    }


def test_position_based_gives_40_20_40(journeys: None) -> None:
    # A: 1 paid search. B: 0.5 podcast, 0.5 email. C: 0.4 webinar, 0.2 email, 0.4 paid search.
    # D: 0.4 event, 0.1 email, 0.1 paid social, 0.4 email.
    assert credits("leads", "position") == {
        "paid_search": 1.4,
        "podcast": 0.5,
        "email": 1.2,
        "webinar": 0.4,
        "event": 0.4,
        "paid_social": 0.1,
        "": 1,
    }


def test_position_based_gives_a_single_touch_all_the_credit() -> None:
    journey(Step("podcast"))

    assert credits("leads", "position") == {"podcast": 1}


def test_position_based_splits_two_touches_half_and_half() -> None:
    journey(Step("podcast"), Step("email", 24))

    assert credits("leads", "position") == {"podcast": 0.5, "email": 0.5}


def test_position_based_shares_20_percent_evenly_among_the_middle_touches() -> None:
    journey(Step("event"), Step("email", 1), Step("webinar", 2), Step("paid_social", 3), Step("cpc", 4))

    assert credits("leads", "position") == {
        "event": 0.4,
        "email": round(0.2 / 3, 4),
        "webinar": round(0.2 / 3, 4),
        "paid_social": round(0.2 / 3, 4),
        "paid_search": 0.4,
    }


def test_mql_credit_counts_only_the_touches_before_the_move_to_mql(journeys: None) -> None:
    # MQLs: B (podcast, email), C (webinar, email; paid search came after its MQL) and E (no touches).
    assert credits("mqls", "last") == {"email": 2, "": 1}
    assert credits("mqls", "position") == {"podcast": 0.5, "webinar": 0.5, "email": 1, "": 1}


def test_sql_credit_counts_the_touches_before_the_move_to_sql(journeys: None) -> None:
    # SQLs: C (webinar, email, paid search) and E (no touches).
    assert credits("sqls", "linear") == {
        "webinar": round(1 / 3, 4),
        "email": round(1 / 3, 4),
        "paid_search": round(1 / 3, 4),
        "": 1,
    }


def test_a_bare_direct_visit_gets_no_credit(journeys: None) -> None:
    for model in ("first", "last", "linear", "position"):
        assert "direct" not in credits("leads", model)


def test_every_model_hands_out_one_credit_per_lead_mql_and_sql(journeys: None) -> None:
    for measure, expected in (("leads", 5), ("mqls", 3), ("sqls", 2)):
        for model in ("first", "last", "linear", "position"):
            assert sum(credits(measure, model).values()) == pytest.approx(expected, abs=1e-3), (measure, model)


def test_a_corrected_first_touch_leads_the_path(manager: User) -> None:
    lead = journey(Step("webinar"), Step("email", 24), Step("cpc", 48))
    later = lead.touches.get(medium="cpc")
    services.correct_first_touch(lead=lead, touch=later, by=manager, reason="Came from the ad", now=FIXED_NOW)

    # The path is now paid search (first), webinar, email (last).
    assert credits("leads", "first") == {"paid_search": 1}
    assert credits("leads", "position") == {"paid_search": 0.4, "webinar": 0.2, "email": 0.4}


def test_attribution_table_ends_with_the_totals(journeys: None) -> None:
    report_scope = scope()

    table = attribution_table(lead_outcomes(report_scope), path_credits(report_scope))

    assert table.rows[-1] == ("All channels", 5, 5, 5, 5, 3, 3, 3, 3, 2, 2, 2, 2)


def test_path_models_count_only_the_leads_in_the_scope() -> None:
    journey(Step("podcast"), created_at=FIXED_NOW)
    journey(Step("email"), created_at=FIXED_NOW - timedelta(days=400))
    recent = Lead.objects.filter(created_at__gte=FIXED_NOW - timedelta(days=30))

    paths = path_credits(ReportScope(leads=recent))

    assert [path.channel for path in paths] == ["podcast"]


def test_a_lead_whose_first_touch_row_is_gone_keeps_its_path_in_time_order() -> None:
    lead = journey(Step("podcast"), Step("email", 24))
    Lead.objects.filter(pk=lead.pk).update(first_touch=None, first_touch_at=FIXED_NOW + timedelta(days=5))

    assert credits("leads", "last") == {"email": 1}
    assert credits("leads", "position") == {"podcast": 0.5, "email": 0.5}
