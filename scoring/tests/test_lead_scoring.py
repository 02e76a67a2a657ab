"""Scoring one lead (the pipeline step): what is stored, and how thresholds move the stage."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from leads.models import ActivityKind, Lead, Stage, StageChange
from leads.tests.factories import ActivityFactory, LeadFactory, UserFactory
from scoring import services
from scoring.models import ScoringModel
from scoring.selectors import leads_missing_mql_fields
from scoring.tests.factories import ScoringRuleFactory

pytestmark = pytest.mark.django_db


def _icp_rule(model: ScoringModel, points: int = 70) -> None:
    ScoringRuleFactory(
        scoring_model=model, name="ICP industry", kind="attribute_in", points=points,
        params={"field": "industry", "values": ["Software"]},
    )  # fmt: skip


def test_score_lead_stores_total_fit_engagement_and_time(scoring_model: ScoringModel, now: datetime) -> None:
    _icp_rule(scoring_model, points=30)
    ScoringRuleFactory(
        scoring_model=scoring_model, kind="activity", dimension="engagement", points=10,
        params={"activity_kind": ActivityKind.WEBINAR_ATTENDED, "within_days": 30},
    )  # fmt: skip
    lead = LeadFactory(industry="Software")
    ActivityFactory(lead=lead, occurred_at=now - timedelta(days=30))

    services.score_lead(lead_id=lead.pk, now=now)

    lead.refresh_from_db()
    assert (lead.score, lead.fit_score, lead.engagement_score, lead.scored_at) == (35, 30, 5, now)


def test_score_lead_stores_the_reasons_behind_the_score(scoring_model: ScoringModel, now: datetime) -> None:
    _icp_rule(scoring_model, points=30)
    lead = LeadFactory(industry="Software")

    services.score_lead(lead_id=lead.pk, now=now)

    lead.refresh_from_db()
    rule_id = scoring_model.rules.get().pk
    assert lead.score_breakdown == [
        {
            "rule_id": rule_id,
            "name": "ICP industry",
            "kind": "attribute_in",
            "dimension": "fit",
            "points": 30,
            "reason": "Industry is Software, one of the listed values (+30)",
        }
    ]


def test_unchanged_score_keeps_the_time_it_was_scored(scoring_model: ScoringModel, now: datetime) -> None:
    _icp_rule(scoring_model, points=30)
    lead = LeadFactory(industry="Software")
    services.score_lead(lead_id=lead.pk, now=now)

    services.score_lead(lead_id=lead.pk, now=now + timedelta(hours=1))

    lead.refresh_from_db()
    assert lead.scored_at == now


def test_score_lead_without_an_active_model_changes_nothing(now: datetime) -> None:
    lead = LeadFactory(industry="Software")

    services.score_lead(lead_id=lead.pk, now=now)

    lead.refresh_from_db()
    assert (lead.score, lead.scored_at, lead.stage) == (0, None, Stage.NEW)


def test_lead_crossing_the_mql_threshold_with_baseline_fields_becomes_mql(
    scoring_model: ScoringModel, now: datetime
) -> None:
    _icp_rule(scoring_model)
    lead = LeadFactory(industry="Software", stage=Stage.NURTURE)

    services.score_lead(lead_id=lead.pk, now=now)

    change = StageChange.objects.get(lead=lead)
    assert (change.from_stage, change.to_stage, change.changed_at) == (Stage.NURTURE, Stage.MQL, now)
    assert change.reason == "Score 70 reached the MQL threshold (60) of scoring model “Active model”."


def test_lead_crossing_the_mql_threshold_without_baseline_fields_stays_and_is_listed(
    scoring_model: ScoringModel, now: datetime
) -> None:
    _icp_rule(scoring_model)
    lead = LeadFactory(industry="Software", company_name="")

    services.score_lead(lead_id=lead.pk, now=now)

    lead.refresh_from_db()
    assert lead.stage == Stage.NEW
    assert list(leads_missing_mql_fields().values_list("pk", flat=True)) == [lead.pk]


def test_held_lead_becomes_mql_once_its_fields_are_complete(scoring_model: ScoringModel, now: datetime) -> None:
    _icp_rule(scoring_model)
    lead = LeadFactory(industry="Software", company_name="")
    services.score_lead(lead_id=lead.pk, now=now)
    Lead.objects.filter(pk=lead.pk).update(company_name="Acme")

    services.score_lead(lead_id=lead.pk, now=now + timedelta(hours=1))

    lead.refresh_from_db()
    assert lead.stage == Stage.MQL
    assert not leads_missing_mql_fields().exists()


def test_phone_counts_as_the_direct_channel_of_a_baseline(scoring_model: ScoringModel, now: datetime) -> None:
    scoring_model.baseline_fields = ["email_or_phone"]
    scoring_model.save()
    _icp_rule(scoring_model)
    lead = LeadFactory(industry="Software", email=None, phone="+442071838750")

    services.score_lead(lead_id=lead.pk, now=now)

    lead.refresh_from_db()
    assert lead.stage == Stage.MQL


def test_scoring_twice_moves_the_stage_once(scoring_model: ScoringModel, now: datetime) -> None:
    _icp_rule(scoring_model)
    lead = LeadFactory(industry="Software")

    services.score_lead(lead_id=lead.pk, now=now)
    services.score_lead(lead_id=lead.pk, now=now)

    assert StageChange.objects.filter(lead=lead).count() == 1


def test_new_lead_below_the_nurture_threshold_goes_to_nurture(scoring_model: ScoringModel, now: datetime) -> None:
    lead = LeadFactory()

    services.score_lead(lead_id=lead.pk, now=now)

    change = StageChange.objects.get(lead=lead)
    assert (change.to_stage, change.reason) == (
        Stage.NURTURE,
        "Score 0 is below the nurture threshold (20) of scoring model “Active model”.",
    )


def test_lead_between_the_thresholds_keeps_its_stage(scoring_model: ScoringModel, now: datetime) -> None:
    _icp_rule(scoring_model, points=40)
    lead = LeadFactory(industry="Software", stage=Stage.NURTURE)

    services.score_lead(lead_id=lead.pk, now=now)

    assert not StageChange.objects.filter(lead=lead).exists()


def test_unassigned_mql_whose_engagement_decayed_goes_back_to_nurture(
    scoring_model: ScoringModel, now: datetime
) -> None:
    ScoringRuleFactory(
        scoring_model=scoring_model, kind="activity", dimension="engagement", points=70,
        params={"activity_kind": ActivityKind.PRICING_PAGE_VIEW, "within_days": 90},
    )  # fmt: skip
    lead = LeadFactory(stage=Stage.MQL)
    ActivityFactory(lead=lead, kind=ActivityKind.PRICING_PAGE_VIEW, occurred_at=now - timedelta(days=60))

    services.score_lead(lead_id=lead.pk, now=now)

    lead.refresh_from_db()
    assert (lead.score, lead.stage) == (18, Stage.NURTURE)


@pytest.mark.parametrize(
    ("stage", "has_owner"),
    [(Stage.MQL, True), (Stage.NEW, True), (Stage.SQL, False), (Stage.REJECTED, False), (Stage.SQL, True)],
    ids=["owned-mql", "owned-new", "sql", "rejected", "owned-sql"],
)
def test_lead_in_sales_hands_is_never_moved_by_a_score(
    scoring_model: ScoringModel, now: datetime, stage: str, has_owner: bool
) -> None:
    ScoringRuleFactory(scoring_model=scoring_model, kind="student", points=0, params={"effect": "disqualify"})
    lead = LeadFactory(stage=stage, seniority="student", owner=UserFactory() if has_owner else None)

    services.score_lead(lead_id=lead.pk, now=now)

    lead.refresh_from_db()
    assert lead.stage == stage
    assert lead.score == 0  # the score itself is still updated


def test_disqualify_rule_moves_a_marketing_lead_to_disqualified(scoring_model: ScoringModel, now: datetime) -> None:
    _icp_rule(scoring_model)
    ScoringRuleFactory(
        scoring_model=scoring_model, name="No students", kind="student", points=0, params={"effect": "disqualify"}
    )
    lead = LeadFactory(industry="Software", seniority="student")

    services.score_lead(lead_id=lead.pk, now=now)

    change = StageChange.objects.get(lead=lead)
    assert (change.to_stage, change.reason) == (
        Stage.DISQUALIFIED,
        "Disqualified by scoring model “Active model”: No students.",
    )


def test_floor_effect_caps_the_score_without_disqualifying(scoring_model: ScoringModel, now: datetime) -> None:
    _icp_rule(scoring_model)
    ScoringRuleFactory(
        scoring_model=scoring_model, kind="free_mail", points=0, params={"effect": "floor", "floor_score": 30}
    )
    lead = LeadFactory(industry="Software", email="ada@gmail.com", stage=Stage.NURTURE)

    services.score_lead(lead_id=lead.pk, now=now)

    lead.refresh_from_db()
    assert (lead.score, lead.fit_score, lead.stage) == (30, 70, Stage.NURTURE)


def test_disqualified_lead_stays_disqualified_when_its_score_rises(scoring_model: ScoringModel, now: datetime) -> None:
    _icp_rule(scoring_model)
    lead = LeadFactory(industry="Software", stage=Stage.DISQUALIFIED)

    services.score_lead(lead_id=lead.pk, now=now)

    lead.refresh_from_db()
    assert lead.stage == Stage.DISQUALIFIED


# --- Recycled leads, parked in nurture until a date -----------------------------------------------


def test_score_lead_keeps_a_parked_lead_out_of_mql_before_its_date(scoring_model: ScoringModel, now: datetime) -> None:
    _icp_rule(scoring_model)
    lead = LeadFactory(industry="Software", stage=Stage.NURTURE, nurture_ends_at=now + timedelta(days=30))

    services.score_lead(lead_id=lead.pk, now=now)

    lead.refresh_from_db()
    assert (lead.score, lead.stage) == (70, Stage.NURTURE)


def test_score_lead_makes_a_lead_an_mql_once_its_park_has_ended(scoring_model: ScoringModel, now: datetime) -> None:
    _icp_rule(scoring_model)
    lead = LeadFactory(industry="Software", stage=Stage.NURTURE, nurture_ends_at=now)

    services.score_lead(lead_id=lead.pk, now=now)

    lead.refresh_from_db()
    assert lead.stage == Stage.MQL


def test_score_lead_still_disqualifies_a_parked_lead(scoring_model: ScoringModel, now: datetime) -> None:
    ScoringRuleFactory(scoring_model=scoring_model, kind="student", points=0, params={"effect": "disqualify"})
    lead = LeadFactory(stage=Stage.NURTURE, seniority="student", nurture_ends_at=now + timedelta(days=30))

    services.score_lead(lead_id=lead.pk, now=now)

    lead.refresh_from_db()
    assert lead.stage == Stage.DISQUALIFIED


def test_score_lead_starts_the_stage_change_reason_with_its_occasion(
    scoring_model: ScoringModel, now: datetime
) -> None:
    _icp_rule(scoring_model)
    lead = LeadFactory(industry="Software", stage=Stage.NURTURE)

    services.score_lead(lead_id=lead.pk, now=now, occasion="Recycle date reached.")

    assert StageChange.objects.get(lead=lead).reason == (
        "Recycle date reached. Score 70 reached the MQL threshold (60) of scoring model “Active model”."
    )
