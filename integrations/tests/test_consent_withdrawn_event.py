"""A consent withdrawal reaches the webhook endpoints subscribed to lead.consent_withdrawn, once."""

from collections.abc import Iterator

import pytest
from pytest_django import DjangoCaptureOnCommitCallbacks

from integrations.models import WebhookDelivery
from integrations.tests.factories import WebhookEndpointFactory
from leads import events, services
from leads.tests.factories import FIXED_NOW, ConsentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_sending(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Which deliveries are recorded is the point here; sending is covered in test_webhooks.py.
    monkeypatch.setattr("integrations.services.webhooks.async_task", lambda *args: None)
    yield


def test_a_withdrawal_is_delivered_to_subscribed_endpoints_once(
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    WebhookEndpointFactory(events=[events.LEAD_CONSENT_WITHDRAWN])
    WebhookEndpointFactory(events=[events.LEAD_MQL])
    lead = ConsentFactory().lead

    with django_capture_on_commit_callbacks(execute=True):
        services.withdraw_consents(lead=lead, now=FIXED_NOW, source="link")
        services.withdraw_consents(lead=lead, now=FIXED_NOW, source="link")

    delivery = WebhookDelivery.objects.get()
    assert (delivery.event, delivery.payload["lead"]["id"], delivery.payload["data"]) == (
        "lead.consent_withdrawn",
        lead.pk,
        {"source": "link", "consents": 1},
    )
