"""Signal receivers, connected in IntegrationsConfig.ready. Adapters, like tasks: each calls one service."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.utils import timezone

from integrations import services


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
