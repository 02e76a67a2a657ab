"""Webhook deliveries against a real local HTTP server: signed, retried with backoff, never sent twice."""

import hashlib
import hmac
import json
import logging
from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from pytest_django import DjangoCaptureOnCommitCallbacks
from pytest_django.fixtures import Settings
from pytest_httpserver import HTTPServer

from integrations import services
from integrations.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from integrations.services.webhooks import MAX_ATTEMPTS
from integrations.tests.factories import TEST_SECRET, WebhookDeliveryFactory, WebhookEndpointFactory
from leads import events
from leads.models import Lead
from leads.tests.dns import fake_dns
from leads.tests.factories import FIXED_NOW, LeadFactory
from tests.personas import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(httpserver: HTTPServer, settings: Settings) -> WebhookEndpoint:
    # The receiver is pytest-httpserver on 127.0.0.1, as an internal CRM would be on a private network.
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = True
    return WebhookEndpointFactory(url=httpserver.url_for("/hook"))


def record(lead: Lead, *, event: str = events.LEAD_MQL, event_id: str = "evt-1") -> list[WebhookDelivery]:
    return services.record_event(
        event=event, event_id=event_id, lead_id=lead.pk, data={"reason": "score 72"}, occurred_at=FIXED_NOW,
        now=FIXED_NOW,
    )  # fmt: skip


def deliver(delivery: WebhookDelivery, *, attempt: int = 1, now: datetime = FIXED_NOW) -> WebhookDelivery | None:
    return services.deliver_webhook(delivery_id=delivery.pk, attempt=attempt, now=now)


def test_the_signature_verifies_with_the_endpoint_secret(httpserver: HTTPServer, endpoint: WebhookEndpoint) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    (delivery,) = record(LeadFactory())

    deliver(delivery)

    request, _ = httpserver.log[0]
    fields = dict(part.split("=", 1) for part in request.headers["X-Leadsite-Signature"].split(","))
    expected = hmac.new(TEST_SECRET.encode(), f"{fields['t']}.".encode() + request.get_data(), hashlib.sha256)
    assert hmac.compare_digest(fields["v1"], expected.hexdigest())
    assert fields["t"] == str(int(FIXED_NOW.timestamp()))


def test_a_delivery_names_its_event_and_itself_in_headers(httpserver: HTTPServer, endpoint: WebhookEndpoint) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    (delivery,) = record(LeadFactory())

    deliver(delivery)

    request, _ = httpserver.log[0]
    assert (request.headers["X-Leadsite-Event"], request.headers["X-Leadsite-Delivery"]) == (
        "lead.mql",
        str(delivery.pk),
    )


def test_the_body_is_the_event_with_the_lead_and_the_emitters_data(
    httpserver: HTTPServer, endpoint: WebhookEndpoint
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    lead = LeadFactory(email="ada@acme.example")
    (delivery,) = record(lead)

    deliver(delivery)

    body = json.loads(httpserver.log[0][0].get_data())
    assert (body["id"], body["event"], body["occurred_at"], body["lead"]["email"], body["data"]) == (
        "evt-1",
        "lead.mql",
        "2026-03-02T10:00:00Z",
        "ada@acme.example",
        {"reason": "score 72"},
    )


def test_a_2xx_marks_the_delivery_delivered(httpserver: HTTPServer, endpoint: WebhookEndpoint) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("thanks", status=202)
    (delivery,) = record(LeadFactory())

    deliver(delivery)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_code, delivery.response_body, delivery.delivered_at) == (
        DeliveryStatus.DELIVERED,
        202,
        "thanks",
        FIXED_NOW,
    )


def test_a_500_is_retried_with_growing_backoff(httpserver: HTTPServer, endpoint: WebhookEndpoint) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("boom", status=500)
    (delivery,) = record(LeadFactory())
    seen = []

    for attempt, now in enumerate([FIXED_NOW, FIXED_NOW + timedelta(minutes=1), FIXED_NOW + timedelta(minutes=3)], 1):
        deliver(delivery, attempt=attempt, now=now)
        delivery.refresh_from_db()
        seen.append((delivery.status, delivery.attempts, delivery.response_code, delivery.next_attempt_at - now))

    assert seen == [
        (DeliveryStatus.PENDING, 1, 500, timedelta(minutes=1)),
        (DeliveryStatus.PENDING, 2, 500, timedelta(minutes=2)),
        (DeliveryStatus.PENDING, 3, 500, timedelta(minutes=4)),
    ]


def test_an_unreachable_endpoint_is_retried_with_the_error_kept(settings: Settings) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = True
    delivery = WebhookDeliveryFactory(endpoint=WebhookEndpointFactory(url="http://127.0.0.1:9/hook"))

    deliver(delivery)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_code, delivery.next_attempt_at) == (
        DeliveryStatus.PENDING,
        None,
        FIXED_NOW + timedelta(minutes=1),
    )
    assert delivery.error.startswith("ConnectError")


def test_retry_delays_double_and_stop_growing_at_six_hours() -> None:
    delays = [services.retry_delay(attempts) for attempts in (1, 2, 3, 9, 10)]

    assert delays == [timedelta(minutes=m) for m in (1, 2, 4)] + [timedelta(hours=4, minutes=16), timedelta(hours=6)]


def test_a_permanent_failure_is_marked_failed_and_logged(
    httpserver: HTTPServer, endpoint: WebhookEndpoint, caplog: pytest.LogCaptureFixture
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("gone", status=410)
    delivery = WebhookDeliveryFactory(endpoint=endpoint, attempts=MAX_ATTEMPTS - 1)

    with caplog.at_level(logging.WARNING, logger="integrations.services.webhooks"):
        deliver(delivery, attempt=MAX_ATTEMPTS)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.next_attempt_at, delivery.response_code) == (DeliveryStatus.FAILED, None, 410)
    assert "failed for good" in caplog.text


def test_a_failed_delivery_can_be_resent_from_admin(
    httpserver: HTTPServer,
    endpoint: WebhookEndpoint,
    marketer: User,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    delivery = WebhookDeliveryFactory(endpoint=endpoint, status=DeliveryStatus.FAILED, attempts=MAX_ATTEMPTS)

    with django_capture_on_commit_callbacks(execute=True):
        client_for(marketer).post(
            reverse("admin:integrations_webhookdelivery_changelist"),
            {"action": "resend", "_selected_action": [delivery.pk]},
        )

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, len(httpserver.log)) == (DeliveryStatus.DELIVERED, 1, 1)


def test_a_pending_delivery_is_not_resent() -> None:
    delivery = WebhookDeliveryFactory(attempts=2)

    resent = services.resend_deliveries(deliveries=WebhookDelivery.objects.all(), now=FIXED_NOW)

    delivery.refresh_from_db()
    assert (resent, delivery.attempts) == (0, 2)


def test_an_event_emitted_twice_is_delivered_once(
    httpserver: HTTPServer,
    endpoint: WebhookEndpoint,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    lead = LeadFactory()

    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            events.emit(events.LEAD_MQL, lead_id=lead.pk, event_id="lead.mql:stage-change-7")

    assert (WebhookDelivery.objects.count(), len(httpserver.log)) == (1, 1)


def test_a_duplicate_task_for_the_same_attempt_sends_nothing(httpserver: HTTPServer, endpoint: WebhookEndpoint) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("boom", status=500)
    (delivery,) = record(LeadFactory())

    results = [deliver(delivery, attempt=1), deliver(delivery, attempt=1)]

    assert (results[1], len(httpserver.log)) == (None, 1)


def test_a_delivered_event_is_not_sent_again_by_a_late_task(httpserver: HTTPServer, endpoint: WebhookEndpoint) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    (delivery,) = record(LeadFactory())
    deliver(delivery, attempt=1)

    late = deliver(delivery, attempt=2)

    assert (late, len(httpserver.log)) == (None, 1)


def test_an_endpoint_gets_only_the_events_it_subscribed_to() -> None:
    WebhookEndpointFactory(events=[events.LEAD_SQL])

    assert record(LeadFactory(), event=events.LEAD_MQL) == []


def test_a_switched_off_endpoint_gets_no_new_deliveries() -> None:
    WebhookEndpointFactory(is_active=False)

    assert record(LeadFactory()) == []


def test_pending_deliveries_of_a_switched_off_endpoint_fail_without_a_request(
    httpserver: HTTPServer, endpoint: WebhookEndpoint
) -> None:
    delivery = WebhookDeliveryFactory(endpoint=endpoint)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)

    deliver(delivery)

    delivery.refresh_from_db()
    assert (delivery.status, len(httpserver.log)) == (DeliveryStatus.FAILED, 0)


def test_the_sweep_sends_a_retry_that_is_due(
    httpserver: HTTPServer,
    endpoint: WebhookEndpoint,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    delivery = WebhookDeliveryFactory(endpoint=endpoint, attempts=1, next_attempt_at=FIXED_NOW)

    with django_capture_on_commit_callbacks(execute=True):
        queued = services.requeue_due_deliveries(now=FIXED_NOW + timedelta(minutes=1))

    delivery.refresh_from_db()
    assert (queued, delivery.status, delivery.attempts) == (1, DeliveryStatus.DELIVERED, 2)


def test_the_sweep_leaves_deliveries_that_are_not_due() -> None:
    WebhookDeliveryFactory(next_attempt_at=FIXED_NOW + timedelta(minutes=5))

    assert services.requeue_due_deliveries(now=FIXED_NOW) == 0


def test_the_sweep_does_not_queue_a_delivery_again_while_its_task_waits() -> None:
    WebhookDeliveryFactory(next_attempt_at=FIXED_NOW)

    queued = [services.requeue_due_deliveries(now=FIXED_NOW + timedelta(seconds=s)) for s in (0, 60)]

    assert queued == [1, 0]


# --- Addresses inside our own network (core.outbound) ------------------------------------------------


@pytest.fixture
def rebound(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> WebhookEndpoint:
    """An endpoint saved with a public name whose DNS now answers 127.0.0.1, where a receiver listens."""
    fake_dns(monkeypatch, {"hooks.example.com": ["127.0.0.1"]})
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    return WebhookEndpointFactory(url=f"http://hooks.example.com:{httpserver.port}/hook")


def test_a_delivery_whose_name_now_resolves_privately_sends_nothing(
    httpserver: HTTPServer, rebound: WebhookEndpoint
) -> None:
    delivery = WebhookDeliveryFactory(endpoint=rebound)

    deliver(delivery)

    assert len(httpserver.log) == 0


def test_a_refused_delivery_fails_at_once_with_the_reason(rebound: WebhookEndpoint) -> None:
    delivery = WebhookDeliveryFactory(endpoint=rebound)

    deliver(delivery)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at, delivery.response_code) == (
        DeliveryStatus.FAILED,
        1,
        None,
        None,
    )
    assert delivery.error == (
        "Refused: This address points into a private network (hooks.example.com → 127.0.0.1); "
        "set OUTBOUND_ALLOW_PRIVATE_NETWORKS=1 to allow it."
    )


def test_a_name_that_stops_resolving_is_retried_like_a_connection_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {})
    delivery = WebhookDeliveryFactory(endpoint=WebhookEndpointFactory(url="https://hooks.example.com/hook"))

    deliver(delivery)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.next_attempt_at) == (DeliveryStatus.PENDING, FIXED_NOW + timedelta(minutes=1))
    assert delivery.error == "ConnectError: The host name hooks.example.com does not resolve."


def test_with_the_setting_a_delivery_to_a_private_address_is_sent(
    httpserver: HTTPServer, rebound: WebhookEndpoint, settings: Settings
) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = True
    delivery = WebhookDeliveryFactory(endpoint=rebound)

    deliver(delivery)

    delivery.refresh_from_db()
    assert (delivery.status, len(httpserver.log)) == (DeliveryStatus.DELIVERED, 1)
