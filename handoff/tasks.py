"""django-q2 entry points. Tasks are adapters: they pass ids and call one service each."""

import time

from django.conf import settings
from django.utils import timezone

from handoff import pipeline, receivers, services


def run_pipeline(spread: bool = True) -> int:
    """Take due leads through the pipeline, batch after batch, until none is due or the time budget is spent.

    Queued as a wake-up after every capture commits, and scheduled every minute: the leads themselves say
    what is due, so a lost wake-up only waits for the next one. The budget keeps the task well inside
    django-q2's timeout. A run that finds a backlog (a full first batch) queues one more run so another
    worker shares it (``spread``; that one does not spread again), and a run whose budget ran out with work
    left queues its own continuation, so a backlog drains without waiting for the schedule. Wake-ups are
    coalesced (``receivers.queue_pipeline_run``): a run queued and not started yet stands for every
    capture until it starts. Returns how many leads it took.
    """
    receivers.run_started()  # from here on a capture queues a new run: this one may be past its last claim
    deadline = time.monotonic() + settings.PIPELINE_TASK_BUDGET.total_seconds()
    worker, taken, first = pipeline.worker_name(), 0, True
    while time.monotonic() < deadline:
        claimed = pipeline.process_due_leads(now=timezone.now(), worker=worker, clock=timezone.now)
        if first and spread and claimed == pipeline.BATCH_SIZE and settings.Q_CLUSTER["workers"] > 1:
            receivers.queue_pipeline_run(spread=False, coalesce=False)
        taken, first = taken + claimed, False
        if claimed == 0:
            return taken
    receivers.queue_pipeline_run(spread=False, coalesce=False)  # out of time with work left: carry on in a new task
    return taken


def check_sla() -> None:
    """Every minute (HandoffConfig.periodic_tasks): flag due SLA reminders and breaches."""
    services.flag_sla_events(now=timezone.now())


def send_notification(notification_id: int) -> None:
    """Enqueued after the change a notification reports commits."""
    services.deliver_notification(notification_id=notification_id, now=timezone.now())


def send_notifications(notification_ids: list[int]) -> None:
    """Enqueued once per pipeline batch, after it commits, with the notifications it recorded."""
    services.deliver_notifications(notification_ids=notification_ids, now=timezone.now())


def assign_waiting_leads() -> None:
    """Every minute: assign routed MQLs the pipeline left unowned (a lost task, or nobody was in)."""
    services.assign_waiting_leads(now=timezone.now())


def return_recycled_leads() -> None:
    """Every 5 minutes: bring back the recycled leads whose date has come (rescored, then assigned if MQLs)."""
    services.return_recycled_leads(now=timezone.now())
