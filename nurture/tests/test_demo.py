"""The demo loader: two live tracks of three steps, some nurture leads enrolled with past emails and clicks."""

from __future__ import annotations

import pytest

from leads import demo as lead_demo
from leads.models import Activity, ActivityKind
from leads.tests.factories import FIXED_NOW
from nurture import demo
from nurture.models import Enrollment, Send, Track
from scoring import demo as scoring_demo
from scoring.models import ScoringRule

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_leads(db: None) -> None:
    users = lead_demo.ensure_demo_users(password="demo-for-tests")
    reps = [user for name, user in users.items() if name.startswith("rep")]
    lead_demo.load_demo_leads(count=60, reps=reps, now=FIXED_NOW)
    scoring_demo.load_demo_scoring(users=users, now=FIXED_NOW)


def test_demo_makes_two_live_tracks_of_three_steps(demo_leads: None) -> None:
    demo.load_demo_nurture(now=FIXED_NOW)

    tracks = Track.objects.order_by("key")
    assert [(t.key, t.status, t.steps.count()) for t in tracks] == [
        ("general-nurture", "live", 3),
        ("start-up-nurture", "live", 3),
    ]


def test_demo_enrolls_nurture_leads_with_emails_and_clicks(demo_leads: None) -> None:
    demo.load_demo_nurture(now=FIXED_NOW)

    assert Enrollment.objects.count() > 3
    assert Send.objects.count() >= Enrollment.objects.count()
    assert Activity.objects.filter(kind=ActivityKind.EMAIL_CLICKED, metadata__track__isnull=False).exists()
    assert ScoringRule.objects.filter(params__activity_kind="email_clicked", scoring_model__is_active=True).exists()


def test_demo_is_idempotent(demo_leads: None) -> None:
    demo.load_demo_nurture(now=FIXED_NOW)
    counts = (Track.objects.count(), Enrollment.objects.count(), Send.objects.count())

    demo.load_demo_nurture(now=FIXED_NOW)

    assert (Track.objects.count(), Enrollment.objects.count(), Send.objects.count()) == counts
