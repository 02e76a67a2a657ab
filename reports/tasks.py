"""django-q2 entry points. Tasks are adapters: they call one service each."""

from django.utils import timezone

from reports import rollups


def refresh_report_rollups() -> int:
    """Every minute (ReportsConfig.periodic_tasks): recompute the recent and the changed days' rollups."""
    return rollups.refresh_rollups(now=timezone.now())
