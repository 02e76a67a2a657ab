"""The what-if preview predicts what saving a change and rescoring actually does."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest

from leads.models import ActivityKind, Lead, Stage, StageChange
from leads.tests.factories import ActivityFactory, LeadFactory, UserFactory
from scoring import services
from scoring.models import ScoringModel, ScoringRule
from scoring.services.whatif import BUCKET_WIDTH, WhatIf
from scoring.tests.factories import ScoringRuleFactory

pytestmark = pytest.mark.django_db


def _mixed_leads(now: datetime) -> None:
    """Leads in every situation a change can meet: held, owned, MQL, nurture, disqualified, engaged."""
    for industry, stage in [("Software", Stage.NEW), ("Software", Stage.NURTURE), ("Software", Stage.MQL)]:
        LeadFactory.create_batch(2, industry=industry, stage=stage)
    LeadFactory(industry="Software", company_name="")  # held for a missing field
    LeadFactory(industry="Retail", stage=Stage.MQL, owner=UserFactory())  # in sales' hands
    LeadFactory(industry="Software", seniority="student")
    engaged = LeadFactory(industry="Retail", stage=Stage.NURTURE)
    ActivityFactory(lead=engaged, kind=ActivityKind.WEBINAR_ATTENDED, occurred_at=now - timedelta(days=3))


def _model(now: datetime) -> ScoringModel:
    model = ScoringModel.objects.create(name="Live", is_active=True, mql_threshold=60, nurture_threshold=20)
    ScoringRuleFactory(
        scoring_model=model,
        name="ICP",
        kind="attribute_in",
        points=40,
        params={"field": "industry", "values": ["Software"]},
    )
    ScoringRuleFactory(scoring_model=model, name="Students", kind="student", points=0, params={"effect": "disqualify"})
    ScoringRuleFactory(
        scoring_model=model, name="Webinars", kind="activity", dimension="engagement", points=30,
        params={"activity_kind": ActivityKind.WEBINAR_ATTENDED, "within_days": 30},
    )  # fmt: skip
    services.rescore_all(now=now)
    return model


def _actual(now: datetime) -> tuple[int, int, Counter[int]]:
    changes = StageChange.objects.filter(changed_at=now)
    entering = changes.filter(to_stage=Stage.MQL).count()
    leaving = changes.filter(from_stage=Stage.MQL).count()
    histogram = Counter(
        -BUCKET_WIDTH if s < 0 else s // BUCKET_WIDTH * BUCKET_WIDTH
        for s in Lead.objects.values_list("score", flat=True)
    )
    return entering, leaving, histogram


def _predicted(what_if: WhatIf) -> tuple[int, int, Counter[int]]:
    histogram = Counter({bucket.low: bucket.after for bucket in what_if.histogram if bucket.after})
    return what_if.entering_mql, what_if.leaving_mql, histogram


def test_rule_preview_equals_what_rescoring_does_after_saving(now: datetime) -> None:
    _mixed_leads(now)
    model = _model(now - timedelta(days=1))
    rule = model.rules.get(name="ICP")
    rule.points = 65  # Software leads now reach the MQL threshold alone
    later = now + timedelta(hours=1)

    what_if = services.preview_rule_change(rule=rule, now=later)
    rule.save()
    services.rescore_all(now=later)

    assert _predicted(what_if) == _actual(later)
    assert (what_if.entering_mql, what_if.held_missing_fields) == (4, 1)


def test_model_preview_equals_what_rescoring_does_after_saving(now: datetime) -> None:
    _mixed_leads(now)
    model = _model(now - timedelta(days=1))
    model.nurture_threshold = 45  # unassigned MQLs at 40 now fall below nurture
    later = now + timedelta(hours=1)

    what_if = services.preview_model_change(model=model, now=later)
    model.save()
    services.rescore_all(now=later)

    assert _predicted(what_if) == _actual(later)
    assert what_if.leaving_mql == 2


def test_preview_of_a_new_rule_counts_it_in(now: datetime) -> None:
    _mixed_leads(now)
    model = _model(now - timedelta(days=1))
    rule = ScoringRule(
        scoring_model=model,
        name="Everyone",
        kind="attribute_equals",
        points=25,
        params={"field": "country", "value": "GB"},
    )

    what_if = services.preview_rule_change(rule=rule, now=now)

    assert what_if.entering_mql == 4


def test_preview_reports_the_distribution_before_and_after(now: datetime) -> None:
    LeadFactory(industry="Software")
    model = _model(now)
    rule = model.rules.get(name="ICP")
    rule.points = 15

    what_if = services.preview_rule_change(rule=rule, now=now)

    assert [(b.label, b.before, b.after) for b in what_if.histogram] == [("10 to 19", 0, 1), ("40 to 49", 1, 0)]


def test_preview_saves_nothing(now: datetime) -> None:
    _mixed_leads(now)
    model = _model(now)
    rule = model.rules.get(name="ICP")
    rule.points = 65
    before = list(Lead.objects.order_by("id").values_list("score", "stage"))

    services.preview_rule_change(rule=rule, now=now)

    assert list(Lead.objects.order_by("id").values_list("score", "stage")) == before
    assert ScoringRule.objects.get(pk=rule.pk).points == 40


def test_preview_leaves_erased_leads_out_as_rescoring_does(now: datetime) -> None:
    LeadFactory(industry="Software")
    LeadFactory(industry="", score=55, erased_at=now - timedelta(days=1))
    model = _model(now)
    rule = model.rules.get(name="ICP")
    rule.points = 65

    what_if = services.preview_rule_change(rule=rule, now=now)

    assert (what_if.lead_count, what_if.entering_mql) == (1, 1)
    assert [(b.label, b.before, b.after) for b in what_if.histogram] == [("40 to 49", 1, 0), ("60 to 69", 0, 1)]


def test_preview_of_a_large_table_scores_a_sample_and_scales_it(now: datetime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("scoring.services.whatif.EXACT_UP_TO", 2)
    LeadFactory.create_batch(6, industry="Software")
    model = _model(now)
    rule = model.rules.get(name="ICP")
    rule.points = 65

    what_if = services.preview_rule_change(rule=rule, now=now)

    assert (what_if.is_estimate, what_if.sample_every, what_if.lead_count) == (True, 3, 6)
    assert sum(bucket.after for bucket in what_if.histogram) == 6
