"""The demo loader: a realistic default model, some engagement, every demo lead scored."""

from __future__ import annotations

from datetime import datetime

import pytest

from leads import demo as lead_demo
from leads.models import Activity, Lead, StageChange
from scoring import demo
from scoring.models import ScoringModel, ScoringRule

pytestmark = pytest.mark.django_db


@pytest.fixture
def users(db: None, now: datetime) -> dict[str, object]:
    users = lead_demo.ensure_demo_users(password="demo-for-tests")
    reps = [user for name, user in users.items() if name.startswith("rep")]
    lead_demo.load_demo_leads(count=30, reps=reps, now=now)
    return users


def test_demo_installs_the_default_model_as_the_active_one(users: dict[str, object], now: datetime) -> None:
    demo.load_demo_scoring(users=users, now=now)

    model = ScoringModel.objects.get(is_active=True)
    kinds = set(model.rules.values_list("kind", flat=True))
    assert model.name == demo.DEFAULT_MODEL_NAME
    assert {"attribute_in", "ordered_at_least", "activity", "free_mail"} <= kinds


def test_demo_scores_every_lead(users: dict[str, object], now: datetime) -> None:
    demo.load_demo_scoring(users=users, now=now)

    assert not Lead.objects.filter(scored_at__isnull=True).exists()
    assert Lead.objects.filter(engagement_score__gt=0).exists()


def test_demo_leaves_the_stage_of_leads_owned_by_reps(users: dict[str, object], now: datetime) -> None:
    owned = dict(Lead.objects.filter(owner__isnull=False).values_list("pk", "stage"))

    demo.load_demo_scoring(users=users, now=now)

    assert dict(Lead.objects.filter(pk__in=owned).values_list("pk", "stage")) == owned


def test_demo_twice_creates_nothing_twice(users: dict[str, object], now: datetime) -> None:
    demo.load_demo_scoring(users=users, now=now)
    counts = (ScoringRule.objects.count(), Activity.objects.count(), StageChange.objects.count())

    demo.load_demo_scoring(users=users, now=now)

    assert (ScoringRule.objects.count(), Activity.objects.count(), StageChange.objects.count()) == counts


def test_demo_keeps_a_marketers_active_model(users: dict[str, object], now: datetime) -> None:
    ScoringModel.objects.create(name="Ours", is_active=True)

    demo.load_demo_scoring(users=users, now=now)

    assert ScoringModel.objects.get(is_active=True).name == "Ours"
