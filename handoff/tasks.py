"""django-q2 entry points. Tasks are adapters: they pass ids and call one service each."""

from django.utils import timezone

from handoff import pipeline, services


def process_lead(lead_id: int) -> None:
    """Enqueued by every capture path after commit: ``async_task("handoff.tasks.process_lead", lead_id)``."""
    pipeline.process_lead(lead_id=lead_id, now=timezone.now())


def sweep_stalled_leads() -> int:
    """Scheduled every minute: route leads whose pipeline task was lost or whose enrichment stalled."""
    return pipeline.sweep_stalled_leads(now=timezone.now())


def check_sla() -> None:
    """Every minute (HandoffConfig.periodic_tasks): flag due SLA reminders and breaches."""
    services.flag_sla_events(now=timezone.now())


def send_notification(notification_id: int) -> None:
    """Enqueued after the change a notification reports commits."""
    services.deliver_notification(notification_id=notification_id, now=timezone.now())


def assign_waiting_leads() -> None:
    """Every minute: assign routed MQLs the pipeline left unowned (a lost task, or nobody was in)."""
    services.assign_waiting_leads(now=timezone.now())


def return_recycled_leads() -> None:
    """Every 5 minutes: bring back the recycled leads whose date has come (rescored, then assigned if MQLs)."""
    services.return_recycled_leads(now=timezone.now())
