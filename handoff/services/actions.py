"""What a rep does with an assigned lead: accept, log a contact, qualify, reject, recycle.

Every action is a conditional UPDATE on the assignment (still open, still this rep's, in a state the
action fits), so of two people acting on the same lead at once exactly one wins; the other gets an
``AssignmentConflictError`` whose message says what happened instead.

A recycled lead is parked in nurture until the rep's date (``Lead.nurture_ends_at``; scoring does not
make it an MQL before then), and ``return_recycled_leads`` brings it back on that date: to sales if it is an
MQL again, else into the nurture track routing gives it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
from handoff.services.assignment import assign_lead_step
from handoff.services.errors import ActionNotAllowedError, AssignmentConflictError, HandoffError
from handoff.services.routing import route_back_to_nurture
from leads import events
from leads.models import Lead, Stage
from leads.services import (
    StageConflictError,
    StageTransitionError,
    change_stage,
    release_owner,
    set_nurture_end,
)
from scoring.services import score_lead

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

# Recycled leads brought back per sweep run; more due at once wait for the next run.
RETURN_BATCH_SIZE = 200


@dataclass(frozen=True)
class BANT:
    budget: str
    authority: str
    need: str
    timing: str


def accept_assignment(*, assignment: Assignment, rep: User, now: datetime) -> Assignment:
    """The rep takes the lead on; the SLA clock keeps running until the first contact."""
    _claim(assignment, rep=rep, states=[AssignmentState.ASSIGNED], state=AssignmentState.ACCEPTED, accepted_at=now)
    assignment.state, assignment.accepted_at = AssignmentState.ACCEPTED, now
    return assignment


def log_contact(*, assignment: Assignment, rep: User, kind: str, note: str, now: datetime) -> ContactLog:
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


def qualify_lead(*, assignment: Assignment, rep: User, bant: BANT, now: datetime) -> Assignment:
    """Close the assignment as sales-qualified: the lead becomes an SQL, with the rep's BANT notes."""
    with transaction.atomic():
        _end(assignment, rep=rep, outcome=AssignmentOutcome.QUALIFIED, now=now, states=[AssignmentState.CONTACTED])
        QualificationNotes.objects.create(assignment=assignment, qualified_at=now, **bant.__dict__)
        _move_lead(assignment.lead, to_stage=Stage.SQL, rep=rep, now=now, reason="Qualified by sales (BANT recorded)")
    return assignment


def reject_lead(*, assignment: Assignment, rep: User, reason: str, now: datetime, by: User | None = None) -> Assignment:
    """Send the lead back to marketing as rejected, with the rep's reason; it leaves the rep's hands.

    ``by`` is who decided when it is not the rep (their manager, from the team queue).
    """
    with transaction.atomic():
        _end(assignment, rep=rep, outcome=AssignmentOutcome.REJECTED, now=now)
        _move_lead(assignment.lead, to_stage=Stage.REJECTED, rep=by or rep, now=now, reason=reason)
        _release(assignment, rep=rep, now=now)
    return assignment


def recycle_lead(
    *, assignment: Assignment, rep: User, recycle_on: date, reason: str, now: datetime, by: User | None = None
) -> Assignment:
    """Return the lead to nurture until ``recycle_on`` (not ready yet, but worth another try later).

    The lead is parked until that day starts in the team's timezone: scoring keeps it out of MQL, and
    ``return_recycled_leads`` brings it back then. ``by`` is who decided when it is not the rep. Raises
    ``ActionNotAllowedError`` when that day has already begun there (a rep or manager in another timezone, for
    whom it is still tomorrow): the lead would come straight back.
    """
    ends_at = start_of_day(recycle_on, timezone_name=assignment.team.timezone)
    if ends_at <= now:
        raise ActionNotAllowedError(
            f"{recycle_on:%d %B %Y} has already begun for {assignment.team} ({assignment.team.timezone}): "
            f"pick a later day to recycle {assignment.lead} until."
        )
    with transaction.atomic():
        _end(assignment, rep=rep, outcome=AssignmentOutcome.RECYCLED, now=now, recycle_on=recycle_on)
        note = f"Recycled until {recycle_on:%Y-%m-%d}" + (f": {reason}" if reason else "")
        _move_lead(assignment.lead, to_stage=Stage.NURTURE, rep=by or rep, now=now, reason=note)
        _release(assignment, rep=rep, now=now)
        set_nurture_end(lead_id=assignment.lead_id, ends_at=ends_at, now=now)
        # The nurture app (if installed) enrolls the lead in the recycle track until that date, after commit.
        events.request_nurture(
            lead_id=assignment.lead_id, source=events.NURTURE_FROM_RECYCLE, reason=note, until=ends_at
        )
    return assignment


def return_recycled_leads(*, now: datetime, limit: int = RETURN_BATCH_SIZE) -> int:
    """Bring back the recycled leads whose date has come; returns how many.

    Each one is un-parked and rescored, so it becomes an MQL again if its score still qualifies (the
    stage change says "Recycle date reached."), and the rotation assigns it; one that stays in nurture is
    routed again and enrolled in routing's track (``route_back_to_nurture``). One indexed query finds
    at most ``limit`` due leads, the longest due first; the rest wait for the next run. Safe to run
    twice: ending the park is a conditional update, so each lead is brought back once.
    """
    due = (
        Lead.objects.filter(nurture_ends_at__lte=now)
        .order_by("nurture_ends_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    returned = 0
    for lead_id in list(due):
        try:
            returned += _return_recycled_lead(lead_id, now=now)
        except Exception:  # one broken lead must not keep the others parked
            logger.exception("Could not bring back recycled lead %s", lead_id)
    return returned


def _return_recycled_lead(lead_id: int, *, now: datetime) -> bool:
    with transaction.atomic():
        if not set_nurture_end(lead_id=lead_id, ends_at=None, now=now):
            return False  # another run (or a manager assigning it) got there first
        lead = score_lead(lead_id=lead_id, now=now, occasion="Recycle date reached.")
        if lead.stage == Stage.NURTURE and lead.owner_id is None:
            # Not an MQL again: its recycle enrollment ends with the date, so it goes where routing sends it.
            route_back_to_nurture(lead_id=lead_id, now=now, reason="Recycle date reached; not an MQL again.")
    # Outside the transaction, as in the pipeline: a team with nobody in leaves the lead an unowned
    # MQL, and ``assign_waiting_leads`` tries again.
    assign_lead_step(lead_id=lead_id, now=now)
    return True


def start_of_day(day: date, *, timezone_name: str) -> datetime:
    """The instant ``day`` starts in the named timezone (UTC when the name is unknown)."""
    try:
        zone: tzinfo = ZoneInfo(timezone_name)
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    return datetime.combine(day, time.min, tzinfo=zone)


def end_assignment(assignment: Assignment, *, outcome: str, now: datetime) -> bool:
    """End an open assignment that no rep acted on (its SLA clock stops, the rep loses the lead).

    False when it ended meanwhile (its rep acted, or a manager reassigned it): whoever did so released it.
    """
    try:
        _end(assignment, rep=assignment.rep, outcome=outcome, now=now)
    except HandoffError:
        return False
    _release(assignment, rep=assignment.rep, now=now)
    return True


def _claim(assignment: Assignment, *, rep: User, states: list[str], **changes: object) -> None:
    """Apply ``changes`` if the assignment is still open, the rep's, and in one of ``states``; else explain why not."""
    claimed = Assignment.objects.filter(pk=assignment.pk, rep=rep, ended_at__isnull=True, state__in=states).update(
        **changes
    )
    if claimed != 1:
        raise _refusal(assignment.pk, rep=rep, states=states)


def _end(
    assignment: Assignment,
    *,
    rep: User,
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


def _move_lead(lead: Lead, *, to_stage: str, rep: User, now: datetime, reason: str) -> None:
    try:
        change_stage(lead=lead, to_stage=to_stage, now=now, by=rep, reason=reason)
    except StageConflictError as error:
        raise AssignmentConflictError(f"{lead} was changed by someone else; reload and try again.") from error
    except StageTransitionError as error:
        raise ActionNotAllowedError(f"{lead} is {lead.get_stage_display()} and cannot be moved there.") from error


def _release(assignment: Assignment, *, rep: User, now: datetime) -> None:
    # Back to marketing: unowned, so the pipeline assigns it afresh if it qualifies again.
    release_owner(lead_id=assignment.lead_id, owner=rep, now=now)


_ENDED_AS: dict[str, str] = {
    AssignmentOutcome.QUALIFIED: "qualified as an SQL",
    AssignmentOutcome.REJECTED: "rejected",
    AssignmentOutcome.RECYCLED: "recycled to nurture",
}


def _refusal(assignment_id: int, *, rep: User, states: list[str]) -> Exception:
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
