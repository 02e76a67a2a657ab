"""Demo data for the handoff: two teams with their calendars, a rep pool, routing rules, SLA policies, and
assignments for owned demo leads.

Run by ``load_demo`` after the leads' own demo loader (``HandoffConfig.load_demo``). Every demo
lead that already has an owner (its account's rep, ``leads.demo.COMPANIES``) is routed and assigned through
the real services, as the pipeline would have when it became an MQL: routing's decision (the territories
agree with the demo rules, so it names the rep's team), then the manager's assignment to the account's rep
with its SLA clock. Open MQLs spread over fresh, accepted, contacted (SLA met), due soon and breached; SQLs
and rejected leads get their finished history. Idempotent: a lead that has any assignment is left alone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import QuerySet

from handoff import pipeline, services
from handoff.calendar import BusinessCalendar
from handoff.models import (
    Assignment,
    BreachAction,
    ContactKind,
    Membership,
    RepPool,
    RoutingDestination,
    RoutingRule,
    SLAPolicy,
    Team,
    TeamHours,
)
from handoff.selectors import team_calendar
from handoff.services.routing import ROUTED_STAGES, route_lead, route_leads
from leads.enrichment.demo import load_demo_enrichment
from leads.models import EnrichmentStatus, Lead, PipelineStep, Stage, StageChange

if TYPE_CHECKING:
    from django.contrib.auth.models import User

WEEKDAYS = range(5)


@dataclass(frozen=True)
class DemoTeam:
    slug: str
    name: str
    timezone: str
    holiday_country: str
    holiday_subdivision: str
    hours: tuple[tuple[time, time], ...]
    reps: tuple[str, ...]
    is_default: bool = False


TEAMS = (
    # The slugs are the ones the demo routing rules below name.
    DemoTeam(
        "enterprise", "Enterprise — senior account directors", "Europe/London", "GB", "ENG",
        ((time(9), time(12, 30)), (time(13, 30), time(17, 30))), ("rep1", "rep2"),
    ),
    DemoTeam(
        "mid-market", "Mid-market", "America/New_York", "US", "NY",
        ((time(8), time(18)),), ("rep3", "rep4"), is_default=True,
    ),
)  # fmt: skip
# A pool within the enterprise team: (team slug, name, reps).
POOLS = (("enterprise", "Strategic accounts", ("rep1",)),)
# Routing rules: name, order, conditions, then the destination: a team slug, a pool "team/pool", or a
# nurture track key (the nurture app's demo tracks). The seeded default rule, "Everyone else → general
# nurture", catches the rest (track "general-nurture").
ROUTING_RULES = (
    (
        "Strategic accounts (10,000+ employees) → strategic pool",
        5,
        {"employee_min": 10000},
        "enterprise/Strategic accounts",
    ),
    ("Enterprise → senior account directors", 10, {"size_bands": ["Enterprise"]}, "enterprise"),
    ("Mid-market → mid-market team", 20, {"size_bands": ["Mid-market"]}, "mid-market"),
    ("Start-ups and SMB → automated nurture", 30, {"size_bands": ["Start-up", "SMB"]}, "track:start-up-nurture"),
)
POLICIES = (
    # name, priority, min score, target, reminder %, on breach
    ("Hot leads (score 70+): 4 business hours", 10, 70, timedelta(hours=4), 50, BreachAction.NOTIFY_AND_REASSIGN),
    ("Default: 24 business hours", 100, None, timedelta(hours=24), 75, BreachAction.NOTIFY_MANAGER),
)
# How long ago, in business hours, each rep's open demo assignments were made, in turn; with the 24-hour
# default policy they show as breached, due soon (past the 75% reminder), contacted (met), fresh,
# accepted and running, so even a rep with three leads shows the interesting ones.
OPEN_AGES = ((30, "assigned"), (20, "assigned"), (6, "contacted"), (1, "assigned"), (3, "accepted"), (10, "assigned"))
# Why the manager gave each owned demo lead to its rep (leads.demo gave every company one rep).
ACCOUNT_REASON = "Owns the account"
BANT_NOTES = {
    "budget": "Budget approved for this financial year.",
    "authority": "Talking to the budget holder; procurement joins the next call.",
    "need": "Replacing spreadsheets and a legacy CRM for their marketing team.",
    "timing": "Wants to decide within the quarter.",
}


def load_demo_handoff(*, users: dict[str, User], now: datetime) -> str:
    """Create the demo teams and policies, then route and assign every owned demo lead; returns a summary."""
    teams = [_ensure_team(spec, users=users) for spec in TEAMS]
    _ensure_routing(users=users)
    for name, priority, min_score, target, reminder, on_breach in POLICIES:
        SLAPolicy.objects.get_or_create(
            name=name,
            defaults={"priority": priority, "min_score": min_score, "target_duration": target,
                      "reminder_percent": reminder, "on_breach": on_breach},
        )  # fmt: skip
    if _owned_leads_to_assign().filter(enrichment_status=EnrichmentStatus.PENDING).exists():
        # Routing reads the firmographics enrichment finds. ``load_demo`` has enriched the demo leads before
        # this runs; a caller that loaded only the leads has not.
        load_demo_enrichment(users=users, now=now)
    opened, closed = _assign_owned_leads(manager=users["manager"], now=now)
    added = f"{opened} open and {closed} finished assignments added"
    # The demo walked its leads to their stages by hand: record where each stands, as the pipeline would.
    walked = Lead.objects.filter(pipeline_step=PipelineStep.WAITING, pipeline_due_at=None)
    pipeline.record_outcomes(leads=walked, now=now)
    routed = _route_demo_leads(now=now)
    rules = f"{len(ROUTING_RULES)} routing rules"
    return f"{len(teams)} teams, {rules}, {len(POLICIES)} SLA policies, {added}, {routed} leads routed"


def _ensure_routing(*, users: dict[str, User]) -> None:
    for slug, name, reps in POOLS:
        pool, _ = RepPool.objects.get_or_create(team=Team.objects.get(slug=slug), name=name)
        pool.members.add(*Membership.objects.filter(team=pool.team, user__in=[users[rep] for rep in reps]))
    for name, order, conditions, destination in ROUTING_RULES:
        where: dict[str, object]
        if destination.startswith("track:"):
            where = {"destination": RoutingDestination.NURTURE, "nurture_track": destination.removeprefix("track:")}
        elif "/" in destination:
            slug, pool_name = destination.split("/")
            pool = RepPool.objects.get(team__slug=slug, name=pool_name)
            where = {"destination": RoutingDestination.POOL, "team": pool.team, "pool": pool}
        else:
            where = {"destination": RoutingDestination.TEAM, "team": Team.objects.get(slug=destination)}
        RoutingRule.objects.get_or_create(name=name, defaults={"order": order, **conditions, **where})


def _owned_leads_to_assign() -> QuerySet[Lead]:
    """The demo leads ``leads.demo`` walked to sales by hand (owned; MQL, SQL or rejected) and not assigned yet."""
    leads = Lead.objects.filter(owner__isnull=False, stage__in=[Stage.MQL, Stage.SQL, Stage.REJECTED])
    return leads.exclude(email__startswith="bulk").filter(assignments__isnull=True)


def _assign_owned_leads(*, manager: User, now: datetime) -> tuple[int, int]:
    """Route each owned demo lead and have ``manager`` assign it to its owner; returns how many open and finished."""
    team_of_rep = {membership.user_id: membership.team for membership in Membership.objects.select_related("team")}
    opened: Counter[int] = Counter()  # per rep, so every rep's inbox shows the whole spread of clocks
    closed = 0
    for lead in _owned_leads_to_assign().select_related("owner").order_by("pk"):
        owner_id = lead.owner_id
        assert owner_id is not None  # owned leads only, filtered above
        team = team_of_rep.get(owner_id)
        if team is None:
            continue
        with transaction.atomic():
            if lead.stage == Stage.MQL:
                _open_assignment(lead, team=team, by=manager, age_index=opened[owner_id], now=now)
                opened[owner_id] += 1
            else:
                _finished_assignment(lead, team=team, by=manager)
                closed += 1
    return opened.total(), closed


def _route_as_new_mql(lead: Lead, *, now: datetime) -> None:
    """Route ``lead`` with the routing service as the pipeline did when it became an MQL, before a rep had it.

    ``leads.demo`` walked the lead to its stage and gave it to its rep by hand, so routing never saw it, and
    routing decides only for leads sales do not have yet. ``route_leads`` decides for leads as it is given
    them, so it is given a copy read afresh and set as the lead stood then: an MQL nobody owned. The stored
    lead keeps its stage and owner; routing stores its decision and marks the lead routed at ``now``.
    """
    then = Lead.objects.get(pk=lead.pk)
    then.owner, then.stage = None, Stage.MQL
    route_leads(leads=[then], now=now)


def _route_demo_leads(*, now: datetime) -> int:
    """Route the demo leads nobody owns that routing has not decided for yet (as the pipeline would)."""
    leads = Lead.objects.filter(owner__isnull=True, stage__in=ROUTED_STAGES, routing_decision__isnull=True)
    lead_ids = list(leads.exclude(email__startswith="bulk").values_list("pk", flat=True))
    for lead_id in lead_ids:
        route_lead(lead_id=lead_id, now=now)
    return len(lead_ids)


def _ensure_team(spec: DemoTeam, *, users: dict[str, User]) -> Team:
    team, created = Team.objects.get_or_create(
        slug=spec.slug,
        defaults={"name": spec.name, "timezone": spec.timezone, "holiday_country": spec.holiday_country,
                  "holiday_subdivision": spec.holiday_subdivision, "is_default": spec.is_default},
    )  # fmt: skip
    if created:
        TeamHours.objects.bulk_create(
            TeamHours(team=team, weekday=day, opens_at=opens, closes_at=closes)
            for day in WEEKDAYS
            for opens, closes in spec.hours
        )
    for username in spec.reps:
        Membership.objects.get_or_create(team=team, user=users[username])
    team.managers.add(users["manager"])
    return team


def _open_assignment(lead: Lead, *, team: Team, by: User, age_index: int, now: datetime) -> Assignment:
    age_hours, state = OPEN_AGES[age_index % len(OPEN_AGES)]
    assigned_at = business_hours_before(team_calendar(team), now, timedelta(hours=age_hours))
    rep = lead.owner
    assert rep is not None  # only owned leads get a demo assignment
    _route_as_new_mql(lead, now=assigned_at)
    assignment = services.assign_lead(
        lead=lead, team=team, now=assigned_at, by=by, rep=rep, reason=ACCOUNT_REASON, notify=False
    )
    if state == "accepted":
        services.accept_assignment(assignment=assignment, rep=rep, now=assigned_at + timedelta(minutes=20))
    elif state == "contacted":
        services.log_contact(
            assignment=assignment,
            rep=rep,
            kind=ContactKind.CALL,
            note="Intro call: interested, asked for a demo next week.",
            now=assigned_at + timedelta(hours=2),
        )
    return assignment


def _finished_assignment(lead: Lead, *, team: Team, by: User) -> Assignment:
    """An SQL or rejected demo lead: routed and assigned as it became an MQL, contacted, then qualified or rejected."""
    changes = {change.to_stage: change for change in StageChange.objects.filter(lead=lead)}
    became_mql = changes[Stage.MQL].changed_at
    decided = changes[lead.stage]
    rep = lead.owner
    assert rep is not None  # only owned leads get a demo assignment
    _route_as_new_mql(lead, now=became_mql + timedelta(minutes=5))
    assignment = services.assign_lead(
        lead=lead, team=team, now=became_mql + timedelta(minutes=5), by=by, rep=rep, reason=ACCOUNT_REASON,
        notify=False,
    )  # fmt: skip
    services.log_contact(
        assignment=assignment,
        rep=rep,
        kind=ContactKind.CALL,
        note="Discovery call.",
        now=became_mql + timedelta(hours=1),
    )
    if lead.stage == Stage.SQL:
        return services.qualify_lead(
            assignment=assignment, rep=rep, bant=services.BANT(**BANT_NOTES), now=decided.changed_at
        )
    return services.reject_lead(assignment=assignment, rep=rep, reason=decided.reason, now=decided.changed_at)


def business_hours_before(calendar: BusinessCalendar, end: datetime, duration: timedelta) -> datetime:
    """The latest instant from which ``duration`` of business time has passed by ``end`` (to the minute)."""
    low, high = timedelta(0), timedelta(days=60)  # wall-clock distance back from `end`
    while high - low > timedelta(minutes=1):
        middle = (low + high) / 2
        if calendar.business_time_between(end - middle, end) >= duration:
            high = middle
        else:
            low = middle
    return end - high
