"""django-q2 entry points. Tasks are adapters: they call one service each."""

from django.conf import settings
from django.utils import timezone

from reports import rollups


def refresh_report_rollups() -> int:
    """Every minute (ReportsConfig.periodic_tasks): recompute the recent and the changed days' rollups, and go on
    with a build in steps, within the pipeline's task budget (a third of the task timeout by default)."""
    return rollups.refresh_rollups(now=timezone.now(), clock=timezone.now, budget=settings.PIPELINE_TASK_BUDGET)
