"""django-q2 entry points of the scoring app. Tasks are adapters: they pass ids and call one service each."""

from django.conf import settings
from django.utils import timezone

from scoring import effectiveness_rollups, services


def decay_scores() -> None:
    """Hourly (``periodic_tasks`` on ScoringConfig): decay engagement, and restart rescores whose task was lost."""
    services.start_decay_pass(now=timezone.now())


def run_rescore_job(job_id: int) -> None:
    """Queued by ``services.request_rescore``; runs some batches and queues itself for the rest."""
    services.run_rescore_job(job_id=job_id, now=timezone.now())


def score_lead(lead_id: int) -> None:
    """Rescore one lead, e.g. after marketing completed its fields: ``async_task("scoring.tasks.score_lead", id)``."""
    services.score_lead(lead_id=lead_id, now=timezone.now())


def refresh_rule_effectiveness() -> int:
    """Every minute (``periodic_tasks`` on ScoringConfig): recompute the recent and the changed days' rollups, and
    go on with the first build, within the pipeline's task budget (a third of the task timeout by default)."""
    return effectiveness_rollups.refresh_rollups(
        now=timezone.now(), clock=timezone.now, budget=settings.PIPELINE_TASK_BUDGET
    )
