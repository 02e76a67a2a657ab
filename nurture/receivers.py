"""What the nurture app hears from the leads app: requests to enroll, and the events that end an enrollment.

Receivers are adapters (like tasks): they read the clock and call one service.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from leads import events
from nurture import services
from nurture.models import ExitReason

# A lead that became an MQL or SQL is sales' now; one that withdrew consent may get nothing more.
EXIT_EVENTS = {
    events.LEAD_MQL: ExitReason.MQL,
    events.LEAD_SQL: ExitReason.SQL,
    events.LEAD_CONSENT_WITHDRAWN: ExitReason.CONSENT,
}


def enroll_on_request(
    sender: Any, *, lead_id: int, track: str, source: str, reason: str, until: datetime | None, **kwargs: Any
) -> None:
    services.handle_nurture_request(
        lead_id=lead_id, track_key=track, source=source, reason=reason, until=until, now=timezone.now()
    )


def end_on_lead_event(sender: Any, *, event: str, lead_id: int, data: dict[str, Any], **kwargs: Any) -> None:
    reason = EXIT_EVENTS.get(event)
    if reason is None:
        return
    note = "Personal data erased" if data.get("source") == "erasure" else str(data.get("reason", ""))
    services.end_enrollment(lead_id=lead_id, reason=reason, now=timezone.now(), note=note)
