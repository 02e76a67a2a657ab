"""The lead pipeline: what happens after a capture commits, in order. Each step is idempotent.

    1. enrich   (leads: providers -> attributes, provenance)
    2. score    (scoring: pure evaluator -> total/fit/engagement/breakdown)
    3. route    (leads: routing rule -> team or nurture track)
    4. assign   (handoff: weighted round-robin -> owner, SLA due time)

Steps are looked up by dotted path so that each app owns its step; a step receives the lead id and
``now`` and must be safe to run twice (a task can be retried after a worker dies, and the Redis
broker can lose a task in flight, which is what ``sweep_stalled_leads`` is for).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.utils.module_loading import import_string

from leads.enrichment import services as enrichment
from leads.models import Lead

logger = logging.getLogger(__name__)

ENRICH = "leads.enrichment.services.enrich_lead"
SCORE = "scoring.services.score_lead"
ROUTE = "leads.services.route_lead"
ASSIGN = "handoff.services.assign_lead_step"
PIPELINE_STEPS: tuple[str, ...] = (ENRICH, SCORE, ROUTE, ASSIGN)

# A lead not routed this long after capture has lost its task or waited too long for a provider.
STALLED_AFTER = enrichment.ENRICHMENT_WAIT


def process_lead(*, lead_id: int, now: datetime, steps: tuple[str, ...] | None = None) -> None:
    """Run every pipeline step for one lead, in order."""
    for dotted in PIPELINE_STEPS if steps is None else steps:
        step: Callable[..., object] = import_string(dotted)
        step(lead_id=lead_id, now=now)


def sweep_stalled_leads(*, now: datetime, stalled_after: timedelta = STALLED_AFTER, limit: int = 500) -> int:
    """Route every lead still unrouted ``stalled_after`` after capture, with what is known by now.

    A lead whose enrichment is still pending is marked failed first, so no lead waits for ever on a
    slow provider or a lost task. Safe to run twice: each step is idempotent.
    """
    stalled = list(
        Lead.objects.filter(routed_at__isnull=True, created_at__lt=now - stalled_after)
        .order_by("created_at")
        .values_list("id", flat=True)[:limit]
    )
    for lead_id in stalled:
        enrichment.give_up_waiting(lead_id=lead_id, now=now)
        try:
            process_lead(lead_id=lead_id, now=now)
        except Exception:  # one broken lead must not stop the sweep for the others
            logger.exception("Pipeline failed for stalled lead %s", lead_id)
    return len(stalled)
