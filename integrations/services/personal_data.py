"""What integrations hold about a lead's person, for a data subject request (GDPR art. 15, 17 and 20).

``integrations.privacy`` calls it, inside the request's transaction. The webhook delivery log holds the lead
as each event carried it; it is found by the lead id in the payload. Stored ``Idempotency-Key`` responses may
hold the lead too: they are pruned after a day (``prune_idempotency_records``), not scrubbed here.
"""

from __future__ import annotations

from typing import Any

from integrations.models import WebhookDelivery
from leads.models import Lead


def lead_personal_data(*, lead: Lead) -> dict[str, Any]:
    """The webhook deliveries about the lead: to whom (the endpoint), what and when."""
    deliveries = _deliveries_of(lead.pk).select_related("endpoint").order_by("created_at", "id")
    return {
        "webhook_deliveries": [
            {
                "endpoint": delivery.endpoint.name,
                "event": delivery.event,
                "status": delivery.status,
                "created_at": delivery.created_at,
                "delivered_at": delivery.delivered_at,
                "payload": delivery.payload,
            }
            for delivery in deliveries
        ]
    }


def erase_lead_personal_data(*, lead_id: int) -> None:
    """Replace the lead's delivery payloads by a stub and forget what receivers answered.

    The stub keeps the event's envelope (id, event, time) and the lead id, so the log still says what was
    sent when, and a receiver that gets a pending delivery can still match and drop it.
    """
    stub_payloads(list(_deliveries_of(lead_id)))


def stub_payloads(deliveries: list[WebhookDelivery]) -> None:
    """Replace each delivery's payload by its envelope and lead id, and drop what the receiver answered."""
    for delivery in deliveries:
        payload = delivery.payload if isinstance(delivery.payload, dict) else {}
        lead = payload.get("lead")
        delivery.payload = {
            "id": payload.get("id", delivery.event_id),
            "event": payload.get("event", delivery.event),
            "occurred_at": payload.get("occurred_at"),
            "lead": {"id": lead.get("id") if isinstance(lead, dict) else None},
            "data": {},
        }
        delivery.response_body = ""
    WebhookDelivery.objects.bulk_update(deliveries, ["payload", "response_body"])


def _deliveries_of(lead_id: int) -> Any:
    return WebhookDelivery.objects.filter(payload__lead__id=lead_id)
