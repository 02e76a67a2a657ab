"""Reads for the inbox, the lead page and the manager queue. Every list is scoped by the user asking."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from time import monotonic
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse

from handoff.calendar import BusinessCalendar
from handoff.countdown import ClockInput, SLAClock, opening_windows, sla_clocks
from handoff.models import (
    Assignment,
    AssignmentState,
    ClosedDate,
    ContactLog,
    FollowUp,
    Membership,
    SavedView,
    Team,
    TeamHours,
    ViewerSettings,
)
from handoff.pagination import KeysetPage, keyset_page
from leads.models import (
    Activity,
    Lead,
    LeadQuerySet,
    ProposedChange,
    ProposedChangeStatus,
    ProviderRun,
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
    if not user.has_perm("handoff.manage_team"):
        return Team.objects.none()
    if user.is_superuser:
        return Team.objects.all()
    return Team.objects.filter(managers=user)


def in_teams(teams: QuerySet[Team]) -> Q:
    """A filter on Lead: the leads of ``teams``, the one definition admin, pages and API share.

    A lead is a team's while its open assignment is there. With no open assignment it stays with the teams
    that worked it before (its history, a recycled or rejected lead) and goes to the team routing sent it
    to (its ``RoutingDecision``'s team), where it waits to be assigned.
    """
    assigned = Assignment.objects.filter(lead=OuterRef("pk"))
    held_here = Exists(assigned.filter(ended_at__isnull=True, team__in=teams))
    held_anywhere = Exists(assigned.filter(ended_at__isnull=True))
    worked_here = Exists(assigned.filter(team__in=teams))
    return Q(held_here) | (~Q(held_anywhere) & (Q(worked_here) | Q(routing_decision__team__in=teams)))


def unrouted_mqls_filter() -> Q:
    """A filter on Lead: MQLs nobody owns that routing sent to no team (never routed, or to a nurture track).

    They belong to no team yet, so every manager's queue shows them and any manager may take one into a
    team of their own.
    """
    return Q(stage=Stage.MQL, owner__isnull=True, routing_decision__team__isnull=True)


def lead_scope(user: User) -> Q:
    """A filter on Lead: what ``user`` may see as an inbox worker; their own leads, and a manager's teams'."""
    if not user.has_perm("handoff.manage_team"):
        return Q(owner=user)
    return Q(owner=user) | _teams_scope(user)


def leads_of_teams(*, user: User) -> LeadQuerySet:
    """The leads of the teams ``user`` manages, and the unrouted MQLs every manager shares; none for others."""
    if not user.has_perm("handoff.manage_team"):
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


def managed_open_assignments(*, user: User) -> QuerySet[Assignment]:
    """The open assignments of the manager's teams as whole models, for the queue's bulk actions to change."""
    return (
        Assignment.objects.open().filter(team__in=managed_teams(user=user)).select_related("lead", "team", "sla", "rep")
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
class InboxSort:
    """One way to order the inbox: a column and a direction, each walked in order by an index.

    ``field`` is a column of Assignment, or with ``on_lead`` of its Lead (score, company). Those are read
    from the lead itself, never copied onto the assignment, so nothing has to keep a copy current: the page
    is then found on the lead table (``inbox_page``).
    """

    key: str
    label: str
    field: str
    descending: bool
    on_lead: bool = False


# Each sort walks its own index: assignment_inbox_idx (and its "awaiting contact" twin) for the SLA due
# time, assignment_inbox_assigned_idx for the time of assignment, lead_owner_score_idx and
# lead_owner_company_idx for the lead's score and company; a descending sort walks its index backwards.
INBOX_SORTS = {
    sort.key: sort
    for sort in (
        InboxSort("due", "Most urgent first", "sla_due_at", descending=False),
        InboxSort("-due", "Least urgent first", "sla_due_at", descending=True),
        InboxSort("-assigned", "Newest first", "assigned_at", descending=True),
        InboxSort("assigned", "Oldest first", "assigned_at", descending=False),
        InboxSort("-score", "Highest score first", "score", descending=True, on_lead=True),
        InboxSort("score", "Lowest score first", "score", descending=False, on_lead=True),
        InboxSort("company", "By company, A to Z", "company_name", descending=False, on_lead=True),
        InboxSort("-company", "By company, Z to A", "company_name", descending=True, on_lead=True),
    )
}


@dataclass(frozen=True)
class InboxFilters:
    show: str = "todo"  # "todo": awaiting first contact; "contacted": contacted, not yet qualified
    stage: str = ""
    source: str = ""
    campaign: str = ""
    team_id: int | None = None
    assigned_from: datetime | None = None  # assigned at or after
    assigned_until: datetime | None = None  # assigned before
    min_score: int | None = None
    max_score: int | None = None
    search: str = ""
    sort: str = "due"

    @property
    def narrows(self) -> bool:
        """Whether anything beyond the tab narrows the list (an empty list then means "nothing matches")."""
        optional = (self.team_id, self.assigned_from, self.assigned_until, self.min_score, self.max_score)
        return any((self.stage, self.source, self.campaign, self.search)) or any(v is not None for v in optional)


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
    lead_filter = _inbox_lead_filter(filters, prefix="lead__")
    return Assignment.objects.filter(_inbox_assignment_filter(user, filters), lead_filter).values_list(
        *INBOX_COLUMNS, named=True
    )


def inbox_page(*, user: User, filters: InboxFilters, after: str | None, before: str | None) -> KeysetPage:
    """One page of the rep's inbox in the order of ``filters.sort``: named rows of ``INBOX_COLUMNS``.

    Sorted by a column of the assignment, one query walks that column's index. Sorted by the lead's score or
    company, the page is found on the lead table alone: the rep's leads (an open assignment's lead is
    owned by its rep: assigning sets the owner, ending releases it or leaves a closed assignment) walked in
    order on ``lead_owner_score_idx`` or ``lead_owner_company_idx``, each probed for its open assignment.
    Joined to the assignments instead, the database sorted all of a rep's open assignments (0.4 s for
    48,000 of them); this way a page costs about 1 ms, and a second query reads the page's 50 rows.
    """
    sort = INBOX_SORTS[filters.sort]
    if not sort.on_lead:
        assignments = inbox_assignments(user=user, filters=filters)
        return keyset_page(assignments, field=sort.field, descending=sort.descending, after=after, before=before)
    held = Assignment.objects.filter(_inbox_assignment_filter(user, filters), lead=OuterRef("pk"))
    leads = Lead.objects.filter(_inbox_lead_filter(filters, prefix=""), Exists(held), owner=user)
    found = keyset_page(
        leads.values_list("pk", sort.field, named=True),
        field=sort.field,
        descending=sort.descending,
        after=after,
        before=before,
    )
    lead_ids = [lead.pk for lead in found.items]
    rows = Assignment.objects.filter(_inbox_assignment_filter(user, filters), lead_id__in=lead_ids)
    by_lead = {row.lead_id: row for row in rows.values_list(*INBOX_COLUMNS, named=True)}
    # A lead handled in the moment between the two queries is left out rather than shown without its row.
    return replace(found, items=[by_lead[pk] for pk in lead_ids if pk in by_lead])


def _inbox_assignment_filter(user: User, filters: InboxFilters) -> Q:
    """The inbox's conditions on the assignment itself: the rep's open ones of the tab, team and dates."""
    condition = Q(ended_at__isnull=True, rep=user, contacted_at__isnull=filters.show != "contacted")
    if filters.team_id is not None:
        condition &= Q(team_id=filters.team_id)
    if filters.assigned_from is not None:
        condition &= Q(assigned_at__gte=filters.assigned_from)
    if filters.assigned_until is not None:
        condition &= Q(assigned_at__lt=filters.assigned_until)
    return condition


def _inbox_lead_filter(filters: InboxFilters, *, prefix: str) -> Q:
    """The inbox's conditions on the lead, its fields named from the assignment (``lead__``) or the lead ("")."""
    wanted: dict[str, object] = {
        "stage": filters.stage or None,
        "first_touch_source__iexact": filters.source or None,
        "first_touch_campaign__iexact": filters.campaign or None,
        "score__gte": filters.min_score,
        "score__lte": filters.max_score,
    }
    condition = Q(**{f"{prefix}{lookup}": value for lookup, value in wanted.items() if value is not None})
    if filters.search:
        condition &= _lead_search_q(filters.search, prefix=prefix)
    return condition


@dataclass(frozen=True)
class InboxRow:
    """One inbox row, ready to print: the list renders 50 of these, so the template only prints fields."""

    assignment_id: int
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
                assignment_id=row.pk,
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
    """The SLA clocks of the inbox's or the team queue's named rows, for ``countdowns``."""
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


# Sources and campaigns change only when new ones are captured, and listing the distinct values reads the
# whole lead table: each process keeps the list for a few minutes, so a page view never pays for it twice.
PICK_LIST_SECONDS = 300
PICK_LIST_SIZE = 300
_pick_lists: dict[str, tuple[float, list[str]]] = {}


def first_touch_values(column: str) -> list[str]:
    """The distinct first-touch ``source`` or ``campaign`` values of the leads, for the inbox's pick lists."""
    cached = _pick_lists.get(column)
    if cached is not None and cached[0] > monotonic():
        return cached[1]
    field = {"source": "first_touch_source", "campaign": "first_touch_campaign"}[column]
    values = sorted(
        Lead.objects.exclude(**{field: ""}).order_by().values_list(field, flat=True).distinct()[:PICK_LIST_SIZE]
    )
    _pick_lists[column] = (monotonic() + PICK_LIST_SECONDS, values)
    return values


def forget_pick_lists() -> None:
    """Drop the cached pick lists (tests, and after an import that brings new sources)."""
    _pick_lists.clear()


def teams_of(*, user: User) -> list[Team]:
    """The teams ``user`` is a member of or manages, for the inbox's team filter and sharing views.

    Each has ``is_managed``: whether ``user`` may share a view with it (they manage it, or run every team).
    """
    runs_all = user.is_superuser and user.has_perm("handoff.manage_team")
    manages = Exists(Team.managers.through.objects.filter(team_id=OuterRef("pk"), user_id=user.pk))
    teams = Team.objects.annotate(is_managed=manages)
    if not runs_all:
        teams = teams.filter(Q(memberships__user=user) | Q(managers=user)).distinct()
    found: list[Team] = list(teams.order_by("name"))
    may_manage = user.has_perm("handoff.manage_team")
    for team in found:
        team.is_managed = runs_all or (team.is_managed and may_manage)  # type: ignore[attr-defined]
    return found


def saved_views_for(*, user: User) -> list[SavedView]:
    """The rep's own saved views, then those a manager shared with one of their teams."""
    views = SavedView.objects.filter(
        Q(owner=user) | Q(team__in=Team.objects.filter(Q(memberships__user=user) | Q(managers=user)))
    )
    return sorted(views.select_related("team", "owner").distinct(), key=lambda v: (v.owner_id != user.pk, v.name))


def open_follow_ups(*, user: User, limit: int = 10) -> list[FollowUp]:
    """The rep's open follow-up tasks, the soonest due first, each with its lead's name."""
    return list(
        FollowUp.objects.filter(rep=user, done_at__isnull=True)
        .select_related("lead")
        .only("lead_id", "due_at", "note", "lead__first_name", "lead__last_name", "lead__email", "lead__phone")
        .order_by("due_at", "id")[:limit]
    )


@dataclass(frozen=True)
class InboxPulse:
    """What the inbox page polls for: it reloads its rows when ``version`` changes."""

    todo: int  # open assignments awaiting a first contact
    breached: int  # of those, how many are past their due time
    newest_id: int | None  # the latest of them: a higher one is a new (or reassigned) lead
    version: str


def inbox_pulse(*, user: User, now: datetime) -> InboxPulse:
    """One aggregate query over the rep's open assignments awaiting contact.

    It reads only columns of ``assignment_inbox_todo_idx`` (rep, due time, id), so the index answers it
    without touching the table: the page polls it every few seconds.
    """
    todo = Assignment.objects.open().filter(rep=user, contacted_at__isnull=True)
    totals = todo.aggregate(todo=Count("id"), breached=Count("id", filter=Q(sla_due_at__lte=now)), newest_id=Max("id"))
    version = "{todo}:{breached}:{newest_id}".format(**totals)
    return InboxPulse(totals["todo"], totals["breached"], totals["newest_id"], version)


# --- The manager's queue -------------------------------------------------------------------------


def unassigned_mqls() -> LeadQuerySet:
    """MQLs nobody owns yet: routing found no team, or the team had no rep available."""
    return Lead.objects.unassigned().filter(stage=Stage.MQL)


def unassigned_mqls_for(*, user: User) -> LeadQuerySet:
    """The unassigned MQLs a manager may assign: their teams' and the unrouted ones (with where routing sent them)."""
    return leads_of_teams(user=user).unassigned().filter(stage=Stage.MQL).select_related("routing_decision__team")


@dataclass(frozen=True)
class QueueFilters:
    team_id: int | None = None
    rep_id: int | None = None
    state: str = ""
    search: str = ""

    @property
    def narrows(self) -> bool:
        return any((self.team_id is not None, self.rep_id is not None, self.state, self.search))


# What a queue row shows, and no more, as named rows like the inbox's: building four models per row and
# formatting their dates in the template cost more than finding the rows.
QUEUE_LEAD_COLUMNS = ("first_name", "last_name", "email", "phone", "company_name")
QUEUE_COLUMNS = (
    *("pk", "lead_id", "rep_id", "team_id", "state", "assigned_at", "sla_due_at"),
    *(f"lead__{name}" for name in QUEUE_LEAD_COLUMNS),
    *(f"rep__{name}" for name in ("username", "first_name", "last_name")),
    *("team__name", "sla__target_duration", "sla__met_at"),
)


def team_queue_assignments(
    *, user: User, show: str, now: datetime, filters: QueueFilters | None = None
) -> QuerySet[Assignment]:
    """Open assignments in the manager's teams (all, due soon or breached), as named rows of ``QUEUE_COLUMNS``.

    Due soon is past the reminder point. Reads the clocks against ``now`` rather than the sweep's flags, so
    the queue is right even between two sweeps. The team ids are read first, so the database sees plain
    values and walks ``assignment_team_due_idx`` by (team, due time) instead of sorting every open
    assignment of the team.
    """
    filters = filters or QueueFilters()
    team_ids = list(managed_teams(user=user).values_list("pk", flat=True))
    if filters.team_id is not None:
        team_ids = [pk for pk in team_ids if pk == filters.team_id]
    assignments = Assignment.objects.open().filter(team_id__in=team_ids)
    if filters.rep_id is not None:
        assignments = assignments.filter(rep_id=filters.rep_id)
    if filters.state:
        assignments = assignments.filter(state=filters.state)
    if filters.search:
        assignments = assignments.filter(_lead_search_q(filters.search))
    # The due time is on the assignment and fixed at assignment; the first contact meets the clock, and an
    # open assignment's clock is never stopped. So "running" needs no join for the breached view.
    if show == "due_soon":
        assignments = assignments.filter(contacted_at__isnull=True, sla__remind_at__lte=now, sla_due_at__gt=now)
    elif show == "breached":
        assignments = assignments.filter(contacted_at__isnull=True, sla_due_at__lte=now)
    return assignments.values_list(*QUEUE_COLUMNS, named=True)


@dataclass(frozen=True)
class QueueRow:
    """One row of the team queue, ready to print (the template only prints fields)."""

    assignment_id: int
    lead_id: int
    url: str
    name: str
    company: str
    rep_name: str
    team_id: int
    team_name: str
    state: str
    state_label: str
    assigned_ago: str
    due_at: datetime
    due_label: str  # the wall-clock due time in the viewer's zone, the zone named
    clock: SLAClock


def queue_rows(*, assignments: Iterable[Any], countdowns: Countdowns, zone: ZoneInfo, now: datetime) -> list[QueueRow]:
    """The queue's rows for ``assignments`` (named rows from ``team_queue_assignments``) with their clocks."""
    url_of_lead_zero = reverse("handoff:lead", args=[0])  # reversed once, not once per row
    state_labels = dict(AssignmentState.choices)
    rows = []
    for row in assignments:
        name = f"{row.lead__first_name} {row.lead__last_name}".strip()  # Lead.__str__
        rep_name = f"{row.rep__first_name} {row.rep__last_name}".strip()  # User.get_full_name
        due = row.sla_due_at.astimezone(zone)
        rows.append(
            QueueRow(
                assignment_id=row.pk,
                lead_id=row.lead_id,
                url=url_of_lead_zero.replace("/0/", f"/{row.lead_id}/"),
                name=name or row.lead__email or row.lead__phone or f"Lead #{row.lead_id}",
                company=row.lead__company_name,
                rep_name=rep_name or row.rep__username,
                team_id=row.team_id,
                team_name=row.team__name,
                state=row.state,
                state_label=state_labels[row.state],
                assigned_ago=time_ago(now - row.assigned_at),
                due_at=row.sla_due_at,
                due_label=f"{due:%a} {due.day} {due:%b, %H:%M %Z}",
                clock=countdowns.clocks[row.pk],
            )
        )
    return rows


# Counting every breach of a team with 190,000 open assignments on each poll would cost more than the page;
# the queue's title says "1000+" beyond this.
QUEUE_PULSE_COUNT_CAP = 1000


@dataclass(frozen=True)
class QueuePulse:
    """What the team queue polls for: it reloads its rows when ``version`` changes."""

    breached: int  # open assignments past their due time without a first contact, counted up to the cap
    turns: int  # assignments the manager's teams have handed out: a new one (or a reassignment in) adds one
    version: str

    @property
    def count_label(self) -> str:
        return f"{self.breached}+" if self.breached >= QUEUE_PULSE_COUNT_CAP else str(self.breached)


def team_queue_pulse(*, user: User, now: datetime) -> QueuePulse:
    """Two small queries, whatever the size of the teams: the version of the manager's queue at ``now``.

    It changes when a team hands out an assignment (its turn counter), when a lead breaches (the latest due
    time passed without contact, per team, found by walking ``assignment_team_due_idx`` back from ``now``)
    and when the capped count of breaches moves (a lead contacted or taken out of the team).
    """
    breaches = Assignment.objects.open().filter(contacted_at__isnull=True, sla_due_at__lte=now)
    latest = breaches.filter(team=OuterRef("pk")).order_by("-sla_due_at").values("sla_due_at")[:1]
    teams = list(managed_teams(user=user).order_by("pk").values_list("pk", "turns_taken", Subquery(latest)))
    # Unordered, so the count stops at the cap (the model's default order would sort every breach first).
    capped = breaches.filter(team_id__in=[pk for pk, _, _ in teams]).order_by()[:QUEUE_PULSE_COUNT_CAP]
    breached = capped.count()
    turns = sum(taken for _, taken, _ in teams)
    latest_breaches = ",".join(f"{pk}@{moment.timestamp() if moment else ''}" for pk, _, moment in teams)
    return QueuePulse(breached=breached, turns=turns, version=f"{turns}:{breached}:{latest_breaches}")


# --- The lead page -------------------------------------------------------------------------------

LEAD_PAGE_ACTIVITIES = 50
LEAD_PAGE_PROVIDER_RUNS = 20


def viewer_timezone(*, user: User) -> ZoneInfo:
    """The zone ``user`` reads times in: their choice, else their first team's, else the site's (UTC)."""
    chosen_zone = ViewerSettings.objects.filter(user=OuterRef("pk")).values("timezone")[:1]
    team_zone = Team.objects.filter(memberships__user=OuterRef("pk")).order_by("name").values("timezone")[:1]
    chosen = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .values_list(Coalesce(Subquery(chosen_zone), Subquery(team_zone)), flat=True)
        .first()
    )
    try:
        return ZoneInfo(chosen or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def lead_page_lead(*, user: User, lead_id: int) -> Lead | None:
    """The lead with everything its page shows, or None when ``user`` may not see it."""
    # The open assignment's calendar is read by ``countdowns`` (three small queries), not prefetched here.
    assignments = (
        Assignment.objects.select_related("rep", "team", "sla", "qualification", "assigned_by")
        .prefetch_related(Prefetch("contacts", ContactLog.objects.select_related("rep")))
        .order_by("-assigned_at", "-id")
    )
    return (
        visible_leads(user=user)
        .select_related("owner", "first_touch", "routing_decision")
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
                "provider_runs",
                ProviderRun.objects.order_by("-started_at", "-id")[:LEAD_PAGE_PROVIDER_RUNS],
                to_attr="recent_provider_runs",
            ),
            Prefetch("follow_ups", FollowUp.objects.select_related("rep").order_by("due_at", "id")),
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


def _lead_search_q(term: str, *, prefix: str = "lead__") -> Q:
    """Leads (or with ``prefix`` "lead__", assignments whose lead) with ``term`` in the name, email or company.

    The inbox's and the queue's search.
    """
    fields = ("first_name", "last_name", "email", "company_name")
    condition = Q()
    for field in fields:
        condition |= Q(**{f"{prefix}{field}__icontains": term})
    return condition
