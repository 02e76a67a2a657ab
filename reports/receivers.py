"""Signal receivers, connected in ReportsConfig.ready. Adapters, like tasks: each calls one service."""

from __future__ import annotations

from typing import Any

from leads.models import Lead
from reports import services


def collect_personal_data(sender: object, *, lead: Lead, **kwargs: object) -> dict[str, Any]:
    """``leads.events.collect_personal_data``: the reports app's part of a lead's data export."""
    return services.lead_personal_data(lead=lead)


def erase_personal_data(sender: object, *, lead_id: int, **kwargs: object) -> None:
    """``leads.events.erase_personal_data``: blank the reasons typed on first-touch corrections."""
    services.erase_lead_personal_data(lead_id=lead_id)
