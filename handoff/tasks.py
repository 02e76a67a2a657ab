"""django-q2 entry points. Tasks are adapters: they pass ids and call one service each."""

from django.utils import timezone

from handoff import pipeline


def process_lead(lead_id: int) -> None:
    """Enqueued by every capture path after commit: ``async_task("handoff.tasks.process_lead", lead_id)``."""
    pipeline.process_lead(lead_id=lead_id, now=timezone.now())


def sweep_stalled_leads() -> int:
    """Scheduled every minute: route leads whose pipeline task was lost or whose enrichment stalled."""
    return pipeline.sweep_stalled_leads(now=timezone.now())
