"""Signal receivers, connected in HandoffConfig.ready. Adapters, like tasks: each calls one service."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from handoff import services
from leads.models import Lead


def collect_personal_data(sender: object, *, lead: Lead, **kwargs: object) -> dict[str, Any]:
    """``leads.events.collect_personal_data``: handoff's part of a lead's data export."""
    return services.lead_personal_data(lead=lead)


def erase_personal_data(sender: object, *, lead_id: int, now: datetime, **kwargs: object) -> None:
    """``leads.events.erase_personal_data``: end the open assignment and blank the reps' notes."""
    services.erase_lead_personal_data(lead_id=lead_id, now=now)
