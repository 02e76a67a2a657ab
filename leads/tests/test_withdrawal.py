"""Withdrawing consent (GDPR art. 7(3)): the service, the public withdraw link, the admin action, the email link."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from leads import admin as lead_admin
from leads import services, submissions, tokens
from leads.events import lead_event
from leads.models import Activity, ActivityKind, CaptureForm, Consent, ConsentStatus, Lead
from leads.tests.factories import (
    FIXED_NOW,
    CaptureFormFactory,
    ConsentFactory,
    ConsentTextFactory,
    LeadFactory,
    SubmissionFactory,
)
from tests.personas import client_for

pytestmark = pytest.mark.django_db

LATER = FIXED_NOW + timedelta(days=30)


@pytest.fixture
def heard() -> Iterator[list[dict[str, Any]]]:
    """The lead events sent, as a listener (the webhooks) receives them."""
    received: list[dict[str, Any]] = []

    def listen(sender: object, *, signal: object, **kwargs: Any) -> None:
        received.append(kwargs)

    lead_event.connect(listen, dispatch_uid="test_withdrawal")
    yield received
    lead_event.disconnect(dispatch_uid="test_withdrawal")


@pytest.fixture
def lead() -> Lead:
    """A lead with two confirmed consents and one still pending double opt-in."""
    lead = LeadFactory()
    ConsentFactory(lead=lead)
    ConsentFactory(lead=lead, given_at=FIXED_NOW - timedelta(days=60))
    ConsentFactory(lead=lead, status=ConsentStatus.PENDING)
    return lead


def withdrawn_times(lead: Lead) -> list[object]:
    return list(Consent.objects.filter(lead=lead).order_by("id").values_list("withdrawn_at", flat=True))


def withdraw_link(lead: Lead) -> str:
    return reverse("leads:withdraw", args=[tokens.withdraw_token(lead_id=lead.pk)])


# --- The service ----------------------------------------------------------------------------------


def test_withdraw_consents_withdraws_every_consent_of_the_lead_at_now(lead: Lead) -> None:
    other = ConsentFactory()

    count = services.withdraw_consents(lead=lead, now=LATER, source="admin")

    assert (count, withdrawn_times(lead)) == (3, [LATER, LATER, LATER])
    other.refresh_from_db()
    assert other.withdrawn_at is None


def test_withdraw_consents_records_one_activity_with_the_source_and_note(lead: Lead, marketer: object) -> None:
    services.withdraw_consents(lead=lead, now=LATER, source="admin", by=marketer, note="Phoned on 1 April")

    activity = Activity.objects.get(lead=lead)
    assert (activity.kind, activity.occurred_at, activity.metadata) == (
        ActivityKind.CONSENT_WITHDRAWN,
        LATER,
        {"source": "admin", "note": "Phoned on 1 April", "consents": 3, "by": marketer.pk},  # type: ignore[attr-defined]
    )


def test_withdraw_consents_emits_one_lead_consent_withdrawn_event_after_commit(
    lead: Lead, heard: list[dict[str, Any]], django_capture_on_commit_callbacks: Callable
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.withdraw_consents(lead=lead, now=LATER, source="link", note="not sent on")

    activity = Activity.objects.get(lead=lead)
    assert heard == [
        {
            "event": "lead.consent_withdrawn",
            "event_id": f"lead.consent_withdrawn:{activity.pk}",
            "lead_id": lead.pk,
            "data": {"source": "link", "consents": 3},
            "occurred_at": LATER,
        }
    ]


def test_withdrawing_twice_changes_nothing_the_second_time(
    lead: Lead, heard: list[dict[str, Any]], django_capture_on_commit_callbacks: Callable
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.withdraw_consents(lead=lead, now=LATER, source="link")
        second = services.withdraw_consents(lead=lead, now=LATER + timedelta(hours=1), source="admin")

    assert (second, withdrawn_times(lead)) == (0, [LATER, LATER, LATER])
    assert Activity.objects.filter(lead=lead).count() == 1
    assert len(heard) == 1


def test_a_withdrawn_lead_has_no_usable_consent(lead: Lead) -> None:
    services.withdraw_consents(lead=lead, now=LATER, source="link")

    assert not Lead.objects.get(pk=lead.pk).has_usable_consent


# --- The public withdraw link ---------------------------------------------------------------------


def test_opening_the_withdraw_link_shows_a_button_and_withdraws_nothing(
    lead: Lead, clock: time_machine.Traveller
) -> None:
    response = Client().get(withdraw_link(lead))

    assert response.status_code == 200
    assert b"Withdraw my consent" in response.content
    assert withdrawn_times(lead) == [None, None, None]


def test_pressing_the_button_withdraws_every_consent(lead: Lead, clock: time_machine.Traveller) -> None:
    response = Client().post(withdraw_link(lead))

    assert (response.status_code, response.context["is_withdrawn"]) == (200, True)
    assert withdrawn_times(lead) == [FIXED_NOW, FIXED_NOW, FIXED_NOW]
    assert Activity.objects.get(lead=lead).metadata["source"] == "link"


def test_the_withdraw_link_still_works_years_later(lead: Lead, clock: time_machine.Traveller) -> None:
    link = withdraw_link(lead)
    clock.shift(timedelta(days=5 * 365))

    response = Client().post(link)

    assert response.status_code == 200
    assert None not in withdrawn_times(lead)


def test_the_withdraw_link_says_so_when_already_withdrawn(lead: Lead, clock: time_machine.Traveller) -> None:
    services.withdraw_consents(lead=lead, now=FIXED_NOW, source="admin")

    response = Client().get(withdraw_link(lead))

    assert (response.status_code, response.context["is_withdrawn"]) == (200, True)
    assert b"Withdraw my consent" not in response.content


def test_a_tampered_withdraw_link_is_not_found(lead: Lead) -> None:
    victim = ConsentFactory()
    # The victim's lead id with the signature of the holder's own link.
    own = tokens.withdraw_token(lead_id=lead.pk).split(":")
    tampered = ":".join([tokens.withdraw_token(lead_id=victim.lead_id).split(":")[0], *own[1:]])

    response = Client().post(reverse("leads:withdraw", args=[tampered]))

    victim.refresh_from_db()
    assert (response.status_code, victim.withdrawn_at) == (404, None)


def test_a_confirm_link_is_no_withdraw_link(lead: Lead) -> None:
    confirm = tokens.confirm_token(submission_id=lead.pk)

    assert Client().post(reverse("leads:withdraw", args=[confirm])).status_code == 404


def test_the_withdraw_link_rejects_put(lead: Lead) -> None:
    assert Client().put(withdraw_link(lead)).status_code == 405


def test_the_slug_withdraw_is_reserved() -> None:
    with pytest.raises(ValidationError) as raised:
        CaptureForm(slug="withdraw").clean()

    assert "slug" in raised.value.message_dict


# --- The double opt-in email ----------------------------------------------------------------------


def test_the_confirmation_email_carries_the_lead_withdraw_link(mailoutbox: list) -> None:
    form = CaptureFormFactory(slug="webinar", is_double_opt_in=True)
    lead = LeadFactory(email="ada@acme.example")
    consent = ConsentFactory(lead=lead, status=ConsentStatus.PENDING)
    submission = SubmissionFactory(form=form, consent_text=ConsentTextFactory(form=form), lead=lead, consent=consent)

    submissions.send_confirmation_email(submission_id=submission.pk, now=FIXED_NOW)

    [email] = mailoutbox
    assert f"/f/withdraw/{tokens.withdraw_token(lead_id=lead.pk)}/" in email.body


# --- Admin ----------------------------------------------------------------------------------------


def test_the_admin_action_asks_for_confirmation_first(lead: Lead, marketer: object) -> None:
    response = client_for(marketer).post(
        reverse("admin:leads_lead_changelist"), {"action": "record_consent_withdrawal", "_selected_action": [lead.pk]}
    )

    assert response.status_code == 200
    assert b"This cannot be undone" in response.content
    assert lead.email.encode() in response.content
    assert withdrawn_times(lead) == [None, None, None]


def test_the_admin_action_withdraws_through_the_service_and_says_how_many(lead: Lead, marketer: object) -> None:
    already = LeadFactory()
    ConsentFactory(lead=already, withdrawn_at=FIXED_NOW)

    response = client_for(marketer).post(
        reverse("admin:leads_lead_changelist"),
        {"action": "record_consent_withdrawal", "_selected_action": [lead.pk, already.pk], "confirmed": "yes",
         "note": "Phoned on 1 April"},
    )  # fmt: skip

    assert None not in withdrawn_times(lead)
    assert Activity.objects.get(lead=lead).metadata == {
        "source": "admin", "note": "Phoned on 1 April", "consents": 3, "by": marketer.pk,  # type: ignore[attr-defined]
    }  # fmt: skip
    assert [str(message) for message in get_messages(response.wsgi_request)] == [
        "Recorded a consent withdrawal for 1 lead(s).",
        "1 lead(s) had no consent left to withdraw.",
    ]


def test_the_admin_action_refuses_more_leads_than_can_be_reviewed(
    lead: Lead, marketer: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lead_admin, "WITHDRAW_AT_ONCE", 1)
    other = LeadFactory()
    ConsentFactory(lead=other)

    response = client_for(marketer).post(
        reverse("admin:leads_lead_changelist"),
        {"action": "record_consent_withdrawal", "_selected_action": [lead.pk, other.pk], "confirmed": "yes"},
    )

    assert withdrawn_times(lead) == [None, None, None]
    assert [str(message) for message in get_messages(response.wsgi_request)] == [
        "Select at most 1 leads to record a consent withdrawal."
    ]


def test_a_manager_cannot_record_a_withdrawal_in_admin(lead: Lead, manager: object) -> None:
    client_for(manager).post(
        reverse("admin:leads_lead_changelist"),
        {"action": "record_consent_withdrawal", "_selected_action": [lead.pk], "confirmed": "yes"},
    )

    assert withdrawn_times(lead) == [None, None, None]
