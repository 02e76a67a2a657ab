"""Pipeline step 4 for a whole batch: the rotation taken in memory, the assignments written set-based.

The same decisions as ``assign_lead_step`` lead by lead, in the batch's order: the rotation's load query runs
once per team (not once per lead), each pick feeds the next with the running loads (a rep who just got a
lead carries it in the next pick, in every team they are in), and the assignments, SLA records,
notifications, the reps' places, the teams' clocks and the owners are written a statement per kind (the
owners one per rep). The teams are locked for the whole batch, as ``assign_lead`` locks one.

Anything unexpected (a lead assigned meanwhile by someone else, which the unique constraints catch) raises:
the pipeline then takes the batch again lead by lead, where every step checks again.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction

from handoff.models import (
    Assignment,
    Membership,
    NotificationKind,
    RepPool,
    RoutingDecision,
    SLARecord,
    Team,
)
from handoff.services.assignment import (
    Chosen,
    destination,
    is_waiting,
    members_with_load,
    pick_member,
    sla_clock,
    still_waiting,
    take_turn,
)
from handoff.services.errors import NoEligibleRepError
from handoff.services.notifications import queue_new_assignment_notifications
from leads import events
from leads.models import Lead
from leads.services import set_nurture_end, set_owners

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

ROTATION_REASON = "Assigned by rotation"


@dataclass(frozen=True)
class _Waiting:
    lead: Lead
    team_id: int
    pool: RepPool | None


@dataclass(frozen=True)
class _Pick:
    lead: Lead
    team: Team
    chosen: Chosen
    turn: int


def assign_batch(*, leads: Sequence[Lead], now: datetime) -> dict[int, str]:
    """Assign each unowned MQL of ``leads`` by rotation; what happened to each, as ``assign_lead_step`` says it.

    ``leads`` carry their consents (prefetched). Sets ``owner`` on the leads it assigned.
    """
    results: dict[int, str] = {}
    waiting = _waiting(leads, now=now, results=results)
    if not waiting:
        return results
    with transaction.atomic():
        locked = Team.objects.select_for_update().filter(pk__in={w.team_id for w in waiting}).order_by("pk")
        teams = {team.pk: team for team in locked}
        already = set(
            Assignment.objects.open().filter(lead__in=[w.lead for w in waiting]).values_list("lead_id", flat=True)
        )
        # Read again inside the transaction: scoring may have moved a lead since the batch read it.
        already |= {w.lead.pk for w in waiting} - still_waiting([w.lead.pk for w in waiting], now=now)
        rotations, picks = _Rotations(now=now), []
        for item in waiting:
            if item.lead.pk in already:
                results[item.lead.pk] = "not waiting"
                continue
            team = teams[item.team_id]
            try:
                chosen = rotations.pick(team, item.pool)
            except NoEligibleRepError:
                logger.warning("Lead %s waits in the managers' queue: its team has nobody available", item.lead.pk)
                results[item.lead.pk] = "nobody available"
                continue
            picks.append(_Pick(item.lead, team, chosen, rotations.take(team, chosen)))
            results[item.lead.pk] = "assigned"
        if picks:
            _write(picks, rotations=rotations, now=now)
    return results


def _waiting(leads: Sequence[Lead], *, now: datetime, results: dict[int, str]) -> list[_Waiting]:
    """The leads the rotation should take, with their team and pool; the others get their outcome in ``results``."""
    for lead in leads:
        results[lead.pk] = "not waiting"
    candidates = [lead for lead in leads if is_waiting(lead, now=now)]
    decisions = {
        decision.lead_id: decision
        for decision in RoutingDecision.objects.filter(lead__in=candidates).select_related("team", "pool")
    }
    waiting = []
    for lead in candidates:
        where = destination(decisions.get(lead.pk))
        if where == "no team":
            logger.warning("Lead %s is an MQL but no team takes it; it waits in the managers' queue", lead.pk)
        if isinstance(where, str):
            results[lead.pk] = where
        elif not lead.has_usable_consent:
            logger.info("Lead %s is not assigned: it has no usable consent", lead.pk)
            results[lead.pk] = "no consent"
        else:
            team, pool = where
            waiting.append(_Waiting(lead, team.pk, pool))
    return waiting


class _Rotations:
    """The members of each team the batch assigns in, read once, their loads and places kept current."""

    def __init__(self, *, now: datetime) -> None:
        self.now = now
        self.members: dict[int, list[Membership]] = {}  # by team
        self.pools: dict[int, set[int]] = {}  # membership ids, by pool
        self.by_user: defaultdict[int, list[Membership]] = defaultdict(list)
        self.added: Counter[int] = Counter()  # leads given in this batch, by user (a rep may be in several teams)
        self.moved: dict[int, Membership] = {}  # memberships whose place moved, by id

    def team_members(self, team: Team) -> list[Membership]:
        if team.pk not in self.members:
            members = members_with_load(team)
            for membership in members:
                membership.open_load += self.added[membership.user_id]  # type: ignore[attr-defined]
                self.by_user[membership.user_id].append(membership)
            self.members[team.pk] = members
        return self.members[team.pk]

    def pick(self, team: Team, pool: RepPool | None) -> Chosen:
        in_pool = None
        if pool is not None:
            if pool.pk not in self.pools:
                self.pools[pool.pk] = set(pool.members.values_list("pk", flat=True))
            in_pool = self.pools[pool.pk]
        return pick_member(team, self.team_members(team), now=self.now, pool=pool, in_pool=in_pool)

    def take(self, team: Team, chosen: Chosen) -> int:
        """The chosen rep takes the team's next turn and carries one more open lead; returns the turn."""
        turn = take_turn(team, chosen.membership, is_rotation_pick=True)
        self.moved[chosen.membership.pk] = chosen.membership
        self.added[chosen.membership.user_id] += 1
        for membership in self.by_user[chosen.membership.user_id]:
            membership.open_load += 1  # type: ignore[attr-defined]
        return turn


def _write(picks: list[_Pick], *, rotations: _Rotations, now: datetime) -> None:
    """Everything the picks decided: a statement per kind of row (owners: one per rep)."""
    clocks = [sla_clock(lead=pick.lead, team=pick.team, now=now) for pick in picks]
    assignments = Assignment.objects.bulk_create(
        Assignment(
            lead=pick.lead, rep=pick.chosen.membership.user, team=pick.team, turn=pick.turn, assigned_at=now,
            reason=ROTATION_REASON, sla_due_at=clock.due_at, reasons=pick.chosen.reasons,
        )
        for pick, clock in zip(picks, clocks, strict=True)
    )  # fmt: skip
    SLARecord.objects.bulk_create(
        SLARecord(
            assignment=assignment, policy=clock.terms.policy, target_duration=clock.terms.target_duration,
            on_breach=clock.terms.on_breach, started_at=now, due_at=clock.due_at, remind_at=clock.remind_at,
        )
        for assignment, clock in zip(assignments, clocks, strict=True)
    )  # fmt: skip
    Membership.objects.bulk_update(list(rotations.moved.values()), ["next_turn_at"])
    for team in {pick.team.pk: pick.team for pick in picks}.values():
        Team.objects.filter(pk=team.pk).update(turns_taken=team.turns_taken, rotation_clock=team.rotation_clock)
    for pick in picks:
        if pick.lead.nurture_ends_at is not None:  # a park that ended: assigning takes the lead out of it
            set_nurture_end(lead_id=pick.lead.pk, ends_at=None, now=now)
            pick.lead.nurture_ends_at = None
    _set_owners(picks, now=now)
    users: list[tuple[Assignment, list[User]]] = [(a, [a.rep]) for a in assignments]
    queue_new_assignment_notifications(kind=NotificationKind.ASSIGNED, assignments=users, now=now)
    for assignment in assignments:
        events.emit(
            events.LEAD_ASSIGNED,
            lead_id=assignment.lead_id,
            event_id=f"{events.LEAD_ASSIGNED}:{assignment.pk}",
            data={"team": assignment.team.slug, "rep": assignment.rep.get_username(),
                  "sla_due_at": assignment.sla_due_at.isoformat()},
            occurred_at=now,
        )  # fmt: skip


def _set_owners(picks: list[_Pick], *, now: datetime) -> None:
    by_rep: dict[int, list[_Pick]] = defaultdict(list)
    for pick in picks:
        by_rep[pick.chosen.membership.user_id].append(pick)
    for rep_picks in by_rep.values():
        owner = rep_picks[0].chosen.membership.user
        set_owners(lead_ids=[pick.lead.pk for pick in rep_picks], owner=owner, now=now)
        for pick in rep_picks:
            pick.lead.owner = owner
