"""After a withdrawal, only the person can restore consent: by confirming through the email we send them.

A stranger can send any form with any email address, so a new consent from the public form
(POST /f/<slug>/) or POST /api/submissions/ after a withdrawal is recorded as pending, whatever the form's
own double opt-in setting, and the lead stays "do not contact" until the person follows the confirm link.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from integrations.models import ApiKeyScope
from integrations.tests.factories import ApiKeyFactory, api_headers
from leads import services, tokens
from leads.models import CaptureForm, Consent, ConsentStatus, Lead, Submission
from leads.tests.factories import FIXED_NOW, ConsentFactory, LeadFactory

pytestmark = pytest.mark.django_db

HUMAN_PAUSE = timedelta(seconds=20)


@pytest.fixture
def withdrawn_lead() -> Lead:
    """Ada gave consent on a form and later withdrew it through the link in our email."""
    lead = LeadFactory(email="ada@acme.example")
    ConsentFactory(lead=lead)
    services.withdraw_consents(lead=lead, now=FIXED_NOW - timedelta(days=1), source="link")
    return lead


def post_form(form: CaptureForm, clock: time_machine.Traveller, **answers: str) -> Any:
    client = Client()
    page = client.get(reverse("leads:form", args=[form.slug]))
    clock.shift(HUMAN_PAUSE)
    data = {"token": page.context["token"], **page.context["attribution"], "consent": "on", **answers}
    data = {"first_name": "Ada", "company_name": "Acme", **data}
    response = client.post(reverse("leads:form", args=[form.slug]), data)
    assert response.status_code == 200, response.content
    return response


def post_api(form: CaptureForm, **answers: str) -> Any:
    api_key = ApiKeyFactory(scope=ApiKeyScope.CAPTURE)
    body = {"form": form.slug, "answers": {"first_name": "Ada", "company_name": "Acme", **answers},
            "consent": {"given": True}}  # fmt: skip
    response = Client().post("/api/submissions/", body, content_type="application/json", headers=api_headers(api_key))
    assert response.status_code == 201, response.content
    return response


def usable(lead: Lead) -> bool:
    return Lead.objects.prefetch_related("consents").get(pk=lead.pk).has_usable_consent


def test_a_public_form_after_a_withdrawal_records_only_a_pending_consent(
    whitepaper: CaptureForm, withdrawn_lead: Lead, clock: time_machine.Traveller
) -> None:
    post_form(whitepaper, clock, email="ADA@acme.example")

    new = Consent.objects.get(submission__isnull=False)
    assert new.status == ConsentStatus.PENDING
    assert not usable(withdrawn_lead)


def test_the_api_after_a_withdrawal_records_only_a_pending_consent(
    whitepaper: CaptureForm, withdrawn_lead: Lead
) -> None:
    response = post_api(whitepaper, email="ada@acme.example")

    assert response.json()["consent_status"] == "pending"
    assert not usable(withdrawn_lead)


def test_a_consent_after_a_withdrawal_is_confirmed_by_email_although_the_form_has_no_double_opt_in(
    whitepaper: CaptureForm,
    withdrawn_lead: Lead,
    clock: time_machine.Traveller,
    mailoutbox: list,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    assert not whitepaper.is_double_opt_in

    with django_capture_on_commit_callbacks(execute=True):
        post_form(whitepaper, clock, email="ada@acme.example")

    [email] = mailoutbox
    assert email.to == ["ada@acme.example"]
    assert "/f/confirm/" in email.body


def test_confirming_by_email_restores_the_consent(
    whitepaper: CaptureForm, withdrawn_lead: Lead, clock: time_machine.Traveller
) -> None:
    post_form(whitepaper, clock, email="ada@acme.example")
    submission = Submission.objects.get()

    Client().post(reverse("leads:confirm", args=[tokens.confirm_token(submission_id=submission.pk)]))

    assert Consent.objects.get(submission=submission).status == ConsentStatus.CONFIRMED
    assert usable(withdrawn_lead)


def test_the_rep_page_keeps_do_not_contact_until_the_person_confirms(
    whitepaper: CaptureForm, withdrawn_lead: Lead, rep: object, clock: time_machine.Traveller
) -> None:
    Lead.objects.filter(pk=withdrawn_lead.pk).update(owner=rep)
    post_form(whitepaper, clock, email="ada@acme.example")
    client = Client()
    client.force_login(rep)  # type: ignore[arg-type]

    html = client.get(reverse("handoff:lead", args=[withdrawn_lead.pk])).content.decode()

    assert "Consent withdrawn — do not contact" in html


def test_a_lead_that_never_withdrew_gets_a_confirmed_consent_as_before(
    whitepaper: CaptureForm, clock: time_machine.Traveller
) -> None:
    lead = LeadFactory(email="ada@acme.example")
    ConsentFactory(lead=lead)

    post_form(whitepaper, clock, email="ada@acme.example")

    assert Consent.objects.get(submission__isnull=False).status == ConsentStatus.CONFIRMED


def test_a_lead_that_restored_its_consent_gets_a_confirmed_consent_again(
    whitepaper: CaptureForm, withdrawn_lead: Lead, clock: time_machine.Traveller
) -> None:
    ConsentFactory(lead=withdrawn_lead, given_at=FIXED_NOW)  # confirmed after the withdrawal

    post_form(whitepaper, clock, email="ada@acme.example")

    assert Consent.objects.get(submission__isnull=False).status == ConsentStatus.CONFIRMED
