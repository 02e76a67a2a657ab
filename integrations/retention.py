"""Retention: records older than a policy allows are removed by a scheduled task, a bounded batch at a time.

Four kinds of policy (``RetentionKind``), each edited in admin (Integrations > Retention policies):

- **Inactive leads never past "new"**: created before the cutoff, still in stage ``new``, with no activity
  and no touch since the cutoff, not erased yet. Each goes through ``integrations.privacy.erase_lead``, the
  one erasure path (every app's step, in one transaction per lead), with the policy named as the reason.
- **Spam submissions**: held as suspected spam (no lead) and sent before the cutoff: deleted.
- **Delivered webhook payloads**: delivered before the cutoff: the payload is replaced by the same stub an
  erasure leaves (event id, event, time, lead id) and the receiver's answer is forgotten; the delivery row
  stays in the log.
- **Import uploads**: the stored file of an import that ended (imported or failed, or undone) before the cutoff
  is deleted (``leads.import_retention``); the import, its counts, row messages and undo records stay. An import
  still being mapped, previewed, imported or undone keeps its file, however old.

``due(policy, now)`` is the one definition of what is due, used by the dry run (``count_due``) and by the
run (``apply_policy``), so the dry-run count is what the first run removes (up to its batches). A policy is
switched on only after a dry run of its current rule (``check_can_switch_on``). Each run that removes
something is logged as a ``RetentionRun`` (how many, which ids, what is still due). Runs are idempotent:
what a run removed is no longer due, so a run repeated, or two at once, remove nothing twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from integrations import privacy
from integrations.models import DeliveryStatus, RetentionKind, RetentionPolicy, RetentionRun, WebhookDelivery
from integrations.services import personal_data
from leads import import_retention
from leads.models import Activity, Lead, Stage, Submission, SubmissionStatus, Touch

logger = logging.getLogger(__name__)


def cutoff(policy: RetentionPolicy, *, now: datetime) -> datetime:
    """Records older than this are due."""
    return now - timedelta(days=policy.age_days)


def due(policy: RetentionPolicy, *, now: datetime) -> QuerySet[Any]:
    """What the policy would remove now, oldest first."""
    before = cutoff(policy, now=now)
    if policy.kind == RetentionKind.INACTIVE_NEW_LEADS:
        recent_activity = Activity.objects.filter(lead=OuterRef("pk"), occurred_at__gte=before)
        recent_touch = Touch.objects.filter(lead=OuterRef("pk"), occurred_at__gte=before)
        return (
            Lead.objects.filter(stage=Stage.NEW, erased_at__isnull=True, created_at__lt=before)
            .filter(Q(last_touch_at__isnull=True) | Q(last_touch_at__lt=before))
            .exclude(Exists(recent_activity))
            .exclude(Exists(recent_touch))
            .order_by("created_at", "id")
        )
    if policy.kind == RetentionKind.SPAM_SUBMISSIONS:
        return Submission.objects.filter(status=SubmissionStatus.SPAM, submitted_at__lt=before).order_by(
            "submitted_at", "id"
        )
    if policy.kind == RetentionKind.DELIVERED_WEBHOOK_PAYLOADS:
        # A stubbed payload's lead holds its id alone: what still names the lead is due.
        unstubbed = Q(payload__lead__has_key="email") | Q(payload__lead__has_key="name")
        return WebhookDelivery.objects.filter(
            unstubbed, status=DeliveryStatus.DELIVERED, delivered_at__lt=before
        ).order_by("delivered_at", "id")
    if policy.kind == RetentionKind.IMPORT_UPLOADS:
        return import_retention.uploads_ended_before(before)
    raise ValueError(f"Unknown retention kind {policy.kind!r}")


def count_due(*, policy: RetentionPolicy, now: datetime) -> int:
    """The dry run: how many records the policy would remove now. Recorded on the policy."""
    count = due(policy, now=now).count()
    policy.dry_run_at = now
    policy.dry_run_count = count
    policy.save(update_fields=["dry_run_at", "dry_run_count"])
    return count


def rule_changed(policy: RetentionPolicy) -> bool:
    """Whether the policy's rule (kind or age) differs from the stored one (a new policy: yes)."""
    if policy.pk is None:
        return True
    stored = RetentionPolicy.objects.filter(pk=policy.pk).values("kind", "age_days").first()
    return stored is None or (stored["kind"], stored["age_days"]) != (policy.kind, policy.age_days)


def check_can_switch_on(policy: RetentionPolicy) -> None:
    """Refuse a policy switched on whose current rule has had no dry run (nobody saw what it removes)."""
    if not policy.is_active:
        return
    if rule_changed(policy) or policy.dry_run_at is None:
        raise ValidationError(
            {
                "is_active": "Save the policy switched off and run “Dry run: count what is due” on it first, "
                "so you see how many records it would remove; then switch it on."
            }
        )


def apply_policy(*, policy: RetentionPolicy, now: datetime) -> RetentionRun | None:
    """Remove what is due, at most ``batches_per_run`` batches of ``batch_size``; log the run if it removed any.

    Leads are erased one transaction each (a failing one is logged and the run goes on with the rest);
    submissions, payloads and import uploads one transaction per batch.
    """
    before = cutoff(policy, now=now)
    removed: list[int] = []
    errors: list[str] = []
    for _ in range(policy.batches_per_run):
        ids = list(due(policy, now=now).values_list("id", flat=True)[: policy.batch_size])
        if not ids:
            break
        done, failed = _remove(policy, ids, now=now)
        removed += done
        errors += failed
        if failed and not done:
            break  # every record of the batch failed: the next batch would be the same one
    policy.last_run_at = now
    policy.save(update_fields=["last_run_at"])
    if not removed and not errors:
        return None
    return RetentionRun.objects.create(
        policy=policy,
        kind=policy.kind,
        cutoff_at=before,
        started_at=now,
        finished_at=now,
        removed=len(removed),
        removed_ids=removed,
        remaining=due(policy, now=now).count(),
        error="\n".join(errors)[:5000],
    )


def apply_active_policies(*, now: datetime) -> list[RetentionRun]:
    """The scheduled task: every active policy once."""
    runs = []
    for policy in RetentionPolicy.objects.filter(is_active=True).order_by("pk"):
        run = apply_policy(policy=policy, now=now)
        if run is not None:
            runs.append(run)
    return runs


def _remove(policy: RetentionPolicy, ids: list[int], *, now: datetime) -> tuple[list[int], list[str]]:
    if policy.kind == RetentionKind.INACTIVE_NEW_LEADS:
        return _erase_leads(policy, ids, now=now)
    if policy.kind == RetentionKind.IMPORT_UPLOADS:
        # Only the uploads still due when their transaction reads them: the run logs the files it deleted.
        return import_retention.delete_uploads(ids=ids, before=cutoff(policy, now=now), now=now), []
    with transaction.atomic():
        if policy.kind == RetentionKind.SPAM_SUBMISSIONS:
            # Re-checked inside the transaction: a submission released meanwhile is no longer spam.
            Submission.objects.filter(pk__in=ids, status=SubmissionStatus.SPAM).delete()
        else:
            _stub_payloads(ids)
    return ids, []


def _erase_leads(policy: RetentionPolicy, ids: list[int], *, now: datetime) -> tuple[list[int], list[str]]:
    reason = f"Retention policy “{policy.name}”: never past new and inactive for {policy.age_days} days."
    done, failed = [], []
    for lead in Lead.objects.filter(pk__in=ids).order_by("created_at", "id"):
        try:
            privacy.erase_lead(lead=lead, now=now, by=None, reason=reason)
        except Exception as error:  # one lead's failure must not stop the policy for every other lead
            logger.exception("Retention policy %s could not erase lead %s", policy.pk, lead.pk)
            failed.append(f"Lead {lead.pk}: {error}")
        else:
            done.append(lead.pk)
    return done, failed


def _stub_payloads(ids: list[int]) -> None:
    # The erasure's stub: the envelope and the lead id.
    personal_data.stub_payloads(list(WebhookDelivery.objects.filter(pk__in=ids)))
