"""What a rep does with an assigned lead: accept, log a contact, qualify, reject, recycle.

Every action is a conditional UPDATE on the assignment (still open, still this rep's, in a state the
action fits), so of two people acting on the same lead at once exactly one wins; the other gets an
``AssignmentConflictError`` whose message says what happened instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import DateTimeField, Value
from django.db.models.functions import Coalesce

from handoff.models import (
    Assignment,
    AssignmentOutcome,
    AssignmentState,
    ContactLog,
    QualificationNotes,
    SLARecord,
)
from handoff.services.errors import ActionNotAllowedError, AssignmentConflictError
from leads.models import Lead, Stage
from leads.services import StageConflictError, StageTransitionError, change_stage


@dataclass(frozen=True)
class BANT:
    budget: str
    authority: str
    need: str
    timing: str


def accept_assignment(*, assignment: Assignment, rep: AbstractBaseUser, now: datetime) -> Assignment:
    """The rep takes the lead on; the SLA clock keeps running until the first contact."""
    _claim(assignment, rep=rep, states=[AssignmentState.ASSIGNED], state=AssignmentState.ACCEPTED, accepted_at=now)
    assignment.state, assignment.accepted_at = AssignmentState.ACCEPTED, now
    return assignment


def log_contact(*, assignment: Assignment, rep: AbstractBaseUser, kind: str, note: str, now: datetime) -> ContactLog:
    """Record a call, email or meeting; the first one accepts the lead if needed and meets the SLA."""
    with transaction.atomic():
        _claim(
            assignment,
            rep=rep,
            states=AssignmentState.values,
            state=AssignmentState.CONTACTED,
            accepted_at=Coalesce("accepted_at", Value(now, output_field=DateTimeField())),
            contacted_at=Coalesce("contacted_at", Value(now, output_field=DateTimeField())),
        )
        contact = ContactLog.objects.create(assignment=assignment, rep=rep, kind=kind, note=note, contacted_at=now)
        SLARecord.objects.filter(assignment=assignment, met_at__isnull=True, stopped_at__isnull=True).update(met_at=now)
    assignment.refresh_from_db(fields=["state", "accepted_at", "contacted_at"])
    return contact


def qualify_lead(*, assignment: Assignment, rep: AbstractBaseUser, bant: BANT, now: datetime) -> Assignment:
    """Close the assignment as sales-qualified: the lead becomes an SQL, with the rep's BANT notes."""
    with transaction.atomic():
        _end(assignment, rep=rep, outcome=AssignmentOutcome.QUALIFIED, now=now, states=[AssignmentState.CONTACTED])
        QualificationNotes.objects.create(assignment=assignment, qualified_at=now, **bant.__dict__)
        _move_lead(assignment.lead, to_stage=Stage.SQL, rep=rep, now=now, reason="Qualified by sales (BANT recorded)")
    return assignment


def reject_lead(*, assignment: Assignment, rep: AbstractBaseUser, reason: str, now: datetime) -> Assignment:
    """Send the lead back to marketing as rejected, with the rep's reason; it leaves the rep's hands."""
    with transaction.atomic():
        _end(assignment, rep=rep, outcome=AssignmentOutcome.REJECTED, now=now)
        _move_lead(assignment.lead, to_stage=Stage.REJECTED, rep=rep, now=now, reason=reason)
        _release(assignment, rep=rep, now=now)
    return assignment


def recycle_lead(
    *, assignment: Assignment, rep: AbstractBaseUser, recycle_on: date, reason: str, now: datetime
) -> Assignment:
    """Return the lead to nurture until ``recycle_on`` (not ready yet, but worth another try later)."""
    with transaction.atomic():
        _end(assignment, rep=rep, outcome=AssignmentOutcome.RECYCLED, now=now, recycle_on=recycle_on)
        note = f"Recycled until {recycle_on:%Y-%m-%d}" + (f": {reason}" if reason else "")
        _move_lead(assignment.lead, to_stage=Stage.NURTURE, rep=rep, now=now, reason=note)
        _release(assignment, rep=rep, now=now)
    return assignment


def _claim(assignment: Assignment, *, rep: AbstractBaseUser, states: list[str], **changes: object) -> None:
    """Apply ``changes`` if the assignment is still open, the rep's, and in one of ``states``; else explain why not."""
    claimed = Assignment.objects.filter(pk=assignment.pk, rep=rep, ended_at__isnull=True, state__in=states).update(
        **changes
    )
    if claimed != 1:
        raise _refusal(assignment.pk, rep=rep, states=states)


def _end(
    assignment: Assignment,
    *,
    rep: AbstractBaseUser,
    outcome: str,
    now: datetime,
    states: list[str] | None = None,
    recycle_on: date | None = None,
) -> None:
    _claim(
        assignment,
        rep=rep,
        states=states or AssignmentState.values,
        ended_at=now,
        outcome=outcome,
        recycle_on=recycle_on,
    )
    # Ending before any contact stops the clock, so the sweep never flags a lead the rep already handled.
    SLARecord.objects.filter(assignment=assignment, met_at__isnull=True, stopped_at__isnull=True).update(stopped_at=now)
    assignment.ended_at, assignment.outcome = now, outcome


def _move_lead(lead: Lead, *, to_stage: str, rep: AbstractBaseUser, now: datetime, reason: str) -> None:
    try:
        change_stage(lead=lead, to_stage=to_stage, now=now, by=rep, reason=reason)
    except StageConflictError as error:
        raise AssignmentConflictError(f"{lead} was changed by someone else; reload and try again.") from error
    except StageTransitionError as error:
        raise ActionNotAllowedError(f"{lead} is {lead.get_stage_display()} and cannot be moved there.") from error


def _release(assignment: Assignment, *, rep: AbstractBaseUser, now: datetime) -> None:
    # Back to marketing: unowned, so the pipeline assigns it afresh if it qualifies again.
    Lead.objects.filter(pk=assignment.lead_id, owner=rep).update(owner=None, updated_at=now)


_ENDED_AS = {
    AssignmentOutcome.QUALIFIED: "qualified as an SQL",
    AssignmentOutcome.REJECTED: "rejected",
    AssignmentOutcome.RECYCLED: "recycled to nurture",
}


def _refusal(assignment_id: int, *, rep: AbstractBaseUser, states: list[str]) -> Exception:
    """Explain, from the assignment as it is now, why an action on it could not be applied."""
    current = Assignment.objects.select_related("lead").filter(pk=assignment_id).first()
    if current is None or current.rep_id != rep.pk:
        return AssignmentConflictError("This lead is not assigned to you.")
    if current.outcome == AssignmentOutcome.REASSIGNED:
        successor = Assignment.objects.open().select_related("rep").filter(lead_id=current.lead_id).first()
        who = (successor.rep.get_full_name() or str(successor.rep)) if successor else "another rep"
        return AssignmentConflictError(f"{current.lead} was reassigned to {who}; it is no longer yours.")
    if current.ended_at is not None:
        return AssignmentConflictError(f"{current.lead} was already {_ENDED_AS[current.outcome]}.")
    if AssignmentState.CONTACTED in states and len(states) == 1:
        return ActionNotAllowedError(f"Log a contact with {current.lead} before qualifying.")
    return AssignmentConflictError(f"{current.lead} is already {current.get_state_display().lower()}.")
