"""What handoff holds about a lead's person, for a data subject request (GDPR art. 15, 17 and 20).

``integrations.privacy`` calls it, inside the request's transaction: the export collects the assignments
with the reps' notes and follow-up tasks; the erasure ends an open assignment and blanks the notes, the
follow-ups' notes and the notification emails.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from handoff.models import (
    Assignment,
    AssignmentOutcome,
    ContactLog,
    FollowUp,
    Notification,
    QualificationNotes,
    RoutingDecision,
)
from handoff.services.actions import end_assignment
from leads.models import Lead

ERASED_SUBJECT = "Personal data erased"
NOT_SENT = "Not sent: the lead's personal data was erased before it went out."


def lead_personal_data(*, lead: Lead) -> dict[str, Any]:
    """The lead's assignments with what reps wrote and what we emailed about it; reps are named by team only."""
    assignments = (
        Assignment.objects.filter(lead=lead)
        .select_related("team", "qualification")
        .prefetch_related("contacts", "notifications")
        .order_by("assigned_at", "id")
    )
    follow_ups = FollowUp.objects.filter(lead=lead).order_by("created_at", "id")
    return {
        "handoff": {
            "routing": _routing_data(lead),
            "assignments": [_assignment_data(assignment) for assignment in assignments],
            "follow_ups": [
                {"note": f.note, "due_at": f.due_at, "created_at": f.created_at, "done_at": f.done_at}
                for f in follow_ups
            ],
        }
    }


def _routing_data(lead: Lead) -> dict[str, Any] | None:
    """Where routing sent the lead and why (the logic of a decision made about the person, art. 15(1)(h))."""
    decision = RoutingDecision.objects.filter(lead=lead).select_related("team").first()
    if decision is None:
        return None
    return {
        "destination": decision.destination,
        "team": decision.team.name if decision.team else "",
        "nurture_track": decision.nurture_track,
        "rule": decision.rule_name,
        "reasons": {key: decision.reasons.get(key) for key in ("summary", "held", "passed_over", "destination")},
        "decided_at": decision.decided_at,
    }


def _assignment_data(assignment: Assignment) -> dict[str, Any]:
    names = ("assigned_at", "reason", "state", "accepted_at", "contacted_at", "sla_due_at", "ended_at", "outcome")
    qualification = getattr(assignment, "qualification", None)
    return {
        "team": assignment.team.name,
        **{name: getattr(assignment, name) for name in names},
        "contacts": [
            {"kind": contact.kind, "note": contact.note, "contacted_at": contact.contacted_at}
            for contact in sorted(assignment.contacts.all(), key=lambda contact: (contact.contacted_at, contact.pk))
        ],
        "qualification": None
        if qualification is None
        else {name: getattr(qualification, name) for name in ("budget", "authority", "need", "timing", "qualified_at")},
        "notifications": [
            {"kind": note.kind, "subject": note.subject, "body": note.body, "sent_at": note.sent_at}
            for note in sorted(assignment.notifications.all(), key=lambda note: (note.created_at, note.pk))
        ],
    }


def erase_lead_personal_data(*, lead_id: int, now: datetime) -> None:
    """End the lead's open assignment and blank what reps wrote and what we emailed about the person.

    The open assignment ends as rejected (sales will not work the lead), its SLA clock stops and the rep's
    ownership is released; leads then moves the lead out of marketing's stages. Assignment times, states
    and outcomes stay for the SLA reports. Safe to run again: it finds nothing open and blanks blanks.
    """
    current = Assignment.objects.open().select_related("rep").filter(lead_id=lead_id).first()
    if current is not None:
        end_assignment(current, outcome=AssignmentOutcome.REJECTED, now=now)
    assignments = Assignment.objects.filter(lead_id=lead_id)
    assignments.exclude(reason="").update(reason="")
    ContactLog.objects.filter(assignment__in=assignments).exclude(note="").update(note="")
    QualificationNotes.objects.filter(assignment__in=assignments).update(budget="", authority="", need="", timing="")
    FollowUp.objects.filter(lead_id=lead_id).exclude(note="").update(note="")
    notifications = Notification.objects.filter(assignment__in=assignments)
    # An email still to go would now say nothing: with no recipients, sending it sends nothing.
    notifications.filter(sent_at__isnull=True).update(recipients=[], last_error=NOT_SENT)
    notifications.update(subject=ERASED_SUBJECT, body="")
