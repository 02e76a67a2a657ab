"""Managers' first-touch corrections (recorded) and the spend import."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError

from leads import attribution
from leads.models import Lead, Touch
from reports import services
from reports.models import FirstTouchCorrection, Spend
from reports.tests.factories import FIXED_NOW, SpendFactory, Step, TouchFactory, journey

pytestmark = pytest.mark.django_db

LATER = FIXED_NOW + timedelta(days=3)


@pytest.fixture
def lead(db: None) -> Lead:
    """First touch paid search; a podcast touch came later."""
    return journey(Step("cpc", source="google", campaign="brand"), Step("podcast", 24, source="b2b-growth-podcast"))


def test_a_manager_credits_the_lead_to_another_of_its_touches(lead: Lead, manager: User) -> None:
    podcast = lead.touches.get(medium="podcast")

    services.correct_first_touch(lead=lead, touch=podcast, by=manager, reason="Said so on the call", now=LATER)

    lead.refresh_from_db()
    assert (lead.first_touch, lead.first_touch_channel, lead.first_touch_source) == (
        podcast,
        "podcast",
        "b2b-growth-podcast",
    )


def test_a_correction_records_who_when_why_and_what_it_was(lead: Lead, manager: User) -> None:
    paid, podcast = lead.touches.order_by("occurred_at")

    services.correct_first_touch(lead=lead, touch=podcast, by=manager, reason="Said so on the call", now=LATER)

    record = FirstTouchCorrection.objects.get()
    assert (record.lead, record.corrected_by, record.corrected_at, record.reason) == (
        lead,
        manager,
        LATER,
        "Said so on the call",
    )
    assert (record.previous_touch, record.previous_channel, record.previous_source, record.previous_campaign) == (
        paid,
        "paid_search",
        "google",
        "brand",
    )
    assert (record.touch, record.channel, record.source, record.touched_at) == (
        podcast,
        "podcast",
        "b2b-growth-podcast",
        podcast.occurred_at,
    )


def test_an_offline_touch_is_added_to_the_lead_and_credited(lead: Lead, manager: User) -> None:
    offline = services.OfflineTouch(channel="event", occurred_at=FIXED_NOW - timedelta(days=30), source="saastr-2026")

    correction = services.correct_first_touch(
        lead=lead, offline=offline, by=manager, reason="Met at the booth", now=LATER
    )

    lead.refresh_from_db()
    added = Touch.objects.get(lead=lead, source="saastr-2026")
    assert (added.channel, added.is_meaningful, added.occurred_at) == ("event", True, FIXED_NOW - timedelta(days=30))
    assert (lead.first_touch, correction.touch) == (added, added)


def test_later_touches_never_undo_a_correction(lead: Lead, manager: User) -> None:
    podcast = lead.touches.get(medium="podcast")
    services.correct_first_touch(lead=lead, touch=podcast, by=manager, reason="Said so", now=LATER)

    attribution.record_touch(lead=lead, fields={"source": "linkedin", "medium": "paid_social"}, now=LATER)

    lead.refresh_from_db()
    assert lead.first_touch == podcast


@pytest.mark.parametrize("who", ["marketer", "rep"])
def test_only_managers_may_correct(lead: Lead, who: str, request: pytest.FixtureRequest) -> None:
    user = request.getfixturevalue(who)
    podcast = lead.touches.get(medium="podcast")

    with pytest.raises(PermissionDenied):
        services.correct_first_touch(lead=lead, touch=podcast, by=user, reason="Because", now=LATER)

    lead.refresh_from_db()
    assert lead.first_touch_channel == "paid_search"
    assert not FirstTouchCorrection.objects.exists()


def test_a_correction_needs_a_reason(lead: Lead, manager: User) -> None:
    with pytest.raises(ValidationError):
        services.correct_first_touch(lead=lead, touch=lead.touches.last(), by=manager, reason="  ", now=LATER)


def test_a_touch_of_another_lead_is_refused(lead: Lead, manager: User) -> None:
    stranger = TouchFactory()

    with pytest.raises(ValidationError):
        services.correct_first_touch(lead=lead, touch=stranger, by=manager, reason="Mix-up", now=LATER)


def test_import_creates_spend_rows() -> None:
    result = services.import_spend(text="month,source,campaign,amount\n2026-03,google,brand-search,4200\n")

    assert (result.created, result.updated, result.errors) == (1, 0, [])
    spend = Spend.objects.get()
    assert (spend.source, spend.campaign, spend.month, spend.amount, spend.currency) == (
        "google", "brand-search", date(2026, 3, 1), Decimal("4200.00"), "EUR",
    )  # fmt: skip


def test_import_replaces_the_amount_of_an_existing_month() -> None:
    SpendFactory(source="google", campaign="brand-search", month=date(2026, 3, 1), amount=Decimal("1.00"))

    result = services.import_spend(
        text="month,source,campaign,amount,currency\n2026-03,google,brand-search,99.50,USD\n"
    )

    assert (result.created, result.updated) == (0, 1)
    assert Spend.objects.values_list("amount", "currency").get() == (Decimal("99.50"), "USD")


def test_import_with_a_bad_line_changes_nothing() -> None:
    text = "month,source,campaign,amount\n2026-03,google,,100\n2026-13,google,,100\n"

    result = services.import_spend(text=text)

    assert [error.line for error in result.errors] == [3]
    assert not Spend.objects.exists()


def test_import_of_an_empty_file_is_an_error() -> None:
    result = services.import_spend(text="month,source,campaign,amount\n")

    assert not result.is_ok
