"""Which stage a score moves a lead to, parked (recycled) leads included."""

from __future__ import annotations

from datetime import timedelta

from leads.models import Stage
from leads.tests.factories import FIXED_NOW
from scoring import rules, thresholds

SPEC = rules.ScoringModelSpec(half_life_days=30, mql_threshold=60, nurture_threshold=20)


def _target(**overrides: object) -> str:
    facts: dict[str, object] = {
        "stage": Stage.NURTURE,
        "is_owned": False,
        "is_parked": False,
        "total": 80,
        "is_disqualified": False,
        "has_baseline": True,
    }
    arguments = {**facts, **overrides}
    has_baseline = bool(arguments.pop("has_baseline"))
    return thresholds.target_stage(**arguments, has_baseline=lambda: has_baseline, spec=SPEC)  # type: ignore[arg-type]


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
