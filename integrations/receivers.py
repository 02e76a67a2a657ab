"""Signal receivers, connected in IntegrationsConfig.ready (model signals by ``@receiver``, when ready imports this
module). Adapters, like tasks: each calls one service."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from integrations import services
from integrations.models import WebhookEndpoint
from leads import capture_cache


def record_lead_event(
    sender: object,
    *,
    event: str,
    event_id: str,
    lead_id: int,
    data: Mapping[str, Any],
    occurred_at: datetime,
    **kwargs: object,
) -> None:
    """``leads.events.lead_event``: record (and queue) a webhook delivery per subscribed endpoint."""
    services.record_event(
        event=event, event_id=event_id, lead_id=lead_id, data=data, occurred_at=occurred_at, now=timezone.now()
    )


@receiver((post_save, post_delete), sender=WebhookEndpoint, dispatch_uid="integrations.forget_webhook_endpoints")
def forget_webhook_endpoints(sender: type[WebhookEndpoint], **kwargs: object) -> None:
    """An endpoint saved or deleted: this process reads the active endpoints again at the next event."""
    capture_cache.clear()
