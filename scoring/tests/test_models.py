"""Constraints and validation of scoring models and rules."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from scoring.models import RescoreJob, RescoreStatus, ScoringModel, ScoringRule
from scoring.tests.factories import ScoringModelFactory, ScoringRuleFactory

pytestmark = pytest.mark.django_db


def test_database_allows_only_one_active_model() -> None:
    ScoringModelFactory(is_active=True)

    with pytest.raises(IntegrityError):
        ScoringModelFactory(is_active=True)


def test_many_inactive_models_are_allowed() -> None:
    ScoringModelFactory.create_batch(3, is_active=False)

    assert ScoringModel.objects.count() == 3


def test_model_refuses_unknown_baseline_fields() -> None:
    model = ScoringModelFactory.build(baseline_fields=["first_name", "shoe_size"])

    with pytest.raises(ValidationError) as raised:
        model.full_clean()

    assert raised.value.message_dict["baseline_fields"][0].startswith("Unknown fields: shoe_size;")


def test_rule_clean_names_the_bad_parameter() -> None:
    rule = ScoringRuleFactory.build(kind="numeric_range", params={"field": "employee_count", "min": 10, "max": 5})

    with pytest.raises(ValidationError) as raised:
        rule.clean()

    (error,) = raised.value.error_dict["params"]
    assert (error.message, error.params) == ("The maximum must not be below the minimum.", {"param": "max"})


def test_rule_clean_refuses_an_unknown_kind() -> None:
    rule = ScoringRuleFactory.build(kind="telepathy", params={})

    with pytest.raises(ValidationError) as raised:
        rule.clean()

    assert "Unknown rule kind 'telepathy'" in raised.value.message_dict["kind"][0]


def test_rule_cap_must_be_positive_in_the_database() -> None:
    with pytest.raises(IntegrityError):
        ScoringRuleFactory(cap=0)


def test_rule_kind_label_comes_from_the_registry() -> None:
    assert ScoringRule(kind="activity").kind_label == "Activity, decayed by age"
    assert ScoringRule(kind="gone").kind_label == "Unknown kind (gone)"


@pytest.mark.parametrize(
    ("status", "done", "total", "percent"),
    [(RescoreStatus.RUNNING, 0, 0, 0), (RescoreStatus.RUNNING, 999, 1000, 99), (RescoreStatus.DONE, 5, 4, 100)],
)
def test_job_progress_is_a_percentage_that_reaches_100_only_when_done(
    status: str, done: int, total: int, percent: int
) -> None:
    assert RescoreJob(status=status, done=done, total=total).progress_percent == percent
