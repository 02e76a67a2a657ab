"""Lead events (leads.events) become webhook deliveries; capture and enrichment emit theirs."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.db import transaction
from pytest_django import DjangoCaptureOnCommitCallbacks

from handoff.tests.factories import TeamFactory, route
from integrations.models import WebhookDelivery
from integrations.tests.factories import WebhookEndpointFactory
from leads import events
from leads.enrichment import services as enrichment
from leads.models import EnrichmentProvider, EnrichmentStatus, Lead
from leads.services import LeadDetails, capture_lead
from leads.tests.factories import FIXED_NOW, LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_sending(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # These tests are about which deliveries get recorded; sending is covered in test_webhooks.py.
    monkeypatch.setattr("integrations.services.webhooks.async_task", lambda *args: None)
    yield


def recorded() -> list[tuple[str, str]]:
    return list(WebhookDelivery.objects.order_by("id").values_list("event", "event_id"))


def test_an_event_is_recorded_only_after_the_transaction_commits(
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    WebhookEndpointFactory()
    lead = LeadFactory()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        events.emit(events.LEAD_SQL, lead_id=lead.pk, event_id="sql-1")

    assert (recorded(), len(callbacks)) == ([], 1)


def test_a_rolled_back_change_emits_nothing(django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks) -> None:
    WebhookEndpointFactory()
    lead = LeadFactory()

    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                events.emit(events.LEAD_SQL, lead_id=lead.pk, event_id="sql-1")
                raise RuntimeError("the change failed")
        except RuntimeError:
            pass

    assert recorded() == []


def test_an_unknown_event_name_is_refused() -> None:
    with pytest.raises(ValueError, match=r"lead\.promoted"):
        events.emit("lead.promoted", lead_id=1)


def test_a_failing_listener_is_logged_not_raised(
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(sender: object, **kwargs: object) -> None:
        raise ConnectionError("database went away")

    events.lead_event.connect(broken, dispatch_uid="test-broken")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            events.emit(events.LEAD_SQL, lead_id=LeadFactory().pk)
    finally:
        events.lead_event.disconnect(dispatch_uid="test-broken")

    assert "database went away" in caplog.text


def test_capturing_a_new_lead_emits_lead_created(
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    WebhookEndpointFactory(events=[events.LEAD_CREATED])

    with django_capture_on_commit_callbacks(execute=True):
        result = capture_lead(
            details=LeadDetails(email="ada@acme.example"), consent=None, activity_kind="form_submitted", now=FIXED_NOW
        )

    assert recorded() == [("lead.created", f"lead.created:{result.lead.pk}")]


def test_capturing_a_known_lead_again_emits_nothing(
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    LeadFactory(email="ada@acme.example")
    WebhookEndpointFactory(events=[events.LEAD_CREATED])

    with django_capture_on_commit_callbacks(execute=True):
        capture_lead(
            details=LeadDetails(email="ada@acme.example"), consent=None, activity_kind="form_submitted", now=FIXED_NOW
        )

    assert recorded() == []


def test_enriching_a_lead_emits_lead_enriched_once(
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    EnrichmentProvider.objects.update(is_active=False)
    WebhookEndpointFactory(events=[events.LEAD_ENRICHED])
    lead = LeadFactory()

    with django_capture_on_commit_callbacks(execute=True):
        enrichment.enrich_lead(lead_id=lead.pk, now=FIXED_NOW)
        enrichment.enrich_lead(lead_id=lead.pk, now=FIXED_NOW)

    assert recorded() == [("lead.enriched", f"lead.enriched:{lead.pk}:20260302T100000.000000Z")]


def test_enriching_a_lead_again_later_emits_lead_enriched_again(
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    EnrichmentProvider.objects.update(is_active=False)
    WebhookEndpointFactory(events=[events.LEAD_ENRICHED])
    lead = LeadFactory()
    with django_capture_on_commit_callbacks(execute=True):
        enrichment.enrich_lead(lead_id=lead.pk, now=FIXED_NOW)
    Lead.objects.filter(pk=lead.pk).update(enrichment_status=EnrichmentStatus.PENDING, enrichment_attempts=0)

    with django_capture_on_commit_callbacks(execute=True):
        enrichment.enrich_lead(lead_id=lead.pk, now=FIXED_NOW + timedelta(days=1))

    assert len(recorded()) == 2


def test_a_webhook_payload_carries_the_compact_lead(
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    WebhookEndpointFactory(events=[events.LEAD_MQL])
    lead = LeadFactory(
        email="ada@acme.example", first_name="Ada", last_name="Lovelace", company_name="Acme", score=72,
        first_touch_source="google", first_touch_channel="paid_search",
    )  # fmt: skip
    route(lead, team=TeamFactory(slug="enterprise"))

    with django_capture_on_commit_callbacks(execute=True):
        events.emit(events.LEAD_MQL, lead_id=lead.pk, occurred_at=FIXED_NOW)

    payload = WebhookDelivery.objects.get().payload["lead"]
    shown = ("id", "email", "name", "company_name", "stage", "score", "owner_id", "first_touch_source",
             "first_touch_channel", "routing_team", "created_at")  # fmt: skip
    assert {name: payload[name] for name in shown} == {
        "id": lead.pk,
        "email": "ada@acme.example",
        "name": "Ada Lovelace",
        "company_name": "Acme",
        "stage": "new",
        "score": 72,
        "owner_id": None,
        "first_touch_source": "google",
        "first_touch_channel": "paid_search",
        "routing_team": "enterprise",
        "created_at": "2026-03-02T10:00:00Z",
    }
