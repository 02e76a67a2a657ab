"""Why a lead is not an MQL yet: the points short, the unknown facts that would give them, the missing fields."""

import pytest

from leads.models import ConsentStatus, EnrichmentStatus, Lead, Stage
from leads.tests.factories import FIXED_NOW, ConsentFactory, LeadFactory
from scoring import explain, rules, selectors
from scoring.demo import install_default_model
from scoring.services.lead_scoring import score_lead

ICP = rules.RuleSpec(
    id=1, name="ICP industry", kind="attribute_in", dimension=rules.FIT, points=20,
    params={"field": "industry", "values": ["Software"]},
)  # fmt: skip
SENIOR = rules.RuleSpec(
    id=2, name="Senior", kind="attribute_in", dimension=rules.FIT, points=15,
    params={"field": "seniority", "values": ["vp"]},
)  # fmt: skip
WEBINAR = rules.RuleSpec(
    id=3, name="Webinar", kind="activity", dimension=rules.ENGAGEMENT, points=10,
    params={"activity_kind": "webinar_attended", "within_days": 30},
)  # fmt: skip


def test_a_fit_rule_on_an_unknown_fact_is_points_the_lead_could_gain() -> None:
    facts = rules.LeadFacts(industry="", seniority="vp")

    found = explain.unknown_facts(facts, (ICP, SENIOR, WEBINAR))

    assert found == (explain.UnknownFact(field="industry", rule="ICP industry", points=20),)


def test_a_known_fact_that_does_not_match_is_not_an_unknown_fact() -> None:
    facts = rules.LeadFacts(industry="Retail")

    assert explain.unknown_facts(facts, (ICP,)) == ()


def test_the_hold_says_points_short_gains_and_missing_fields() -> None:
    hold = explain.Hold(
        points_short=35, threshold=60, unknown_facts=(explain.UnknownFact("industry", "ICP industry", 20),),
        missing_fields=("Country",),
    )  # fmt: skip

    assert str(hold) == (
        "35 points short of the MQL threshold of 60; could gain: Industry unknown (“ICP industry” +20); "
        "missing: Country."
    )


@pytest.mark.django_db
def test_a_lead_at_the_threshold_with_its_fields_is_not_held() -> None:
    install_default_model(now=FIXED_NOW)
    scoring = selectors.active_scoring()
    assert scoring is not None
    lead = LeadFactory(score=60)
    ConsentFactory(lead=lead)

    assert explain.hold_of(lead, scoring) is None


@pytest.mark.django_db
def test_a_lead_with_sales_is_never_held() -> None:
    install_default_model(now=FIXED_NOW)
    scoring = selectors.active_scoring()
    assert scoring is not None

    assert explain.hold_of(LeadFactory(score=0, stage=Stage.SQL), scoring) is None


@pytest.mark.django_db
def test_a_senior_title_a_stated_size_and_industry_reach_mql_with_the_default_model() -> None:
    install_default_model(now=FIXED_NOW)
    lead = LeadFactory(
        email="vp@helix-biotech.de", company_name="Helix Biotech GmbH", company_domain="helix-biotech.de",
        job_title="VP of Engineering", seniority="vp", country="DE", industry="Healthcare", size_band="Mid-market",
        enrichment_status=EnrichmentStatus.ENRICHED,
    )  # fmt: skip
    ConsentFactory(lead=lead, status=ConsentStatus.CONFIRMED)
    lead.activities.create(kind="form_submitted", occurred_at=FIXED_NOW)

    lead = score_lead(lead_id=lead.pk, now=FIXED_NOW)

    assert (lead.score, lead.stage) == (60, Stage.MQL)
    assert Lead.objects.get(pk=lead.pk).stage == Stage.MQL
