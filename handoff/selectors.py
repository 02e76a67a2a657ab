"""Reads for the inbox, the lead page and the manager queue. Every list is scoped by the user asking."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.urls import reverse

from handoff.calendar import BusinessCalendar
from handoff.countdown import ClockInput, SLAClock, opening_windows, sla_clocks
from handoff.models import Assignment, AssignmentState, ClosedDate, ContactLog, Membership, Team, TeamHours
from leads.models import (
    Activity,
    Lead,
    LeadQuerySet,
    ProposedChange,
    ProposedChangeStatus,
    Stage,
    StageChange,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# --- Calendars -----------------------------------------------------------------------------------


def team_calendar(team: Team) -> BusinessCalendar:
    """The business calendar of ``team``, from its opening hours, closed dates and holiday region."""
    return team_calendars([team])[team.pk]


def team_calendars(teams: Iterable[Team]) -> dict[int, BusinessCalendar]:
    """The business calendars of ``teams`` by team id, in two queries however many teams there are."""
    teams_by_id = {team.pk: team for team in teams}
    hours: dict[int, dict[int, list[tuple[time, time]]]] = {pk: {} for pk in teams_by_id}
    for team_id, weekday, opens_at, closes_at in TeamHours.objects.filter(team__in=teams_by_id).values_list(
        "team_id", "weekday", "opens_at", "closes_at"
    ):
        hours[team_id].setdefault(weekday, []).append((opens_at, closes_at))
    closed: dict[int, set[date]] = {pk: set() for pk in teams_by_id}
    for team_id, day in ClosedDate.objects.filter(team__in=teams_by_id).values_list("team_id", "date"):
        closed[team_id].add(day)
    return {
        pk: _cached_calendar(
            team.timezone,
            tuple((weekday, tuple(sorted(intervals))) for weekday, intervals in sorted(hours[pk].items())),
            frozenset(closed[pk]),
            team.holiday_country,
            team.holiday_subdivision,
        )
        for pk, team in teams_by_id.items()
    }


@functools.lru_cache(maxsize=128)
def _cached_calendar(
    timezone: str,
    hours: tuple[tuple[int, tuple[tuple[time, time], ...]], ...],
    closed_dates: frozenset[date],
    holiday_country: str,
    holiday_subdivision: str,
) -> BusinessCalendar:
    # Building a calendar validates its holiday region, which costs more than a page of countdowns.
    return BusinessCalendar(
        timezone=timezone,
        hours=dict(hours),
        closed_dates=closed_dates,
        holiday_country=holiday_country,
        holiday_subdivision=holiday_subdivision,
    )


# --- Who sees what -------------------------------------------------------------------------------


def managed_teams(*, user: User) -> QuerySet[Team]:
    """The teams whose queue ``user`` runs (every team for a superuser)."""
    if not user.has_perm("leads.manage_team"):
        return Team.objects.none()
    if user.is_superuser:
        return Team.objects.all()
    return Team.objects.filter(managers=user)


def in_teams(teams: QuerySet[Team]) -> Q:
    """A filter on Lead: the leads of ``teams``, the one definition admin, pages and API share.

    A lead is a team's while its open assignment is there. With no open assignment it stays with the teams
    that worked it before (its history, a recycled or rejected lead) and goes to the team routing sent it
    to (``Lead.routing_team``), where it waits to be assigned.
    """
    assigned = Assignment.objects.filter(lead=OuterRef("pk"))
    held_here = Exists(assigned.filter(ended_at__isnull=True, team__in=teams))
    held_anywhere = Exists(assigned.filter(ended_at__isnull=True))
    worked_here = Exists(assigned.filter(team__in=teams))
    return Q(held_here) | (~Q(held_anywhere) & (Q(worked_here) | Q(routing_team__in=teams.values("slug"))))


def unrouted_mqls_filter() -> Q:
    """A filter on Lead: MQLs nobody owns that routing sent to no existing team (none, or a misspelt slug).

    They belong to no team yet, so every manager's queue shows them and any manager may take one into a
    team of their own.
    """
    return Q(stage=Stage.MQL, owner__isnull=True) & ~Q(routing_team__in=Team.objects.values("slug"))


def lead_scope(user: User) -> Q:
    """A filter on Lead: what ``user`` may see as an inbox worker; their own leads, and a manager's teams'."""
    if not user.has_perm("leads.manage_team"):
        return Q(owner=user)
    return Q(owner=user) | _teams_scope(user)


def leads_of_teams(*, user: User) -> LeadQuerySet:
    """The leads of the teams ``user`` manages, and the unrouted MQLs every manager shares; none for others."""
    if not user.has_perm("leads.manage_team"):
        return Lead.objects.none()
    return Lead.objects.filter(_teams_scope(user))


def _teams_scope(user: User) -> Q:
    return in_teams(managed_teams(user=user)) | unrouted_mqls_filter()


def visible_leads(*, user: User) -> LeadQuerySet:
    """The leads whose page ``user`` may open: their own, and for managers their teams' (``lead_scope``)."""
    return Lead.objects.filter(lead_scope(user))


def latest_assignment(*, user: User, lead_id: int) -> Assignment | None:
    """The rep's most recent assignment of this lead, open or not; None when it was never theirs.

    Actions look it up this way so a rep who lost the lead a moment ago (reassigned, or handled in
    another tab) is told what happened instead of getting a 404.
    """
    return (
        Assignment.objects.select_related("lead", "team", "sla")
        .filter(lead_id=lead_id, rep=user)
        .order_by("-assigned_at", "-id")
        .first()
    )


def managed_assignment(*, user: User, lead_id: int) -> Assignment | None:
    """The open assignment of this lead in one of the manager's teams."""
    return (
        Assignment.objects.open()
        .select_related("lead", "team", "rep")
        .filter(lead_id=lead_id, team__in=managed_teams(user=user))
        .first()
    )


def assignable_members(*, user: User) -> list[Membership]:
    """Active reps in the manager's teams, for the assign and reassign forms."""
    return list(
        Membership.objects.select_related("team", "user")
        .filter(team__in=managed_teams(user=user), is_active=True, user__is_active=True)
        .order_by("team__name", "user__first_name", "user__username")
    )


# --- The rep's inbox -----------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxFilters:
    show: str = "todo"  # "todo": awaiting first contact; "contacted": contacted, not yet qualified
    stage: str = ""
    source: str = ""
    min_score: int | None = None
    max_score: int | None = None
    search: str = ""


# What an inbox row shows, and no more: a lead has many more columns (JSON among them), and on SQLite
# every datetime read is parsed in Python, which costs more than the query itself. The rows come back as
# named tuples, not model instances: building three models per row cost more than the query and the
# whole rest of the page's data together.
INBOX_COLUMNS = (
    *("pk", "team_id", "lead_id", "state", "assigned_at", "sla_due_at"),
    *(f"lead__{name}" for name in ("first_name", "last_name", "email", "phone", "job_title", "company_name",
                                    "size_band", "country", "first_touch_source", "first_touch_medium", "score",
                                    "stage")),
    *("sla__target_duration", "sla__met_at"),
)  # fmt: skip


def inbox_assignments(*, user: User, filters: InboxFilters) -> QuerySet[Assignment]:
    """The rep's open assignments as named rows of ``INBOX_COLUMNS``: everything a row shows, in one query."""
    assignments = Assignment.objects.open().filter(rep=user, contacted_at__isnull=filters.show != "contacted")
    if filters.stage:
        assignments = assignments.filter(lead__stage=filters.stage)
    if filters.source:
        assignments = assignments.filter(lead__first_touch_source__iexact=filters.source)
    if filters.min_score is not None:
        assignments = assignments.filter(lead__score__gte=filters.min_score)
    if filters.max_score is not None:
        assignments = assignments.filter(lead__score__lte=filters.max_score)
    if filters.search:
        term = filters.search
        assignments = assignments.filter(
            Q(lead__first_name__icontains=term)
            | Q(lead__last_name__icontains=term)
            | Q(lead__email__icontains=term)
            | Q(lead__company_name__icontains=term)
        )
    return assignments.values_list(*INBOX_COLUMNS, named=True)


@dataclass(frozen=True)
class InboxRow:
    """One inbox row, ready to print: the list renders 50 of these, so the template only prints fields."""

    lead_id: int
    url: str
    name: str
    detail: str
    company: str
    company_detail: str
    source: str
    medium: str
    score: int
    state: str
    state_label: str
    stage: str
    assigned_ago: str
    team_id: int
    team_name: str
    clock: SLAClock


def inbox_rows(*, assignments: Iterable[Any], countdowns: Countdowns, now: datetime) -> list[InboxRow]:
    """The inbox's rows for ``assignments`` (named rows from ``inbox_assignments``) with their clocks."""
    url_of_lead_zero = reverse("handoff:lead", args=[0])  # reversed once, not once per row
    state_labels = dict(AssignmentState.choices)
    rows = []
    for row in assignments:
        name = f"{row.lead__first_name} {row.lead__last_name}".strip()  # Lead.full_name
        rows.append(
            InboxRow(
                lead_id=row.lead_id,
                url=url_of_lead_zero.replace("/0/", f"/{row.lead_id}/"),
                name=name or row.lead__email or row.lead__phone,
                detail=" · ".join(part for part in (row.lead__job_title, row.lead__email or row.lead__phone) if part),
                company=row.lead__company_name or "—",
                company_detail=" · ".join(part for part in (row.lead__size_band, row.lead__country) if part),
                source=row.lead__first_touch_source or "—",
                medium=row.lead__first_touch_medium,
                score=row.lead__score,
                state=row.state,
                state_label=state_labels[row.state],
                stage=row.lead__stage.upper(),
                assigned_ago=time_ago(now - row.assigned_at),
                team_id=row.team_id,
                team_name=countdowns.teams[row.team_id].name,
                clock=countdowns.clocks[row.pk],
            )
        )
    return rows


def inbox_clocks(assignments: Iterable[Any]) -> list[OpenClock]:
    """The SLA clocks of the inbox's named rows, for ``countdowns``."""
    return [
        OpenClock(row.pk, row.team_id, ClockInput(row.sla_due_at, row.sla__target_duration, row.sla__met_at))
        for row in assignments
    ]


def time_ago(elapsed: timedelta) -> str:
    """ "just now", "5 min ago", "3 h ago", "2 days ago": coarse, and cheap enough for every row."""
    minutes = int(elapsed.total_seconds() // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // (24 * 60)} days ago"


# --- The manager's queue -------------------------------------------------------------------------


def unassigned_mqls() -> LeadQuerySet:
    """MQLs nobody owns yet: routing found no team, or the team had no rep available."""
    return Lead.objects.unassigned().filter(stage=Stage.MQL)


def unassigned_mqls_for(*, user: User) -> LeadQuerySet:
    """The unassigned MQLs a manager may assign: their teams' and the unrouted ones."""
    return leads_of_teams(user=user).unassigned().filter(stage=Stage.MQL)


def team_queue_assignments(*, user: User, show: str, now: datetime) -> QuerySet[Assignment]:
    """Open assignments in the manager's teams: all, due soon (past the reminder point) or breached.

    Reads the clocks against ``now`` rather than the sweep's flags, so the queue is right even between
    two sweeps.
    """
    assignments = (
        Assignment.objects.open().filter(team__in=managed_teams(user=user)).select_related("lead", "team", "sla", "rep")
    )
    running = Q(sla__met_at__isnull=True, sla__stopped_at__isnull=True)
    if show == "due_soon":
        return assignments.filter(running, sla__remind_at__lte=now, sla__due_at__gt=now)
    if show == "breached":
        return assignments.filter(running, sla__due_at__lte=now)
    return assignments


# --- The lead page -------------------------------------------------------------------------------

LEAD_PAGE_ACTIVITIES = 50


def lead_page_lead(*, user: User, lead_id: int) -> Lead | None:
    """The lead with everything its page shows, or None when ``user`` may not see it."""
    assignments = (
        Assignment.objects.select_related("rep", "team", "sla", "qualification", "assigned_by")
        .prefetch_related(
            "team__hours", "team__closed_dates", Prefetch("contacts", ContactLog.objects.select_related("rep"))
        )
        .order_by("-assigned_at", "-id")
    )
    return (
        visible_leads(user=user)
        .select_related("owner", "first_touch")
        .prefetch_related(
            "consents",
            "touches",
            Prefetch(
                "activities",
                Activity.objects.order_by("-occurred_at", "-id")[:LEAD_PAGE_ACTIVITIES],
                to_attr="recent_activities",
            ),
            Prefetch("stage_changes", StageChange.objects.select_related("changed_by")),
            Prefetch("assignments", assignments),
            Prefetch(
                "proposed_changes",
                ProposedChange.objects.filter(status=ProposedChangeStatus.OPEN).select_related("submission__form"),
                to_attr="open_proposed_changes",
            ),
        )
        .filter(pk=lead_id)
        .first()
    )


def may_decide_changes(*, user: User, lead: Lead) -> bool:
    """Whether ``user`` accepts or dismisses the lead's proposed changes: its owner, or a marketer."""
    return lead.owner_id == user.pk or user.has_perm("leads.change_lead")


def decidable_change(*, user: User, lead_id: int, change_id: int) -> ProposedChange | None:
    """The lead's proposed change if ``user`` may decide it (``may_decide_changes``), else None."""
    changes = ProposedChange.objects.select_related("lead").filter(pk=change_id, lead_id=lead_id)
    if not user.has_perm("leads.change_lead"):
        changes = changes.filter(lead__owner=user)
    return changes.first()


# --- Countdowns ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Countdowns:
    clocks: dict[int, SLAClock]  # by assignment id
    windows: dict[str, list[list[int]]]  # by team id: opening windows for the browser to count with
    now_ms: int
    teams: dict[int, Team]  # the assignments' teams, by id


@dataclass(frozen=True)
class OpenClock:
    """The SLA clock of one open assignment, as ``countdowns`` needs it."""

    assignment_id: int
    team_id: int
    clock: ClockInput


def open_clocks(assignments: Iterable[Assignment]) -> list[OpenClock]:
    """The SLA clocks of open assignments loaded as models with their ``sla``."""
    # An open assignment's clock is never stopped (stopping it ends the assignment); its due time is on the row.
    return [
        OpenClock(a.pk, a.team_id, ClockInput(a.sla_due_at, a.sla.target_duration, a.sla.met_at)) for a in assignments
    ]


def countdowns(*, clocks: Iterable[OpenClock], now: datetime) -> Countdowns:
    """Each clock's countdown at ``now``, and the clocks' teams with their opening windows.

    Reads the teams itself (three queries), so the callers need not load them.
    """
    clocks = list(clocks)
    teams = Team.objects.in_bulk({clock.team_id for clock in clocks}) if clocks else {}
    calendars = team_calendars(teams.values())
    results: dict[int, SLAClock] = {}
    for team_id, calendar in calendars.items():
        of_team = [clock for clock in clocks if clock.team_id == team_id]
        computed = sla_clocks(calendar=calendar, clocks=[clock.clock for clock in of_team], now=now)
        for clock, result in zip(of_team, computed, strict=True):
            results[clock.assignment_id] = result
    windows = {str(team_id): opening_windows(calendar=calendar, now=now) for team_id, calendar in calendars.items()}
    return Countdowns(clocks=results, windows=windows, now_ms=int(now.timestamp() * 1000), teams=teams)
