"""Lead events: what happened to a lead, announced to whoever listens, without importing them.

Any app may emit; the integrations app listens and turns each event into signed webhook deliveries.

    from leads import events

    events.emit(events.LEAD_MQL, lead_id=lead.pk, event_id=f"lead.mql:{stage_change.pk}", occurred_at=now)

The signal is sent only after the current transaction commits, so nobody hears of a change that was
rolled back. Give an ``event_id`` derived from the change itself (a StageChange or Assignment id)
wherever the same change could be emitted twice (a retried task): listeners record each event id
once, so a repeat is dropped. Without one, every call is a new event.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from leads.models import Lead

logger = logging.getLogger(__name__)

LEAD_CREATED = "lead.created"
LEAD_ENRICHED = "lead.enriched"
LEAD_MQL = "lead.mql"
LEAD_ASSIGNED = "lead.assigned"
LEAD_SLA_BREACHED = "lead.sla_breached"
LEAD_SQL = "lead.sql"
LEAD_REJECTED = "lead.rejected"
LEAD_CONSENT_WITHDRAWN = "lead.consent_withdrawn"

EVENTS: tuple[str, ...] = (
    LEAD_CREATED,
    LEAD_ENRICHED,
    LEAD_MQL,
    LEAD_ASSIGNED,
    LEAD_SLA_BREACHED,
    LEAD_SQL,
    LEAD_REJECTED,
    LEAD_CONSENT_WITHDRAWN,
)

# Sent with sender=Lead and the keyword arguments event, event_id, lead_id, data and occurred_at.
lead_event = Signal()

# Sent with sender=Lead, no arguments, after a transaction that gave some lead pipeline work commits
# (``leads.services.enqueue_pipeline``). The pipeline (handoff) listens and wakes its workers; the work
# itself is recorded on the lead, so a wake-up that is lost delays it, never loses it.
pipeline_work_due = Signal()

# Sent with sender=Lead and the keyword arguments lead_ids and now, inside the transaction in which routing
# decided again for those leads (``leads.services.mark_routed``, ``mark_leads_routed``): handoff writes its
# decisions in bulk, which sends no ``post_save``, and a lead's team may have changed. The reports listen.
leads_routed = Signal()

# Sent the same way (sender=Lead, lead_ids, now) inside the transaction of another bulk write to older leads that
# sends no ``post_save``: an import's event touches and first touches of the people it merged into
# (``leads.import_writes.record_touches``). The reports listen, as to ``leads_routed``.
lead_rows_written = Signal()


def emit(
    event: str,
    *,
    lead_id: int,
    data: Mapping[str, Any] | None = None,
    event_id: str | None = None,
    occurred_at: datetime | None = None,
) -> str:
    """Announce ``event`` for a lead once the current transaction commits; returns the event id.

    ``data`` is extra JSON-serialisable detail for listeners (a reason, a team); the lead itself is
    read by the listener after the commit. A listener that fails is logged, never raised: the change
    that caused the event is already committed.
    """
    if event not in EVENTS:
        raise ValueError(f"Unknown lead event {event!r}; add it to leads.events.EVENTS.")
    event_id = event_id or str(uuid.uuid4())
    kwargs = {
        "event": event,
        "event_id": event_id,
        "lead_id": lead_id,
        "data": dict(data or {}),
        "occurred_at": occurred_at or timezone.now(),
    }
    transaction.on_commit(lambda: _send(kwargs))
    return event_id


def _send(kwargs: dict[str, Any]) -> None:
    for receiver, result in lead_event.send_robust(sender=Lead, **kwargs):
        if isinstance(result, Exception):
            logger.error("Listener %r failed on %s %s", receiver, kwargs["event"], kwargs["event_id"], exc_info=result)


# --- Nurture ---------------------------------------------------------------------------------------
# Sent with sender=Lead and the keyword arguments lead_id, track, source, reason and until, after the
# transaction that decided it commits (``request_nurture``). ``track`` is a nurture track's key, or "" for
# the default track of that ``source``; ``source`` is one of NURTURE_SOURCES; ``until`` is when a rep's
# recycle ends (or None). The nurture app listens and enrolls the lead; leads, scoring and handoff never
# import it.
nurture_requested = Signal()

NURTURE_FROM_ROUTING = "routing"  # a routing rule's destination is a track
NURTURE_FROM_RECYCLE = "recycle"  # a rep recycled the lead "not now"
NURTURE_BELOW_THRESHOLD = "below_threshold"  # scoring moved the lead to nurture
NURTURE_SOURCES = (NURTURE_FROM_ROUTING, NURTURE_FROM_RECYCLE, NURTURE_BELOW_THRESHOLD)

TrackChoices = Callable[[], list[tuple[str, str]]]
_track_choices: list[TrackChoices] = []


def request_nurture(*, lead_id: int, source: str, reason: str, track: str = "", until: datetime | None = None) -> None:
    """Ask for ``lead_id`` to be enrolled in a nurture track once the current transaction commits."""
    if source not in NURTURE_SOURCES:
        raise ValueError(f"Unknown nurture source {source!r}; one of {', '.join(NURTURE_SOURCES)}.")
    kwargs = {"lead_id": lead_id, "track": track, "source": source, "reason": reason, "until": until}

    def send() -> None:
        for receiver, result in nurture_requested.send_robust(sender=Lead, **kwargs):
            if isinstance(result, Exception):
                logger.error("Nurture listener %r failed for lead %s", receiver, lead_id, exc_info=result)

    transaction.on_commit(send)


def register_nurture_tracks(choices: TrackChoices) -> TrackChoices:
    """Make ``choices()`` ((key, name) pairs of live tracks) what routing offers as destinations (the nurture app)."""
    _track_choices[:] = [choices]
    return choices


def nurture_track_choices() -> list[tuple[str, str]]:
    """The nurture tracks a routing rule may send a lead to; empty when no nurture app is installed."""
    return _track_choices[0]() if _track_choices else []
