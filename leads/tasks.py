"""django-q2 entry points of the leads app. Tasks are adapters: they pass ids and call one service each."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from leads import imports, submissions
from leads.enrichment import services as enrichment


def send_submission_confirmation(submission_id: int) -> bool:
    """Enqueued after a double opt-in submission commits; sends its confirmation email once."""
    return submissions.send_confirmation_email(submission_id=submission_id, now=timezone.now())


def send_unsent_confirmations() -> int:
    """Every few minutes: the double opt-in emails whose task was lost."""
    return submissions.send_unsent_confirmations(now=timezone.now())


def refresh_stale_enrichment() -> int:
    """Hourly: enrich again a chunk of the leads whose enrichment is older than ``ENRICHMENT_REFRESH_AGE_DAYS``."""
    if settings.ENRICHMENT_REFRESH_AGE_DAYS <= 0:
        return 0
    return enrichment.refresh_stale_enrichment(
        now=timezone.now(),
        older_than=timedelta(days=settings.ENRICHMENT_REFRESH_AGE_DAYS),
        limit=settings.ENRICHMENT_REFRESH_BATCH,
    )


def run_lead_import(batch_id: int) -> str:
    """Queued when a marketer starts an import (and again by the sweep, or by itself when its time is up: the
    pipeline's task budget, a third of the task timeout by default): imports its rows in chunks."""
    batch = imports.run_import(batch_id=batch_id, clock=timezone.now, budget=settings.PIPELINE_TASK_BUDGET)
    return f"import {batch_id}: {batch.status}, {batch.processed_rows}/{batch.total_rows} rows"


def run_lead_import_preview(batch_id: int) -> str:
    """Queued when a marketer has mapped a file's columns (and again by the sweep, or by itself when its time is
    up, as the import is): checks the rows and stores what an import would do."""
    batch = imports.run_preview(batch_id=batch_id, clock=timezone.now, budget=settings.PIPELINE_TASK_BUDGET)
    return f"import {batch_id} preview: {batch.status}, {batch.total_rows} rows"


def run_lead_import_undo(batch_id: int) -> str:
    """Queued by an import's Undo button (and again by the sweep, or by itself when its time is up)."""
    batch = imports.run_undo(batch_id=batch_id, clock=timezone.now, budget=settings.PIPELINE_TASK_BUDGET)
    return f"import {batch_id} undo: {batch.status}"


def resume_stalled_imports() -> int:
    """Every few minutes: imports, previews and undos whose task was lost or whose worker died are queued again."""
    return imports.resume_stalled_imports(now=timezone.now())
