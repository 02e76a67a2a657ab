"""The SQL version of each rule kind (bulk rescoring) against the pure evaluator (one lead at a time).

For every kind, a pool of varied leads is scored both ways and must get the same total, fit,
engagement and breakdown (reasons included), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads.models import Activity, Lead
from leads.tests.factories import ActivityFactory, LeadFactory
from scoring import rules, selectors, services
from scoring.models import ScoringModel
from scoring.services.lead_scoring import breakdown_json
from scoring.sql import SQL_KINDS
from scoring.tests.factories import ScoringRuleFactory

pytestmark = pytest.mark.django_db

SENIORITY = ["student", "individual", "manager", "director", "vp", "c_level"]

# kind -> the rules of that kind to score with: (params, dimension, points, cap)
KIND_RULES: dict[str, list[tuple[dict[str, Any], str, int, int | None]]] = {
    "attribute_equals": [
        ({"field": "industry", "value": " software"}, "fit", 15, None),
        ({"field": "products", "value": "CRM"}, "fit", 4, None),
        ({"field": "newsletter", "value": "true"}, "engagement", 2, None),
        ({"field": "employee_count", "value": "1200"}, "fit", -5, 3),
        ({"field": "source", "value": "google"}, "engagement", 6, None),
        ({"field": "domain_kind", "value": "FREE_MAIL"}, "fit", -10, None),
    ],
    "attribute_in": [
        ({"field": "country", "values": ["DE", "at ", "ch"]}, "fit", 5, None),
        ({"field": "products", "values": ["erp", "HR"]}, "fit", 3, None),
        ({"field": "email_domain", "values": ["acme.example"]}, "fit", 2, None),
        ({"field": "channel", "values": ["Paid search"]}, "engagement", 1, None),
    ],
    "attribute_contains": [
        ({"field": "job_title", "substring": "MARKET"}, "fit", 5, None),
        ({"field": "products", "substring": "rp"}, "fit", 2, None),
        ({"field": "company_domain", "substring": "rival"}, "fit", -2, None),
    ],
    "numeric_range": [
        ({"field": "employee_count", "min": 200, "max": 5000}, "fit", 15, None),
        ({"field": "budget", "min": 100.0}, "fit", 7, None),
        ({"field": "seats", "max": 12.5}, "fit", 3, None),
        ({"field": "job_title", "min": 1}, "fit", 1, None),
    ],
    "ordered_at_least": [
        ({"field": "seniority", "order": SENIORITY, "minimum": "Director"}, "fit", 20, None),
        ({"field": "plan", "order": ["free", "team", "enterprise"], "minimum": "team"}, "fit", 5, None),
    ],
    "activity": [
        ({"activity_kind": "webinar_attended", "within_days": 30}, "engagement", 7, None),
        ({"activity_kind": "Pricing_Page_View ", "within_days": 10}, "engagement", -3, 2),
        ({"activity_kind": "email_clicked", "within_days": 365}, "engagement", 5, 12),
    ],
    "free_mail": [({"effect": "floor", "floor_score": 5}, "fit", 0, None)],
    "competitor_domain": [({"domains": ["rival.com", "@Other.IO"], "effect": "disqualify"}, "fit", 0, None)],
    "student": [({"effect": "disqualify", "floor_score": -5}, "fit", 0, None)],
}


def _pool(now: datetime) -> list[Lead]:
    """Leads that match, half-match and miss each kind's rules, with awkward values on purpose."""
    ada = LeadFactory(
        email="ada@acme.example", industry=" SOFTWARE ", country="de", employee_count=1200, seniority="Director",
        job_title="Head of Marketing", company_domain="acme.example",
        custom_answers={"budget": " 250 ", "products": ["CRM", "ERP"], "seats": 12, "newsletter": True,
                        "note": None, "plan": "Enterprise"},
    )  # fmt: skip
    bob = LeadFactory(
        email="bob@gmail.com", industry="Retail", country="US", employee_count=None, seniority="",
        job_title="O'Brien's \"marketing\" lead\\ops", company_domain="",
        custom_answers={"budget": "lots", "products": "crm", "seats": "12.50", "plan": ["free", "team"]},
    )  # fmt: skip
    cleo = LeadFactory(
        email=None, phone="+442071838750", company_domain="EU.Rival.com.", seniority=" Student ",
        job_title="Student\tintern", employee_count=200, custom_answers={"budget": 1000.0, "seats": "1_000"},
    )  # fmt: skip
    dan = LeadFactory(
        email="dan@mail.rival.com", email_domain_kind="company", company_domain="notrival.com", country="AT",
        employee_count=5001, job_title="Marketing's lead", custom_answers={"budget": "1e2", "products": []},
    )  # fmt: skip
    eve = LeadFactory(
        email="eve@acme.example", email_domain_kind="free_mail", industry="Écoles", job_title="market",
        custom_answers={"budget": True, "seats": "inf", "plan": "TEAM "},
    )  # fmt: skip
    Lead.objects.filter(pk=ada.pk).update(first_touch_source="Google", first_touch_channel="Paid search")
    Lead.objects.filter(pk=bob.pk).update(first_touch_source="newsletter", first_touch_channel="Email")
    for days in (0, 30, 12.3456789, 29.999999):
        ActivityFactory(lead=ada, kind="webinar_attended", occurred_at=now - timedelta(days=days))
    ActivityFactory(lead=ada, kind="pricing_page_view", occurred_at=now - timedelta(days=1, microseconds=17))
    ActivityFactory(lead=bob, kind="webinar_attended", occurred_at=now + timedelta(days=1))
    ActivityFactory(lead=bob, kind="webinar_attended", occurred_at=now - timedelta(days=30, microseconds=1))
    for days in range(0, 300, 20):
        ActivityFactory(lead=cleo, kind="email_clicked", occurred_at=now - timedelta(days=days, hours=3))
    ActivityFactory(lead=dan, kind="PRICING_PAGE_VIEW", occurred_at=now - timedelta(days=10))
    return [ada, bob, cleo, dan, eve]


def _model_with(kinds: list[str]) -> ScoringModel:
    model = ScoringModel.objects.create(name="Compared", is_active=True, engagement_half_life_days=30)
    for kind in kinds:
        for params, dimension, points, cap in KIND_RULES[kind]:
            ScoringRuleFactory(
                scoring_model=model, kind=kind, params=params, dimension=dimension, points=points, cap=cap
            )
    return model


def _pure_scores(now: datetime) -> dict[int, tuple[int, int, int, list[dict[str, Any]]]]:
    scoring = selectors.active_scoring()
    assert scoring is not None
    scores = {}
    for lead in Lead.objects.all():
        activities = selectors.activity_facts(lead_id=lead.pk, lookback_days=scoring.lookback_days, now=now)
        result = rules.score(selectors.lead_facts(lead), activities, scoring.rule_specs, scoring.spec, now)
        scores[lead.pk] = (result.total, result.fit, result.engagement, breakdown_json(result.breakdown))
    return scores


def _stored_scores() -> dict[int, tuple[int, int, int, list[dict[str, Any]]]]:
    return {
        lead.pk: (lead.score, lead.fit_score, lead.engagement_score, lead.score_breakdown)
        for lead in Lead.objects.all()
    }


def test_every_rule_kind_has_a_sql_version() -> None:
    assert set(SQL_KINDS) == set(rules.RULE_KINDS)


def test_every_rule_kind_is_compared_below() -> None:
    assert set(KIND_RULES) == set(rules.RULE_KINDS)


@pytest.mark.parametrize("kind", sorted(KIND_RULES))
def test_sql_scores_like_the_pure_evaluator(kind: str, now: datetime) -> None:
    _pool(now)
    _model_with([kind])
    expected = _pure_scores(now)

    services.rescore_all(now=now, batch_size=2)

    assert _stored_scores() == expected


def test_sql_scores_like_the_pure_evaluator_with_every_kind_together(now: datetime) -> None:
    _pool(now)
    _model_with(sorted(KIND_RULES))
    expected = _pure_scores(now)

    services.rescore_all(now=now)

    assert _stored_scores() == expected


def test_decay_at_exactly_one_half_life_rounds_half_up_in_sql(now: datetime) -> None:
    model = ScoringModel.objects.create(name="Half", is_active=True, engagement_half_life_days=30)
    ScoringRuleFactory(
        scoring_model=model, kind="activity", dimension="engagement", points=7,
        params={"activity_kind": "webinar_attended", "within_days": 30},
    )  # fmt: skip
    lead = LeadFactory()
    ActivityFactory(lead=lead, occurred_at=now - timedelta(days=30))

    services.rescore_all(now=now)

    lead.refresh_from_db()
    assert lead.engagement_score == 4  # 3.5 rounds away from zero, as rules.round_points does


def test_unenriched_free_mail_lead_is_classified_for_sql(now: datetime) -> None:
    model = ScoringModel.objects.create(name="Free mail", is_active=True)
    ScoringRuleFactory(
        scoring_model=model, kind="attribute_equals", points=50, params={"field": "country", "value": "GB"}
    )
    ScoringRuleFactory(scoring_model=model, kind="free_mail", points=0, params={"effect": "floor", "floor_score": 5})
    lead = LeadFactory(email="ada@yahoo.co.uk", email_domain_kind="")

    services.rescore_all(now=now)

    lead.refresh_from_db()
    assert lead.score == 5


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only: PostgreSQL folds case itself")
def test_sqlite_connections_compare_text_like_python() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT scoring_norm(%s), scoring_norm_domain(%s)", ["  ÉCOLE Straße\t", " @EU.Rival.COM. "])
        row = cursor.fetchone()

    assert row == ("école strasse", "eu.rival.com")


# --- Random leads -----------------------------------------------------------------------------------

texts = st.sampled_from(["Software", " software ", "SOFTWARE", "Retail", "", "Fintech", "École"])
answers = st.fixed_dictionaries(
    {},
    optional={
        "budget": st.sampled_from(["250", " 99.5 ", "lots", "", "1e3", "١٢"])
        | st.integers(-10, 10**6)
        | st.floats(-1e6, 1e6),
        "products": st.lists(st.sampled_from(["CRM", "erp", " Hr ", ""]), max_size=3) | st.sampled_from(["crm", "ERP"]),
        "newsletter": st.booleans() | st.none(),
        "plan": st.sampled_from(["free", "Team", "enterprise", "other"]),
        "seats": st.integers(0, 50) | st.sampled_from(["12", "12.5", "x"]),
    },
)
leads = st.lists(
    st.fixed_dictionaries(
        {
            "industry": texts,
            "country": st.sampled_from(["DE", "at", "US", ""]),
            "employee_count": st.none() | st.integers(0, 20_000),
            "seniority": st.sampled_from([*SENIORITY, "Director", " VP ", ""]),
            "job_title": st.sampled_from(["Head of Marketing", "CTO", 'Marketing\'s "lead"', "", "student"]),
            "email": st.sampled_from(["gmail.com", "acme.example", "eu.rival.com", "other.io", None]),
            "company_domain": st.sampled_from(["rival.com", "acme.example", "", "sub.other.io"]),
            "custom_answers": answers,
            "activity_ages": st.lists(
                st.tuples(
                    st.sampled_from(["webinar_attended", "pricing_page_view", "email_clicked"]), st.floats(-2, 400)
                ),
                max_size=5,
            ),
        }
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=leads)
def test_sql_scores_random_leads_like_the_pure_evaluator(drawn: list[dict[str, Any]], now: datetime) -> None:
    Lead.objects.all().delete()
    ScoringModel.objects.all().delete()
    _model_with(sorted(KIND_RULES))
    for index, values in enumerate(drawn):
        ages = values.pop("activity_ages")
        domain = values.pop("email")
        lead = LeadFactory(
            email=f"p{index}@{domain}" if domain else None, phone="" if domain else "+15550100", **values
        )
        Activity.objects.bulk_create(
            Activity(lead=lead, kind=kind, occurred_at=now - timedelta(days=age)) for kind, age in ages
        )
    expected = _pure_scores(now)

    services.rescore_all(now=now, batch_size=3)

    assert _stored_scores() == expected
