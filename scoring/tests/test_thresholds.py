"""Which stage a score moves a lead to: the Python policy and its SQL twin, parked (recycled) leads included."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.db.models import Q, Value
from django.db.models.lookups import Exact

from leads.models import Lead, Stage
from leads.tests.factories import FIXED_NOW, LeadFactory
from scoring import rules, thresholds

SPEC = rules.ScoringModelSpec(half_life_days=30, mql_threshold=60, nurture_threshold=20)
ALWAYS = Q(Exact(Value(1), 1))


def _target(**overrides: object) -> str:
    facts: dict[str, object] = {
        "stage": Stage.NURTURE,
        "is_owned": False,
        "is_parked": False,
        "total": 80,
        "is_disqualified": False,
        "has_baseline": True,
    }
    return thresholds.target_stage(**{**facts, **overrides}, spec=SPEC)  # type: ignore[arg-type]


def test_a_parked_lead_above_the_mql_threshold_stays_in_nurture() -> None:
    assert _target(is_parked=True) == ""


def test_a_parked_lead_without_baseline_fields_is_not_held_either() -> None:
    assert _target(is_parked=True, has_baseline=False) == ""


def test_a_parked_lead_is_still_disqualified_by_a_disqualifier() -> None:
    assert _target(is_parked=True, is_disqualified=True) == Stage.DISQUALIFIED


def test_a_lead_whose_park_has_ended_becomes_an_mql() -> None:
    assert _target(is_parked=False) == Stage.MQL


def test_a_lead_is_parked_only_before_its_nurture_end() -> None:
    ends_at = FIXED_NOW + timedelta(days=1)

    assert [thresholds.is_parked(nurture_ends_at=ends_at, now=now) for now in (FIXED_NOW, ends_at)] == [True, False]
    assert not thresholds.is_parked(nurture_ends_at=None, now=FIXED_NOW)


@pytest.mark.django_db
def test_the_sql_twin_agrees_with_the_python_policy_in_every_case() -> None:
    LeadFactory()  # one row to evaluate the expression on
    flags = list(itertools.product([False, True], repeat=4))
    cases = list(itertools.product(Stage.values, flags, [10, 40, 60]))

    disagreements = []
    for stage, (owned, parked, disqualified, baseline), total in cases:
        condition = {True: ALWAYS, False: thresholds.NEVER}
        sql = thresholds.target_stage_sql(
            stage=Value(stage), is_owned=condition[owned], is_parked=condition[parked], total=Value(total),
            is_disqualified=condition[disqualified], has_baseline=condition[baseline], spec=SPEC,
        )  # fmt: skip
        in_sql = Lead.objects.annotate(target=sql).values_list("target", flat=True).get()
        in_python = _target(
            stage=stage, is_owned=owned, is_parked=parked, total=total, is_disqualified=disqualified,
            has_baseline=baseline,
        )  # fmt: skip
        if in_sql != in_python:
            disagreements.append((stage, owned, parked, disqualified, baseline, total, in_sql, in_python))

    assert disagreements == []


@pytest.mark.django_db
def test_parked_q_selects_the_leads_is_parked_says_are_parked() -> None:
    ends = [None, FIXED_NOW - timedelta(minutes=1), FIXED_NOW, FIXED_NOW + timedelta(minutes=1)]
    leads = [LeadFactory(nurture_ends_at=ends_at) for ends_at in ends]

    in_sql = set(Lead.objects.filter(thresholds.parked_q(now=FIXED_NOW)).values_list("pk", flat=True))

    assert in_sql == {
        lead.pk for lead in leads if thresholds.is_parked(nurture_ends_at=lead.nurture_ends_at, now=FIXED_NOW)
    }
