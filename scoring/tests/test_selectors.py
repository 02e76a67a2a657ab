"""What the evaluator is fed: a lead's facts and activities, and the active model as specs."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from leads.models import Stage
from leads.tests.factories import FIXED_NOW, ActivityFactory, LeadFactory, UserFactory
from scoring import selectors
from scoring.models import ScoringModel, ScoringRule
from scoring.tests.factories import ScoringRuleFactory

pytestmark = pytest.mark.django_db


def test_lead_facts_take_source_and_channel_from_the_credited_first_touch(db: None) -> None:
    lead = LeadFactory(first_touch_source="google", first_touch_channel="Paid search")

    facts = selectors.lead_facts(lead)

    assert (facts.source, facts.channel) == ("google", "Paid search")


def test_lead_facts_classify_the_email_domain_until_enrichment_has(db: None) -> None:
    lead = LeadFactory(email="ada@gmail.com", email_domain_kind="")

    facts = selectors.lead_facts(lead)

    assert (facts.email_domain, facts.domain_kind) == ("gmail.com", "free_mail")


def test_lead_facts_prefer_the_stored_domain_kind(db: None) -> None:
    lead = LeadFactory(email="ada@gmail.com", email_domain_kind="company")

    assert selectors.lead_facts(lead).domain_kind == "company"


def test_phone_only_lead_has_no_email_domain(db: None) -> None:
    lead = LeadFactory(email=None, phone="+442071838750")

    facts = selectors.lead_facts(lead)

    assert (facts.email_domain, facts.domain_kind) == ("", "")


def test_activity_facts_cover_the_lookback_oldest_first(now: datetime) -> None:
    lead = LeadFactory()
    for days in (1, 40, 10, -1):
        ActivityFactory(lead=lead, occurred_at=now - timedelta(days=days))

    activities = selectors.activity_facts(lead_id=lead.pk, lookback_days=30, now=now)

    assert [a.occurred_at for a in activities] == [now - timedelta(days=10), now - timedelta(days=1)]


def test_active_scoring_leaves_out_inactive_and_invalid_rules(scoring_model: ScoringModel) -> None:
    kept = ScoringRuleFactory(scoring_model=scoring_model)
    ScoringRuleFactory(scoring_model=scoring_model, is_active=False)
    ScoringRule.objects.create(scoring_model=scoring_model, name="Broken", kind="gone", points=1, params={})

    scoring = selectors.active_scoring()

    assert scoring is not None
    assert [rule.id for rule in scoring.rule_specs] == [kept.pk]


def test_lookback_is_the_longest_activity_window(scoring_model: ScoringModel) -> None:
    for days in (30, 90):
        ScoringRuleFactory(
            scoring_model=scoring_model, kind="activity", dimension="engagement",
            params={"activity_kind": "webinar_attended", "within_days": days},
        )  # fmt: skip

    scoring = selectors.active_scoring()

    assert scoring is not None and scoring.lookback_days == 90


def test_missing_fields_list_skips_owned_low_and_complete_leads(scoring_model: ScoringModel) -> None:
    held = LeadFactory(first_name="", score=60)
    LeadFactory(first_name="", score=59)
    LeadFactory(first_name="", score=90, owner=UserFactory())
    LeadFactory(first_name="", score=90, stage=Stage.DISQUALIFIED)
    LeadFactory(score=90)

    assert list(selectors.leads_missing_mql_fields().values_list("pk", flat=True)) == [held.pk]


def test_missing_fields_list_skips_a_lead_recycled_until_a_date(scoring_model: ScoringModel) -> None:
    LeadFactory(first_name="", score=90, stage=Stage.NURTURE, nurture_ends_at=FIXED_NOW + timedelta(days=30))

    assert not selectors.leads_missing_mql_fields().exists()
