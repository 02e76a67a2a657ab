"""Email notifications: recorded once per kind and assignment, sent after the change that caused them commits.

A notification row is created in the same transaction as the change it reports (an assignment, a
claimed reminder, a claimed breach), so a rolled-back change sends nothing, and the unique
(kind, assignment) constraint means a sweep that runs twice never sends twice. Sending claims the
row first (``sent_at``), so two workers never both send it; a send that fails is released for the
SLA sweep to retry.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django_q.tasks import async_task

from handoff.models import Assignment, Notification, NotificationKind

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

SUBJECTS: dict[str, str] = {
    NotificationKind.ASSIGNED: "New lead for you: {lead}",
    NotificationKind.REMINDER: "Reminder: contact {lead} before {due}",
    NotificationKind.BREACH: "SLA breached: {lead} was not contacted in time",
}
# A notification still unsent this long after it was recorded is retried by the SLA sweep.
RETRY_AFTER = timedelta(minutes=5)
MAX_ATTEMPTS = 5

# Inside ``batched_deliveries``: the ids recorded, sent by one task when the batch ends (else None).
_batch: ContextVar[list[int] | None] = ContextVar("notification_batch", default=None)


@contextmanager
def batched_deliveries() -> Iterator[None]:
    """Send the notifications recorded inside this block with one task, after the block (the pipeline's batch).

    Enter it outside the batch's transaction: it enqueues when the block ends without an error, so after
    the commit. An id whose row a savepoint rolled back is skipped by the task; a lost task leaves the rows
    unsent for the SLA sweep, as with single deliveries.
    """
    ids: list[int] = []
    token = _batch.set(ids)
    try:
        yield
    finally:
        _batch.reset(token)
    if ids:
        _enqueue_task("handoff.tasks.send_notifications", ids)


def queue_notification(
    *, kind: str, assignment: Assignment, recipients: Iterable[User], now: datetime, extra: str = ""
) -> Notification | None:
    """Record the ``kind`` email about ``assignment`` and send it once the current transaction commits.

    Returns None when this kind was already recorded for the assignment.
    """
    notification = _notification(kind=kind, assignment=assignment, recipients=recipients, now=now, extra=extra)
    try:
        with transaction.atomic():
            notification.save(force_insert=True)
    except IntegrityError:
        return None
    _send_after_commit(notification.pk)
    return notification


def queue_new_assignment_notifications(
    *, kind: str, assignments: Iterable[tuple[Assignment, list[User]]], now: datetime
) -> list[Notification]:
    """``queue_notification`` for assignments created in this transaction (none has a notification yet): one INSERT."""
    rows = [_notification(kind=kind, assignment=a, recipients=users, now=now) for a, users in assignments]
    created = Notification.objects.bulk_create(rows)
    for notification in created:
        _send_after_commit(notification.pk)
    return created


def _notification(
    *, kind: str, assignment: Assignment, recipients: Iterable[User], now: datetime, extra: str = ""
) -> Notification:
    """The unsaved ``kind`` email about ``assignment``, its subject and body rendered."""
    addresses = sorted({user.email for user in recipients if user.email})
    due_local = assignment.sla_due_at.astimezone(ZoneInfo(assignment.team.timezone))
    context = {
        "assignment": assignment,
        "lead": assignment.lead,
        # Formatted here: the template's date filter would turn it back into the site's time zone.
        "due": f"{due_local:%A} {due_local.day} {due_local:%B, %H:%M %Z}",
        "extra": extra,
        "url": settings.SITE_URL + reverse("handoff:lead", args=[assignment.lead_id]),
    }
    subject = SUBJECTS[kind].format(lead=assignment.lead, due=f"{due_local:%a} {due_local.day} {due_local:%b %H:%M %Z}")
    return Notification(
        kind=kind,
        assignment=assignment,
        recipients=addresses,
        subject=subject[:200],
        body=render_to_string(f"handoff/email/{kind}.txt", context),
        created_at=now,
    )


def _send_after_commit(notification_id: int) -> None:
    """Inside ``batched_deliveries`` the id joins the batch's one task; else its own task is queued after commit."""
    batch = _batch.get()
    if batch is not None:
        batch.append(notification_id)
    else:
        transaction.on_commit(partial(_enqueue_task, "handoff.tasks.send_notification", notification_id))


def _enqueue_task(task: str, ids: int | list[int]) -> None:
    try:
        async_task(task, ids)
    except Exception:
        # The broker is down: the rows stay unsent and the SLA sweep retries them.
        logger.exception("Could not enqueue %s for %s; the SLA sweep will retry", task, ids)


def deliver_notification(*, notification_id: int, now: datetime) -> bool:
    """Send one recorded notification unless it was already sent; returns whether this call sent it."""
    claimed = Notification.objects.filter(pk=notification_id, sent_at__isnull=True).update(
        sent_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return False
    notification = Notification.objects.get(pk=notification_id)
    if not notification.recipients:
        return True
    try:
        send_mail(notification.subject, notification.body, None, notification.recipients)
    except Exception as error:
        Notification.objects.filter(pk=notification_id).update(sent_at=None, last_error=str(error)[:1000])
        logger.warning("Sending notification %s failed: %s", notification_id, error)
        return False
    return True


def deliver_notifications(*, notification_ids: Iterable[int], now: datetime) -> int:
    """Send each of ``notification_ids`` still recorded and unsent (a batch's); returns how many went out."""
    existing = Notification.objects.filter(pk__in=list(notification_ids)).order_by("pk").values_list("pk", flat=True)
    return sum(deliver_notification(notification_id=pk, now=now) for pk in existing)


def retry_unsent_notifications(*, now: datetime, limit: int = 100) -> int:
    """Send notifications left unsent by a failed send or a lost task; returns how many went out."""
    stale = Notification.objects.filter(
        sent_at__isnull=True, created_at__lte=now - RETRY_AFTER, attempts__lt=MAX_ATTEMPTS
    ).values_list("pk", flat=True)
    return sum(deliver_notification(notification_id=pk, now=now) for pk in list(stale.order_by("created_at")[:limit]))
