"""Handing leads to reps: weighted round-robin within a team, manual (re)assignment, and the pipeline step.

The rotation is stride scheduling weighed by current load, pure in ``handoff.rotation``: each rep's place
on the team's clock is ``Membership.next_turn_at``, the clock is ``Team.rotation_clock``, and each rep's
open and breached assignments are counted in the same query that reads the team's members. Every
assignment keeps its reasons (``Assignment.reasons``): who picked, each candidate with their capacity
weight, open and breached load and time off, and why the winner won.

Concurrency: the team row is the cursor. Its update and the new assignment happen in one transaction
that first locks the team row (``select_for_update`` on PostgreSQL; SQLite's ``IMMEDIATE`` transactions
serialise writers), and ``(team, turn)`` is unique, so two simultaneous assignments never get the same turn.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q

from core.batch import once_per_batch
from handoff import rotation
from handoff.models import (
    Assignment,
    AssignmentOutcome,
    BreachAction,
    Membership,
    NotificationKind,
    RepPool,
    RoutingDecision,
    RoutingDestination,
    SLAPolicy,
    SLARecord,
    Team,
)
from handoff.selectors import team_calendar
from handoff.services.errors import (
    AlreadyAssignedError,
    AssignmentConflictError,
    HandoffError,
    LeadNotWaitingError,
    NoEligibleRepError,
    NoUsableConsentError,
)
from handoff.services.notifications import queue_notification
from handoff.services.routing import route_lead
from leads import events
from leads.models import Lead, Stage, usable_consent_q
from leads.services import set_nurture_end, set_owner

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SLATerms:
    """The first-contact terms an assignment gets, from the matching policy or the default."""

    target_duration: timedelta
    reminder_percent: int
    on_breach: str
    policy: SLAPolicy | None = None


DEFAULT_TERMS = SLATerms(timedelta(hours=settings.DEFAULT_SLA_HOURS), 75, BreachAction.NOTIFY_MANAGER)


def assign_lead(
    *,
    lead: Lead,
    team: Team,
    now: datetime,
    by: User | None = None,
    reason: str = "",
    rep: User | None = None,
    notify: bool = True,
    pool: RepPool | None = None,
    only_if_waiting: bool = False,
) -> Assignment:
    """Hand ``lead`` to the next rep of ``team`` (of its ``pool``) by rotation, or to ``rep``; start its SLA clock.

    Sets the lead's owner and emails the rep. A lead recycled to nurture until a date is taken out of
    its park: whoever assigns it now (a manager from the team queue) has decided it is time. Raises
    ``AlreadyAssignedError`` when the lead already has an open assignment, ``NoEligibleRepError``
    when nobody in the team can take it, and ``NoUsableConsentError`` when the person withdrew consent
    (or never confirmed a double opt-in) after the lead became an MQL. With ``only_if_waiting`` (the rotation, the
    manager's queue) it raises ``LeadNotWaitingError`` when the lead, read again under the team's lock, is no longer
    an unowned MQL: scoring may have moved it to nurture since ``lead`` was read, and a rep could then neither
    qualify nor reject it.
    """
    if not lead.has_usable_consent:
        raise NoUsableConsentError(
            f"{lead} has no usable consent (withdrawn, or double opt-in not confirmed): sales may not contact them."
        )
    with transaction.atomic():
        team = _lock_team(team)
        if Assignment.objects.open().filter(lead=lead).exists():
            raise AlreadyAssignedError(f"{lead} is already assigned.")
        if only_if_waiting and not still_waiting([lead.pk], now=now):
            raise LeadNotWaitingError(f"{lead} is no longer an unassigned MQL; reload and try again.")
        chosen = _chosen(team, rep, by=by, reason=reason) if rep is not None else _next_member(team, now=now, pool=pool)
        if lead.nurture_ends_at is not None:
            set_nurture_end(lead_id=lead.pk, ends_at=None, now=now)
            lead.nurture_ends_at = None
        return _create_assignment(
            lead=lead,
            team=team,
            membership=chosen.membership,
            now=now,
            by=by,
            reason=reason,
            is_rotation_pick=rep is None,
            notify=notify,
            reasons=chosen.reasons,
        )


def reassign_lead(
    *,
    assignment: Assignment,
    now: datetime,
    by: User | None,
    reason: str,
    team: Team | None = None,
    rep: User | None = None,
) -> Assignment:
    """End ``assignment`` and hand its lead to ``rep``, or to the next rep but the current one in ``team``'s rotation
    (within the pool routing chose for the lead, if it chose one of this team's).

    The SLA clock starts again for the new rep. Raises ``AssignmentConflictError`` when the assignment
    was ended or reassigned by someone else first, and ``NoUsableConsentError`` (as ``assign_lead``) when the
    person withdrew consent since: no new rep is asked to contact them.
    """
    if not assignment.lead.has_usable_consent:
        raise NoUsableConsentError(
            f"{assignment.lead} has no usable consent (withdrawn, or double opt-in not confirmed): "
            "sales may not contact them, so no other rep takes it over."
        )
    with transaction.atomic():
        team = _lock_team(team or assignment.team)
        if rep is not None:
            chosen = _chosen(team, rep, by=by, reason=reason)
        else:
            pool = _routed_pool(lead_id=assignment.lead_id, team=team)
            chosen = _next_member(team, now=now, exclude_user_id=assignment.rep_id, pool=pool)
        ended = Assignment.objects.filter(pk=assignment.pk, ended_at__isnull=True).update(
            ended_at=now, outcome=AssignmentOutcome.REASSIGNED
        )
        if ended != 1:
            raise AssignmentConflictError(f"{assignment.lead} was already reassigned or closed; reload and try again.")
        SLARecord.objects.filter(assignment=assignment, met_at__isnull=True, stopped_at__isnull=True).update(
            stopped_at=now
        )
        return _create_assignment(
            lead=assignment.lead,
            team=team,
            membership=chosen.membership,
            now=now,
            by=by,
            reason=reason,
            is_rotation_pick=rep is None,
            notify=True,
            reasons=chosen.reasons,
        )


@dataclass(frozen=True)
class BulkResult:
    done: int
    refused: list[str]  # why each refused lead was refused, in words for the manager


def assign_leads(
    *,
    leads: Iterable[Lead],
    team: Team,
    now: datetime,
    by: User,
    reason: str,
    rep: User | None = None,
) -> BulkResult:
    """Assign each lead (the manager's queue); one refused lead does not stop the others."""
    done, refused = 0, []
    for lead in leads:
        try:
            assign_lead(lead=lead, team=team, now=now, by=by, reason=reason, rep=rep, only_if_waiting=True)
            done += 1
        except HandoffError as error:
            refused.append(str(error))
    return BulkResult(done, refused)


def reassign_leads(
    *,
    assignments: Iterable[Assignment],
    team: Team,
    now: datetime,
    by: User,
    reason: str,
    rep: User | None = None,
) -> BulkResult:
    """Reassign each assignment (the manager's queue); one refused lead does not stop the others."""
    done, refused = 0, []
    for assignment in assignments:
        try:
            reassign_lead(assignment=assignment, now=now, by=by, reason=reason, team=team, rep=rep)
            done += 1
        except HandoffError as error:
            refused.append(str(error))
    return BulkResult(done, refused)


def assign_lead_step(*, lead_id: int, now: datetime) -> str:
    """Pipeline step 4: assign an unowned MQL to its routed team. Safe to run again: it only acts once.

    Leaves the lead unassigned (it shows in the managers' queue) when routing names no team or the
    team has nobody available; ``assign_waiting_leads`` tries again later. A lead routing sent to a
    nurture track is not sales' until a rule or a person sends it there. Returns what happened:
    "assigned", "not waiting", "in nurture", "no team", "nobody available" or "no consent".
    """
    lead = Lead.objects.filter(pk=lead_id).first()
    if lead is None:
        return "not waiting"
    outcome = _assign_if_waiting(lead, now=now)
    if outcome == "no team":
        logger.warning("Lead %s is an MQL but no team takes it; it waits in the managers' queue", lead_id)
    elif outcome == "nobody available":
        logger.warning("Lead %s waits in the managers' queue: its team has nobody available", lead_id)
    elif outcome == "no consent":
        logger.info("Lead %s is not assigned: it has no usable consent", lead_id)
    return outcome


# Leads that became MQLs this recently are the pipeline's to assign; the sweep leaves them alone.
WAITING_AFTER = timedelta(minutes=2)


def assign_waiting_leads(*, now: datetime, limit: int = 100) -> int:
    """Assign routed MQLs still unowned (the pipeline task was lost, or the team had nobody in); returns how many.

    The safety net behind the pipeline step, run every minute. Leads no team can take stay in the
    managers' queue. A lead routed to nurture is left there unless its score changed since routing
    decided (bulk rescoring runs no pipeline): it is routed again first, and assigned if a rule now
    sends it to sales.
    """
    decided_before_score = Q(routing_decision__decided_at__lt=F("scored_at"))
    waiting = (
        Lead.objects.filter(
            stage=Stage.MQL, owner__isnull=True, routed_at__isnull=False, stage_changed_at__lte=now - WAITING_AFTER
        )
        .exclude(nurture_ends_at__gt=now)
        .exclude(Q(routing_decision__destination=RoutingDestination.NURTURE) & ~decided_before_score)
        .filter(usable_consent_q())  # withdrawn since it became an MQL: waits for marketing, not for a rep
        .select_related("routing_decision")
        .order_by("stage_changed_at", "pk")[:limit]
    )
    assigned = 0
    for lead in waiting:
        decision = getattr(lead, "routing_decision", None)
        if decision is not None and decision.destination == RoutingDestination.NURTURE:
            route_lead(lead_id=lead.pk, now=now)  # scored since routing sent it to nurture: decide again
        assigned += _assign_if_waiting(lead, now=now) == "assigned"
    return assigned


def still_waiting(lead_ids: Iterable[int], *, now: datetime) -> set[int]:
    """Which of ``lead_ids`` wait for a rep as the database has them now (``is_waiting``, read again in the
    assigning transaction: the leads the caller holds may have been read before scoring moved them)."""
    waiting = Lead.objects.filter(pk__in=list(lead_ids), stage=Stage.MQL, owner__isnull=True).exclude(
        nurture_ends_at__gt=now
    )
    return set(waiting.values_list("pk", flat=True))


def is_waiting(lead: Lead, *, now: datetime) -> bool:
    """Whether ``lead`` waits for a rep: an unowned MQL not parked in nurture (the open assignment aside)."""
    if lead.stage != Stage.MQL or lead.owner_id is not None:
        return False
    # recycled until a later date: not waiting (scoring keeps such leads out of MQL anyway)
    return lead.nurture_ends_at is None or lead.nurture_ends_at <= now


def destination(decision: RoutingDecision | None) -> tuple[Team, RepPool | None] | str:
    """Where a waiting lead goes by its routing ``decision``: its team and pool, or why it is not assigned
    ("in nurture": routing sent it to a track; "no team": none chosen and no default team)."""
    if decision is not None and decision.destination == RoutingDestination.NURTURE:
        return "in nurture"
    team = team_for_lead(decision=decision)
    if team is None:
        return "no team"
    pool = decision.pool if decision is not None and decision.destination == RoutingDestination.POOL else None
    return team, pool


def _assign_if_waiting(lead: Lead, *, now: datetime) -> str:
    """Assign ``lead`` by rotation if it is an unowned MQL not parked in nurture; says what happened."""
    if not is_waiting(lead, now=now) or Assignment.objects.open().filter(lead=lead).exists():
        return "not waiting"
    where = destination(RoutingDecision.objects.filter(lead=lead).select_related("team", "pool").first())
    if isinstance(where, str):
        return where
    team, pool = where
    try:
        assign_lead(lead=lead, team=team, now=now, reason="Assigned by rotation", pool=pool, only_if_waiting=True)
    except (AlreadyAssignedError, LeadNotWaitingError):
        return "not waiting"  # a retry of the pipeline task got there first, or scoring moved the lead since
    except NoEligibleRepError:
        return "nobody available"
    except NoUsableConsentError:
        return "no consent"
    return "assigned"


def team_for_lead(*, decision: RoutingDecision | None) -> Team | None:
    """The team routing chose (the lead's ``RoutingDecision``), else the default team.

    An MQL that routing sent to no team (it was never routed, or no rule matched and there is no default
    rule) goes to the team flagged ``is_default``. The caller has read the decision and turned away a lead
    routed to a nurture track: it is not sales'.
    """
    if decision is not None and decision.team is not None:
        return decision.team
    return once_per_batch(default_team)


def default_team() -> Team | None:
    return Team.objects.filter(is_default=True).first()


def sla_terms_for(*, lead: Lead, team: Team) -> SLATerms:
    """The terms of the first active SLA policy (by priority) that matches ``lead`` in ``team``."""
    for policy in once_per_batch(_active_policies, team.pk):  # read once per pipeline batch and team
        if _policy_matches(policy, lead=lead):
            return SLATerms(policy.target_duration, policy.reminder_percent, policy.on_breach, policy)
    return DEFAULT_TERMS


def _active_policies(team_id: int) -> list[SLAPolicy]:
    policies = SLAPolicy.objects.filter(Q(team_id=team_id) | Q(team__isnull=True), is_active=True)
    return list(policies.order_by("priority", "id"))


def _policy_matches(policy: SLAPolicy, *, lead: Lead) -> bool:
    return (
        (not policy.stage or policy.stage == lead.stage)
        and (not policy.size_band or policy.size_band.casefold() == lead.size_band.casefold())
        and (policy.min_score is None or lead.score >= policy.min_score)
        and (policy.max_score is None or lead.score <= policy.max_score)
        and (not policy.source or policy.source.casefold() == lead.first_touch_source.casefold())
    )


def _lock_team(team: Team) -> Team:
    # Re-read under the lock: the cursor fields of the instance we were given may be stale.
    return Team.objects.select_for_update().get(pk=team.pk)


def _membership_of(team: Team, rep: User) -> Membership:
    membership = team.memberships.select_related("user").filter(user=rep, is_active=True).first()
    if membership is None:
        raise NoEligibleRepError(f"{rep} is not an active member of {team}.")
    return membership


@dataclass(frozen=True)
class Chosen:
    """The member who gets the lead, and the reasons stored with the assignment."""

    membership: Membership
    reasons: dict[str, object]


def _chosen(team: Team, rep: User, *, by: User | None, reason: str) -> Chosen:
    membership = _membership_of(team, rep)
    who = by.get_username() if by is not None else "Someone"
    summary = f"{who} chose {rep.get_username()} in {team}" + (f": {reason}" if reason else ".")
    return Chosen(membership, {"how": "chosen", "team": str(team), "rep": rep.get_username(), "summary": summary})


def members_with_load(team: Team) -> list[Membership]:
    """Every member of ``team`` with ``open_load`` and ``breached_load`` (open assignments, in any team): one query."""
    open_here = Q(user__assignments__ended_at__isnull=True)
    return list(
        team.memberships.select_related("user")
        .annotate(
            open_load=Count("user__assignments", filter=open_here),
            breached_load=Count(
                "user__assignments", filter=open_here & Q(user__assignments__sla__breached_at__isnull=False)
            ),
        )
        .order_by("pk")
    )


def _routed_pool(*, lead_id: int, team: Team) -> RepPool | None:
    """The pool of ``team`` that routing chose for the lead, if it chose one: a rotation passing the lead on stays
    within it (senior account directors for the enterprise deals, say), as the first assignment did."""
    decision = RoutingDecision.objects.filter(lead_id=lead_id).select_related("pool").first()
    if decision is None or decision.destination != RoutingDestination.POOL or decision.team_id != team.pk:
        return None
    return decision.pool


def _next_member(
    team: Team, *, now: datetime, exclude_user_id: int | None = None, pool: RepPool | None = None
) -> Chosen:
    """The available member (of ``pool``, if given) whose load-weighted turn starts first, with the reasons."""
    in_pool = set(pool.members.values_list("pk", flat=True)) if pool is not None else None
    return pick_member(
        team, members_with_load(team), now=now, pool=pool, in_pool=in_pool, exclude_user_id=exclude_user_id
    )


def pick_member(
    team: Team,
    memberships: Iterable[Membership],
    *,
    now: datetime,
    pool: RepPool | None = None,
    in_pool: set[int] | None = None,
    exclude_user_id: int | None = None,
) -> Chosen:
    """Of ``memberships`` (read by ``members_with_load``, their loads kept current by the caller), the one whose
    load-weighted turn starts first, with the reasons. Pure: reads nothing, writes nothing.

    Inactive reps, reps out of office today (team time), reps outside the pool (``in_pool``: its membership
    ids) and the rep being reassigned away from are listed in the reasons as not considered, with why.
    Raises ``NoEligibleRepError`` when nobody is left.
    """
    today = now.astimezone(ZoneInfo(team.timezone)).date()
    rows: dict[int, dict[str, object]] = {}  # by membership, in the team's order
    seats: dict[rotation.Seat, Membership] = {}
    for membership in memberships:
        why_not = _why_not_considered(membership, today=today, exclude_user_id=exclude_user_id, in_pool=in_pool)
        rows[membership.pk] = _candidate_row(membership, today=today, why_not=why_not)
        if not why_not:
            seats[_seat(membership)] = membership
    where = f"pool “{pool.name}” of {team}" if pool is not None else str(team)
    if not seats:
        raise NoEligibleRepError(f"{where} has no rep available today.")
    winner = rotation.pick(seats, clock=team.rotation_clock)
    for standing in rotation.standings(seats, clock=team.rotation_clock):
        rows[standing.key].update(rank=standing.rank, turns_behind=standing.turns_behind, chosen=standing.rank == 1)
    chosen = seats[winner]
    runner_up = next((row for row in rows.values() if row.get("rank") == 2), None)
    reasons: dict[str, object] = {
        "how": "rotation", "team": str(team), "pool": pool.name if pool is not None else "",
        "candidates": list(rows.values()), "summary": _why_won(chosen, runner_up, where=where),
    }  # fmt: skip
    return Chosen(chosen, reasons)


def take_turn(team: Team, membership: Membership, *, is_rotation_pick: bool) -> int:
    """Move ``membership`` and ``team``'s clock on by one turn, in memory (the caller writes them); returns the turn."""
    taken = rotation.take_turn(_seat(membership), clock=team.rotation_clock, is_rotation_pick=is_rotation_pick)
    membership.next_turn_at = taken.next_turn_at
    team.rotation_clock = taken.clock
    team.turns_taken += 1
    return team.turns_taken


@dataclass(frozen=True)
class SLAClock:
    """An assignment's first-contact terms and the instants they give, from the team's calendar."""

    terms: SLATerms
    due_at: datetime
    remind_at: datetime


def sla_clock(*, lead: Lead, team: Team, now: datetime) -> SLAClock:
    """The terms ``lead`` gets in ``team`` and when contact is due and the reminder goes (business time)."""
    terms = sla_terms_for(lead=lead, team=team)
    calendar = once_per_batch(team_calendar, team)  # hours and closed dates: once per pipeline batch and team
    due_at = calendar.add_business_time(now, terms.target_duration)
    remind_at = calendar.add_business_time(now, terms.target_duration * terms.reminder_percent / 100)
    return SLAClock(terms, due_at, remind_at)


def _why_not_considered(
    membership: Membership, *, today: date, exclude_user_id: int | None, in_pool: set[int] | None
) -> str:
    if not membership.is_active or not membership.user.is_active:
        return "inactive"
    if membership.is_out_of_office(today):
        return "out of office"
    if in_pool is not None and membership.pk not in in_pool:
        return "not in the pool"
    if membership.user_id == exclude_user_id:
        return "the rep it is taken from"
    return ""


def _candidate_row(membership: Membership, *, today: date, why_not: str) -> dict[str, object]:
    return {
        "membership": membership.pk,
        "rep": membership.user.get_username(),
        "weight": membership.capacity_weight,
        "open": getattr(membership, "open_load", 0),
        "breached": getattr(membership, "breached_load", 0),
        "out_of_office": membership.is_out_of_office(today),
        "considered": not why_not,
        "not_considered_because": why_not,
        "chosen": False,
    }


def _why_won(chosen: Membership, runner_up: dict[str, object] | None, *, where: str) -> str:
    name = chosen.user.get_username()
    if runner_up is None:
        return f"{name} was the only rep of {where} available."
    open_load, breached_load = getattr(chosen, "open_load", 0), getattr(chosen, "breached_load", 0)
    load = f"weight {chosen.capacity_weight}, {open_load} open, {breached_load} breached"
    other = f"weight {runner_up['weight']}, {runner_up['open']} open, {runner_up['breached']} breached"
    behind = runner_up["turns_behind"]
    after = f"was {behind} turns behind" if behind else "was level (a tie goes to the member who joined first)"
    return (
        f"{name} ({load}) was next in {where}'s rotation, which weighs capacity and current load; "
        f"the next, {runner_up['rep']} ({other}), {after}."
    )


def _seat(membership: Membership) -> rotation.Seat:
    return rotation.Seat(
        key=membership.pk,
        next_turn_at=membership.next_turn_at,
        weight=membership.capacity_weight,
        open_load=getattr(membership, "open_load", 0),
        breached_load=getattr(membership, "breached_load", 0),
    )


def _create_assignment(
    *,
    lead: Lead,
    team: Team,
    membership: Membership,
    now: datetime,
    by: User | None,
    reason: str,
    is_rotation_pick: bool,
    notify: bool,
    reasons: dict[str, object] | None = None,
) -> Assignment:
    """Take the team's next turn for ``membership``, record the assignment (with why this rep) and its SLA clock,
    and set the owner."""
    clock = sla_clock(lead=lead, team=team, now=now)
    terms, due_at, remind_at = clock.terms, clock.due_at, clock.remind_at
    turn = take_turn(team, membership, is_rotation_pick=is_rotation_pick)
    Membership.objects.filter(pk=membership.pk).update(next_turn_at=membership.next_turn_at)
    Team.objects.filter(pk=team.pk).update(turns_taken=turn, rotation_clock=team.rotation_clock)
    try:
        with transaction.atomic():
            assignment = Assignment.objects.create(
                lead=lead,
                rep=membership.user,
                team=team,
                turn=turn,
                assigned_at=now,
                assigned_by=by,
                reason=reason,
                sla_due_at=due_at,
                reasons=reasons or {},
            )
    except IntegrityError as error:
        # Another transaction assigned this lead between our check and insert (two teams at once).
        if Assignment.objects.open().filter(lead=lead).exists():
            raise AlreadyAssignedError(f"{lead} is already assigned.") from error
        raise
    assignment.sla = SLARecord.objects.create(
        assignment=assignment,
        policy=terms.policy,
        target_duration=terms.target_duration,
        on_breach=terms.on_breach,
        started_at=now,
        due_at=due_at,
        remind_at=remind_at,
    )
    set_owner(lead=lead, owner=membership.user, now=now)
    if notify:
        queue_notification(kind=NotificationKind.ASSIGNED, assignment=assignment, recipients=[membership.user], now=now)
    events.emit(
        events.LEAD_ASSIGNED,
        lead_id=lead.pk,
        event_id=f"{events.LEAD_ASSIGNED}:{assignment.pk}",
        data={"team": team.slug, "rep": membership.user.get_username(), "sla_due_at": due_at.isoformat()},
        occurred_at=now,
    )
    return assignment
