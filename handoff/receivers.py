"""Signal receivers, connected in HandoffConfig.ready. Adapters, like tasks: each calls one service."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django_q.tasks import async_task

from handoff import services
from leads.models import Lead

logger = logging.getLogger(__name__)

PIPELINE_TASK = "handoff.tasks.run_pipeline"


def wake_pipeline(sender: object, **kwargs: object) -> None:
    """``leads.events.pipeline_work_due``: queue a pipeline run. The due work is on the leads already, so a
    broker that is down only delays it until the scheduled run; capture must not fail for it."""
    try:
        async_task(PIPELINE_TASK)
    except Exception:
        logger.warning("Could not queue a pipeline run; the scheduled run will take the waiting leads", exc_info=True)


def collect_personal_data(sender: object, *, lead: Lead, **kwargs: object) -> dict[str, Any]:
    """``leads.events.collect_personal_data``: handoff's part of a lead's data export."""
    return services.lead_personal_data(lead=lead)


def erase_personal_data(sender: object, *, lead_id: int, now: datetime, **kwargs: object) -> None:
    """``leads.events.erase_personal_data``: end the open assignment and blank the reps' notes."""
    services.erase_lead_personal_data(lead_id=lead_id, now=now)
