from __future__ import annotations

import pytest

from leads.models import Lead, Touch
from reports.demo import DEMO_MONTHS, DEMO_SPEND, load_demo_reports
from reports.models import Spend
from reports.tests.factories import FIXED_NOW, Step, journey

pytestmark = pytest.mark.django_db


def test_demo_spend_covers_every_demo_source_each_month_and_the_event_once() -> None:
    load_demo_reports(users={}, now=FIXED_NOW)

    assert Spend.objects.count() == len(DEMO_SPEND) * DEMO_MONTHS + 1
    assert set(Spend.objects.values_list("source", flat=True)) == {
        "google", "linkedin", "newsletter", "b2b-growth-podcast", "partner-webinar", "saastr-2026",
    }  # fmt: skip


def test_loading_the_demo_twice_creates_nothing_twice() -> None:
    for _ in range(3):
        journey(Step("podcast", source="b2b-growth-podcast"), created_at=FIXED_NOW.replace(month=1))
    load_demo_reports(users={}, now=FIXED_NOW)
    spend, touches = Spend.objects.count(), Touch.objects.count()

    summary = load_demo_reports(users={}, now=FIXED_NOW)

    assert (Spend.objects.count(), Touch.objects.count()) == (spend, touches)
    assert "(0 new); 0 follow-up touches" in summary


def test_follow_up_touches_never_change_the_first_touch() -> None:
    for _ in range(3):
        journey(Step("podcast", source="b2b-growth-podcast"), created_at=FIXED_NOW.replace(month=1))

    load_demo_reports(users={}, now=FIXED_NOW)

    assert Touch.objects.count() > 3
    assert set(Lead.objects.values_list("first_touch_channel", flat=True)) == {"podcast"}
    assert not Touch.objects.filter(occurred_at__gt=FIXED_NOW).exists()
