"""Webhooks: record each lead event once per subscribed endpoint, send it signed, retry with backoff.

Delivery is at least once, never twice on purpose: the unique (endpoint, event id) records an event
once; each attempt has a number, and the task making attempt n claims it with a conditional UPDATE
(``attempts = n - 1``), so a duplicate task (re-queued by the sweep, or handed out twice by the
broker) sends nothing. Only a receiver that answers after we stop waiting, or a crash between its
answer and our write, can see an event again: receivers dedupe on the event id in the body.

A failed attempt is retried by the sweep (``requeue_due_deliveries``, every minute) after 1, 2, 4 …
minutes, at most six hours apart; after ``MAX_ATTEMPTS`` the delivery is marked failed and can be
re-sent from admin.

Each attempt checks the endpoint's address again (``core.outbound``): DNS may have changed since the
URL was saved. A URL that now points into a private network is refused without a request and the
delivery fails at once, not retried: it needs a person to fix DNS or the URL (then re-send it from
admin), and retrying would only give someone who controls that DNS more tries. A name that does not
resolve is an ordinary connection failure and is retried.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_q.tasks import async_task

from core import outbound
from core.batch import once_per_batch
from core.signing import signature_header
from core.statements import Statement
from integrations import signing
from integrations.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from integrations.serializers import LeadEventSerializer
from leads.models import Lead

logger = logging.getLogger(__name__)

DELIVER_TASK = "integrations.tasks.deliver_webhook"
MAX_ATTEMPTS = 10
FIRST_RETRY_DELAY = timedelta(minutes=1)
MAX_RETRY_DELAY = timedelta(hours=6)
# How long a queued or in-flight attempt has before the sweep hands the delivery out again; well
# above the HTTP timeout, so only a lost task or a dead worker reaches it.
LEASE = timedelta(minutes=5)
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
USER_AGENT = "Leadsite-Webhooks/1.0"
EXCERPT_CHARS = 1000
_MAX_READ_BYTES = 64 * 1024
_MAX_READ_SECONDS = 5.0


@dataclass(frozen=True)
class Outcome:
    code: int | None = None
    body: str = ""
    error: str = ""
    # No request was sent because the address is refused; retrying would not help.
    is_refused: bool = False

    @property
    def is_success(self) -> bool:
        return self.code is not None and 200 <= self.code < 300


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt: 1, 2, 4 … minutes, capped at six hours."""
    return min(FIRST_RETRY_DELAY * 2 ** (attempts - 1), MAX_RETRY_DELAY)


# --- Endpoints ------------------------------------------------------------------------------------


def create_webhook_endpoint(
    *, name: str, url: str, events: Iterable[str], now: datetime, is_active: bool = True
) -> WebhookEndpoint:
    """Create an endpoint with a new signing secret; show ``endpoint.secret`` to its creator once."""
    endpoint = WebhookEndpoint(
        name=name, url=url, events=list(events), is_active=is_active, secret=signing.generate_secret(), created_at=now
    )
    endpoint.full_clean()
    endpoint.save()
    return endpoint


def rotate_webhook_secret(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Give the endpoint a new signing secret; deliveries from now on are signed with it."""
    endpoint.secret = signing.generate_secret()
    endpoint.save(update_fields=["secret"])
    return endpoint


# --- Recording events -----------------------------------------------------------------------------


def build_payload(
    *, event: str, event_id: str, lead: Lead, data: Mapping[str, Any], occurred_at: datetime
) -> dict[str, Any]:
    # Payload times are UTC whatever TIME_ZONE the site displays in.
    with timezone.override(UTC):
        lead_json = dict(LeadEventSerializer(lead).data)
    return {
        "id": event_id,
        "event": event,
        "occurred_at": occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "lead": lead_json,
        "data": dict(data),
    }


def _active_endpoints() -> list[WebhookEndpoint]:
    """The switched-on endpoints, read for each event (once per pipeline batch): every lead event asks, every
    capture among them, so the query is compiled once (``core.statements``). Read afresh, not kept: an endpoint
    created, switched off or deleted in any process counts from the next event."""
    return once_per_batch(_ACTIVE_ENDPOINTS.rows)


_ACTIVE_ENDPOINTS = Statement(lambda: WebhookEndpoint.objects.filter(is_active=True).order_by("pk"))


def record_event(
    *, event: str, event_id: str, lead_id: int, data: Mapping[str, Any], occurred_at: datetime, now: datetime
) -> list[WebhookDelivery]:
    """Record a delivery of this event for every active endpoint that wants it, and queue them.

    Returns the deliveries created; an event id already recorded for an endpoint creates nothing.
    """
    endpoints = [endpoint for endpoint in _active_endpoints() if endpoint.wants(event)]
    if not endpoints:
        return []
    lead = Lead.objects.filter(pk=lead_id).first()
    if lead is None:
        logger.warning("Lead %s is gone; not sending %s %s", lead_id, event, event_id)
        return []
    payload = build_payload(event=event, event_id=event_id, lead=lead, data=data, occurred_at=occurred_at)
    created = []
    for endpoint in endpoints:
        delivery, is_new = WebhookDelivery.objects.get_or_create(
            endpoint=endpoint,
            event_id=event_id,
            defaults={"event": event, "payload": payload, "created_at": now, "next_attempt_at": now + LEASE},
        )
        if is_new:
            created.append(delivery)
            transaction.on_commit(partial(_enqueue, delivery.pk, 1))
    return created


def _enqueue(delivery_id: int, attempt: int) -> None:
    try:
        async_task(DELIVER_TASK, delivery_id, attempt)
    except Exception:
        logger.exception("Could not queue webhook delivery %s; the sweep will", delivery_id)


# --- Sending --------------------------------------------------------------------------------------


def deliver_webhook(*, delivery_id: int, attempt: int, now: datetime) -> WebhookDelivery | None:
    """Make attempt number ``attempt`` of a delivery, unless another task already made it.

    Returns the delivery after the attempt, or None when there was nothing to do.
    """
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, attempts=attempt - 1
    ).update(attempts=attempt, last_attempt_at=now, next_attempt_at=now + LEASE)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    if not delivery.endpoint.is_active:
        return _finish(delivery, Outcome(error="The endpoint is switched off."), now=now, is_final=True)
    outcome = _post(delivery, now=now)
    return _finish(delivery, outcome, now=now, is_final=outcome.is_refused)


def _post(delivery: WebhookDelivery, *, now: datetime) -> Outcome:
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        signing.SIGNATURE_HEADER: signature_header(
            secret=delivery.endpoint.secret, body=body, timestamp=int(now.timestamp())
        ),
        signing.EVENT_HEADER: delivery.event,
        signing.DELIVERY_HEADER: str(delivery.pk),
    }
    try:
        # No redirects: a receiver could otherwise bounce the signed POST to an address we never checked.
        with (
            httpx.Client(timeout=HTTP_TIMEOUT, follow_redirects=False, transport=outbound.CheckedTransport()) as client,
            client.stream("POST", delivery.endpoint.url, content=body, headers=headers) as response,
        ):
            return Outcome(code=response.status_code, body=_excerpt(response))
    except outbound.OutboundRefused as exc:
        return Outcome(error=f"Refused: {exc}", is_refused=True)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return Outcome(error=f"{exc.__class__.__name__}: {exc}")


def _excerpt(response: httpx.Response) -> str:
    # Read only the start, for a little while: a receiver answering with megabytes, or a byte at a time,
    # must not hold the worker. The status code is all that decides the outcome.
    read, started = bytearray(), time.monotonic()
    for chunk in response.iter_bytes():
        read += chunk
        if len(read) >= _MAX_READ_BYTES or time.monotonic() - started > _MAX_READ_SECONDS:
            break
    return bytes(read).decode("utf-8", errors="replace")[:EXCERPT_CHARS]


def _finish(delivery: WebhookDelivery, outcome: Outcome, *, now: datetime, is_final: bool = False) -> WebhookDelivery:
    delivery.response_code = outcome.code
    delivery.response_body = outcome.body
    delivery.error = outcome.error or ("" if outcome.is_success else f"The endpoint answered {outcome.code}.")
    if outcome.is_success:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = DeliveryStatus.DELIVERED, now, None
    elif is_final or delivery.attempts >= MAX_ATTEMPTS:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
        logger.warning(
            "Webhook delivery %s (%s) to %s failed for good after %s attempts: %s",
            delivery.pk, delivery.event, delivery.endpoint.url, delivery.attempts, delivery.error,
        )  # fmt: skip
    else:
        delivery.next_attempt_at = now + retry_delay(delivery.attempts)
    delivery.save(
        update_fields=["status", "response_code", "response_body", "error", "delivered_at", "next_attempt_at"]
    )
    return delivery


# --- The sweep and re-sending ---------------------------------------------------------------------


def requeue_due_deliveries(*, now: datetime, limit: int = 500) -> int:
    """Queue the next attempt of every pending delivery that is due: retries, and tasks that were lost.

    Each one's due time is pushed back by ``LEASE`` first (a conditional update), so the next sweep
    leaves it alone while its task waits in the queue. Returns how many were queued.
    """
    due = (
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", "attempts", "next_attempt_at")[:limit]
    )
    queued = 0
    for delivery_id, attempts, due_at in due:
        leased = WebhookDelivery.objects.filter(
            pk=delivery_id, status=DeliveryStatus.PENDING, attempts=attempts, next_attempt_at=due_at
        ).update(next_attempt_at=now + LEASE)
        if leased:
            transaction.on_commit(partial(_enqueue, delivery_id, attempts + 1))
            queued += 1
    return queued


def resend_deliveries(*, deliveries: QuerySet[WebhookDelivery], now: datetime) -> int:
    """Send failed (or delivered) deliveries again, from a fresh attempt count; pending ones are left alone."""
    ids = list(deliveries.exclude(status=DeliveryStatus.PENDING).values_list("pk", flat=True))
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk__in=ids).exclude(status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now + LEASE, delivered_at=None, error=""
        )
        for delivery_id in ids:
            transaction.on_commit(partial(_enqueue, delivery_id, 1))
    return len(ids)
