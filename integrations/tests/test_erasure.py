"""Integrations' part of a data subject request: webhook payloads in an export, stubbed on erasure.

The whole request (every app, in one transaction): test_privacy.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from pytest_django import DjangoCaptureOnCommitCallbacks

from integrations import privacy, services
from integrations.models import WebhookDelivery
from integrations.tests.factories import WebhookDeliveryFactory, WebhookEndpointFactory
from leads import events
from leads.models import EnrichmentStatus, Lead
from leads.tests.factories import FIXED_NOW, ConsentFactory, LeadFactory

pytestmark = pytest.mark.django_db

LATER = FIXED_NOW + timedelta(days=30)


@pytest.fixture(autouse=True)
def _no_sending(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # What is recorded is the point here; sending is covered in test_webhooks.py.
    monkeypatch.setattr("integrations.services.webhooks.async_task", lambda *args: None)
    yield


def payload_about(lead: Lead, event_id: str) -> dict[str, object]:
    return {
        "id": event_id,
        "event": events.LEAD_REJECTED,
        "occurred_at": "2026-03-02T10:00:00Z",
        "lead": {"id": lead.pk, "email": lead.email, "name": lead.full_name},
        "data": {"reason": "Ada left the company"},
    }


def erase(lead: Lead) -> None:
    services.erase_lead_personal_data(lead_id=lead.pk)


def test_export_holds_the_webhook_deliveries_and_whom_they_went_to(marketer: User) -> None:
    lead = LeadFactory(email="ada@acme.example")
    endpoint = WebhookEndpointFactory(name="CRM sync")
    WebhookDeliveryFactory(endpoint=endpoint, event_id="evt-1", payload=payload_about(lead, "evt-1"))
    WebhookDeliveryFactory(event_id="evt-2", payload=payload_about(LeadFactory(), "evt-2"))

    deliveries = services.lead_personal_data(lead=lead)["webhook_deliveries"]

    assert [(d["endpoint"], d["payload"]["lead"]["email"]) for d in deliveries] == [("CRM sync", "ada@acme.example")]


def test_erase_replaces_the_lead_delivery_payloads_by_a_stub() -> None:
    lead = LeadFactory(email="ada@acme.example")
    delivery = WebhookDeliveryFactory(event_id="evt-1", payload=payload_about(lead, "evt-1"), response_body="ok ada")

    erase(lead)

    delivery.refresh_from_db()
    assert (delivery.payload, delivery.response_body) == (
        {
            "id": "evt-1",
            "event": "lead.rejected",
            "occurred_at": "2026-03-02T10:00:00Z",
            "lead": {"id": lead.pk},
            "data": {},
        },
        "",
    )


def test_erase_leaves_other_leads_deliveries_alone() -> None:
    other = LeadFactory()
    delivery = WebhookDeliveryFactory(payload=payload_about(other, "evt-9"))

    erase(LeadFactory())

    delivery.refresh_from_db()
    assert delivery.payload == payload_about(other, "evt-9")


def test_subscribers_hear_of_the_erasure_as_a_withdrawal_without_personal_data(
    marketer: User, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    WebhookEndpointFactory(events=[events.LEAD_CONSENT_WITHDRAWN])
    lead = ConsentFactory(lead=LeadFactory(email="ada@acme.example")).lead

    with django_capture_on_commit_callbacks(execute=True):
        privacy.erase_lead(lead=lead, now=LATER, by=marketer, reason="Erasure request, ticket 1234")

    delivery = WebhookDelivery.objects.get()
    assert (delivery.event, delivery.payload["data"]["source"]) == ("lead.consent_withdrawn", "erasure")
    assert (delivery.payload["lead"]["email"], delivery.payload["lead"]["name"]) == (None, "")


def test_the_erasure_event_gives_a_lead_never_enriched_the_status_erased_as_the_api_does(
    marketer: User, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    WebhookEndpointFactory(events=[events.LEAD_CONSENT_WITHDRAWN])
    lead = ConsentFactory(lead=LeadFactory(enrichment_status=EnrichmentStatus.PENDING)).lead

    with django_capture_on_commit_callbacks(execute=True):
        privacy.erase_lead(lead=lead, now=LATER, by=marketer, reason="Erasure request, ticket 1234")

    assert WebhookDelivery.objects.get().payload["lead"]["enrichment_status"] == "erased"
