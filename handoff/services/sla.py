"""The SLA sweep: reminders and breaches, run every minute by django-q2 (``handoff.tasks.check_sla``).

Each tick finds due breaches and due reminders with one indexed query each, then claims every row with a
conditional UPDATE (``... WHERE breached_at IS NULL``) and acts only when it won the claim. The claim, the
notification row and any reassignment commit together, so running the sweep twice, concurrently, or
again after a crash never doubles a notification or a reassignment.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from handoff.models import BreachAction, NotificationKind, SLARecord
from handoff.services.assignment import reassign_lead
from handoff.services.errors import NoEligibleRepError, NoUsableConsentError
from handoff.services.notifications import queue_notification, retry_unsent_notifications
from leads import events

logger = logging.getLogger(__name__)

# Rows handled per tick; a backlog larger than this (after downtime) drains over the next ticks.
BATCH_SIZE = 500


@dataclass(frozen=True)
class SweepResult:
    breached: int = 0
    reassigned: int = 0
    reminded: int = 0
    notifications_retried: int = 0


def flag_sla_events(*, now: datetime) -> SweepResult:
    """Flag the SLA breaches and reminders due at ``now`` and act on each exactly once."""
    # Breaches first: a record whose reminder and deadline both passed while the sweep was down gets
    # the breach only, never a reminder that it is about to be late.
    breached = reassigned = 0
    for sla_id in _due_breaches(now=now):
        try:
            outcome = _flag_breach(sla_id=sla_id, now=now)
        except Exception:
            # Its claim rolled back with it, so the next run tries again; the breaches behind it, and every
            # reminder, must not wait for it.
            logger.exception("Could not flag the SLA breach of record %s", sla_id)
            continue
        breached += outcome is not None
        reassigned += outcome is True
    reminded = sum(_flag_reminder(sla_id=sla_id, now=now) for sla_id in _due_reminders(now=now))
    retried = retry_unsent_notifications(now=now)
    return SweepResult(breached=breached, reassigned=reassigned, reminded=reminded, notifications_retried=retried)


def _due_breaches(*, now: datetime) -> list[int]:
    due = SLARecord.objects.filter(
        due_at__lte=now, breached_at__isnull=True, met_at__isnull=True, stopped_at__isnull=True
    ).order_by("due_at")
    return list(due.values_list("pk", flat=True)[:BATCH_SIZE])


def _due_reminders(*, now: datetime) -> list[int]:
    # Not a clock already past its deadline, whose breach a backlog (more than a batch) left for the next run.
    due = SLARecord.objects.filter(
        remind_at__lte=now,
        due_at__gt=now,
        reminded_at__isnull=True,
        met_at__isnull=True,
        breached_at__isnull=True,
        stopped_at__isnull=True,
    ).order_by("remind_at")
    return list(due.values_list("pk", flat=True)[:BATCH_SIZE])


def _flag_breach(*, sla_id: int, now: datetime) -> bool | None:
    """Claim one breach and run its policy's action; None if another run claimed it, else whether it reassigned."""
    with transaction.atomic():
        claimed = SLARecord.objects.filter(
            pk=sla_id, breached_at__isnull=True, met_at__isnull=True, stopped_at__isnull=True
        ).update(breached_at=now)
        if not claimed:
            return None
        sla = SLARecord.objects.select_related("assignment__lead", "assignment__team", "assignment__rep").get(pk=sla_id)
        assignment = sla.assignment
        wants_reassign = sla.on_breach in (BreachAction.REASSIGN, BreachAction.NOTIFY_AND_REASSIGN)
        notify_managers = sla.on_breach in (BreachAction.NOTIFY_MANAGER, BreachAction.NOTIFY_AND_REASSIGN)
        extra = ""
        if wants_reassign:
            try:
                successor = reassign_lead(
                    assignment=assignment, now=now, by=None, reason="SLA breached: reassigned automatically"
                )
                extra = f"It has been reassigned to {successor.rep.get_full_name() or successor.rep}."
            except NoEligibleRepError:
                # Nobody to pass it to: the managers must step in, whatever the policy says.
                wants_reassign, notify_managers = False, True
                extra = "Nobody else in the team is available to take it over."
            except NoUsableConsentError:
                # Nobody may contact the person now: passing it on would only ask another rep to break that.
                wants_reassign, notify_managers = False, True
                extra = "It was not reassigned: the person has withdrawn consent, so nobody may contact them."
        recipients = [assignment.rep, *(assignment.team.managers.all() if notify_managers else [])]
        queue_notification(
            kind=NotificationKind.BREACH, assignment=assignment, recipients=recipients, now=now, extra=extra
        )
        SLARecord.objects.filter(pk=sla_id).update(escalated_at=now)
        events.emit(
            events.LEAD_SLA_BREACHED,
            lead_id=assignment.lead_id,
            event_id=f"{events.LEAD_SLA_BREACHED}:{sla_id}",
            data={"team": assignment.team.slug, "rep": assignment.rep.get_username(), "due_at": sla.due_at.isoformat(),
                  "reassigned": wants_reassign},
            occurred_at=now,
        )  # fmt: skip
    return wants_reassign


def _flag_reminder(*, sla_id: int, now: datetime) -> bool:
    """Claim one reminder and email the rep; False if another run claimed it first."""
    with transaction.atomic():
        claimed = SLARecord.objects.filter(
            pk=sla_id,
            reminded_at__isnull=True,
            met_at__isnull=True,
            breached_at__isnull=True,
            stopped_at__isnull=True,
        ).update(reminded_at=now)
        if not claimed:
            return False
        sla = SLARecord.objects.select_related("assignment__lead", "assignment__team", "assignment__rep").get(pk=sla_id)
        if not sla.assignment.lead.has_usable_consent:
            return False  # the person withdrew since: nobody is asked to contact them (the claim stays, once)
        queue_notification(
            kind=NotificationKind.REMINDER, assignment=sla.assignment, recipients=[sla.assignment.rep], now=now
        )
    return True
