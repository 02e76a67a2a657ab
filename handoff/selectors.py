"""Reads for the inbox, the lead page and the manager queue. Every list is scoped by the user asking."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, Exists, F, Field, Max, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Upper
from django.db.models.lookups import Exact
from django.urls import reverse
from django.utils.dateparse import parse_datetime

from core.statements import Statement, fits_64_bits
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
from handoff.pagination import PAGE_SIZE, KeysetPage, KeyType, SortKey, keyset_rows, page_of, page_seek, seek_of
from leads.models import (
    Activity,
    Consent,
    Lead,
    LeadQuerySet,
    ProposedChange,
    ProposedChangeStatus,
    ProviderRun,
    Stage,
    StageChange,
    Touch,
)
from leads.selectors import lead_words_search_q

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# --- Raw reads -----------------------------------------------------------------------------------

# The inbox and the team queue read a few small things of a fixed shape on every view: the viewer's teams,
# their calendars, saved views and follow-ups. Built by the ORM, each such read cost 150-450 µs of CPU
# for a query the database answers in 10-20 µs, together a third of the page's time at a million leads
# (bench/inbox_bench.py). These few read plain columns by indexed ids in SQL that SQLite and PostgreSQL
# both run; the lists (their filters, sorts and keyset pages) and every write stay with the ORM.


def _raw_rows(sql: str, ids: Iterable[int] = (), params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` run with ``params``, then ``ids`` in place of its ``{ids}`` (one placeholder each)."""
    ids = list(ids)
    with connection.cursor() as cursor:
        cursor.execute(sql.format(ids=", ".join(["%s"] * len(ids))), [*params, *ids])
        return cursor.fetchall()


# --- Calendars -----------------------------------------------------------------------------------


def team_calendar(team: Team) -> BusinessCalendar:
    """The business calendar of ``team``, from its opening hours, closed dates and holiday region."""
    return team_calendars([team])[team.pk]


def team_calendars(teams: Iterable[Team]) -> dict[int, BusinessCalendar]:
    """The business calendars of ``teams`` by team id, in two queries however many teams there are."""
    teams_by_id = {team.pk: team for team in teams}
    hours: dict[int, dict[int, list[tuple[time, time]]]] = {pk: {} for pk in teams_by_id}
    closed: dict[int, set[date]] = {pk: set() for pk in teams_by_id}
    if teams_by_id:
        # Raw reads of two plain tables: every inbox and queue page reads them, and the ORM's versions cost
        # ten times the CPU the database takes to answer (see "Raw reads" below).
        ids = list(teams_by_id)
        for team_id, weekday, opens_at, closes_at in _raw_rows(_TEAM_HOURS_SQL, ids):
            hours[team_id].setdefault(weekday, []).append((_as_time(opens_at), _as_time(closes_at)))
        for team_id, day in _raw_rows(_CLOSED_DATES_SQL, ids):
            closed[team_id].add(_as_date(day))
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


_TEAM_HOURS_SQL = (
    f"SELECT team_id, weekday, opens_at, closes_at FROM {TeamHours._meta.db_table} WHERE team_id IN ({{ids}})"
)
_CLOSED_DATES_SQL = f"SELECT team_id, date FROM {ClosedDate._meta.db_table} WHERE team_id IN ({{ids}})"


def _as_time(value: time | str) -> time:
    # PostgreSQL returns times; SQLite returns them as the text Django stored where a raw query loses the type.
    return value if isinstance(value, time) else time.fromisoformat(value)


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


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


def managed_team_list(*, user: User) -> list[Team]:
    """``managed_teams`` as a list, by name: the team queue reads it on every view, a manager's in a query compiled
    once (who sees which teams stays ``managed_teams``'s to say)."""
    if user.has_perm("handoff.manage_team") and not user.is_superuser:
        return _MANAGED_TEAMS.rows(user=user.pk)
    return list(managed_teams(user=user))


_MANAGED_TEAMS = Statement(lambda user: Team.objects.filter(managers=user), user=int)


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
    """A filter on Lead: what ``user`` may see as an inbox worker; their own leads, and a manager's teams'.

    A manager's teams' part is asked of each lead (``EXISTS`` of the lead itself): written straight into the
    filter, PostgreSQL hashes every open assignment for each of its team questions before the first row, 0.3 s a
    list at 190,000 open assignments, where a list newest first needs a few hundred leads asked about.
    """
    if not user.has_perm("handoff.manage_team"):
        return Q(owner=user)
    return Q(owner=user) | Q(Exists(Lead.objects.filter(_teams_scope(user), pk=OuterRef("pk"))))


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


def assignable_members(*, user: User, teams: Iterable[Team] | None = None) -> list[Membership]:
    """Active reps in the manager's teams (``teams``, when the caller read them already), for the assign forms.

    Each membership comes with its team and user. A raw read (see "Raw reads"): the queue and the lead page
    show these on every view. The models hold the columns the forms read; any other loads when first used.
    """
    teams_by_id = {team.pk: team for team in (managed_teams(user=user) if teams is None else teams)}
    if not teams_by_id:
        return []
    user_model = get_user_model()
    members = []
    for pk, team_id, user_id, username, first_name, last_name in _raw_rows(
        _members_sql(), teams_by_id, params=[True, True]
    ):
        membership = Membership.from_db(
            connection.alias, ["id", "team_id", "user_id", "is_active"], [pk, team_id, user_id, True]
        )
        member = user_model.from_db(
            connection.alias,
            ["id", user_model.USERNAME_FIELD, "first_name", "last_name", "is_active"],
            [user_id, username, first_name, last_name, True],
        )
        membership.team, membership.user = teams_by_id[team_id], member
        members.append(membership)
    return members


def _full_name_or(first: str, last: str, *fallbacks: str | None) -> str:
    """``first last`` as ``Lead.full_name`` and ``User.get_full_name`` join them, else the first fallback not empty."""
    return f"{first} {last}".strip() or next((fallback for fallback in fallbacks if fallback), "")


def _username_column() -> str:
    user_model = get_user_model()
    field = user_model._meta.get_field(user_model.USERNAME_FIELD)
    assert isinstance(field, Field) and field.column  # a concrete column
    return connection.ops.quote_name(field.column)


@functools.cache
def _members_sql() -> str:
    user_model = get_user_model()
    username = _username_column()
    return (
        f"SELECT m.id, m.team_id, m.user_id, u.{username}, u.first_name, u.last_name "
        f"FROM {Membership._meta.db_table} m INNER JOIN {user_model._meta.db_table} u ON u.id = m.user_id "
        f"INNER JOIN {Team._meta.db_table} t ON t.id = m.team_id "
        f"WHERE m.is_active = %s AND u.is_active = %s AND m.team_id IN ({{ids}}) "
        f"ORDER BY t.name, u.first_name, u.{username}"
    )


# --- The rep's inbox -----------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxSort:
    """One way to order the inbox: a column and a direction, each walked in order by an index.

    ``field`` is a column of Assignment, or with ``on_lead`` of its Lead (score, company). Those are read
    from the lead itself, never copied onto the assignment, so nothing has to keep a copy current: the page
    is then found on the lead table (``inbox_page``). ``key_type`` is the type of the column's values, which
    a cursor's key must have (``page_seek``).
    """

    key: str
    label: str
    field: str
    key_type: KeyType
    descending: bool
    on_lead: bool = False


# Each sort walks its own index: assignment_inbox_idx (and its "awaiting contact" twin) for the SLA due
# time, assignment_inbox_assigned_idx for the time of assignment, lead_owner_score_idx and
# lead_owner_company_idx for the lead's score and company; a descending sort walks its index backwards.
INBOX_SORTS = {
    sort.key: sort
    for sort in (
        InboxSort("due", "Most urgent first", "sla_due_at", datetime, descending=False),
        InboxSort("-due", "Least urgent first", "sla_due_at", datetime, descending=True),
        InboxSort("-assigned", "Newest first", "assigned_at", datetime, descending=True),
        InboxSort("assigned", "Oldest first", "assigned_at", datetime, descending=False),
        InboxSort("-score", "Highest score first", "score", int, descending=True, on_lead=True),
        InboxSort("score", "Lowest score first", "score", int, descending=False, on_lead=True),
        InboxSort("company", "By company, A to Z", "company_name", str, descending=False, on_lead=True),
        InboxSort("-company", "By company, Z to A", "company_name", str, descending=True, on_lead=True),
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


def inbox_assignments(*, rep: User | int, filters: InboxFilters) -> QuerySet[Assignment]:
    """The rep's open assignments as named rows of ``INBOX_COLUMNS``: everything a row shows, in one query."""
    lead_filter = _inbox_lead_filter(filters, prefix="lead__")
    return _named_rows(INBOX_COLUMNS).filter(_inbox_assignment_filter(rep, filters), lead_filter)


def _named_rows(columns: tuple[str, ...]) -> QuerySet[Assignment]:
    """All assignments as named rows of ``columns``, for the inbox and the queue to filter: a fresh copy each call.

    Resolving twenty columns across three tables cost the ORM more than the filters, the sort and the page
    together, on every view: it is done once per process. The kept QuerySet is read here only and never handed
    out, so no caller can fill its result cache (every assignment) for the next view, another user's, to get.
    """
    built = _NAMED_ROWS.get(columns)
    if built is None:
        built = _NAMED_ROWS[columns] = Assignment.objects.values_list(*columns, named=True)
    return built.all()


_NAMED_ROWS: dict[tuple[str, ...], QuerySet[Assignment]] = {}  # read through _named_rows only


class _Statements:
    """One query builder's ``Statement``s, one for each set of the values a run fills in.

    The list pages' filters are optional, and a Statement's values must all reach its SQL: an empty filter is no
    condition at all. So each set of filled-in values (the rep alone, with a cursor, with a team...) has its own
    Statement, made on first use, each value of its type's kind. A run that is not ``compiled`` builds its query
    afresh through the ORM, as does one with a number no column holds (the ORM turns that comparison into an empty
    or a full result): a search, whose every term (``icontains`` rewrites its value) would otherwise compile as a
    shape of its own and push the pages' usual shapes out of the statement.
    """

    def __init__(self, build: Callable[..., QuerySet[Any, Any]]) -> None:
        self._build = build
        self._statements: dict[tuple[tuple[str, type], ...], Statement] = {}

    def rows(self, values: dict[str, Any], *, compiled: bool = True, **shape: Any) -> list[Any]:
        """The rows of the query built with ``values`` (those not None) and ``shape``."""
        present = {name: value for name, value in values.items() if value is not None}
        if not compiled or not all(fits_64_bits(value) for value in present.values() if isinstance(value, int)):
            return list(self._build(**present, **shape))
        key = tuple(
            sorted((name, datetime if isinstance(value, datetime) else type(value)) for name, value in present.items())
        )
        statement = self._statements.get(key)
        if statement is None:
            statement = self._statements[key] = Statement(self._build, **dict(key))
        return statement.rows(**present, **shape)


def inbox_page(*, user: User, filters: InboxFilters, after: str | None, before: str | None) -> KeysetPage:
    """One page of the rep's inbox in the order of ``filters.sort``: named rows of ``INBOX_COLUMNS``.

    Sorted by a column of the assignment, one query walks that column's index. Sorted by the lead's score or
    company, the page is found on the lead table alone: the rep's leads (an open assignment's lead is
    owned by its rep: assigning sets the owner, ending releases it or leaves a closed assignment) walked in
    order on ``lead_owner_score_idx`` or ``lead_owner_company_idx``, each probed for its open assignment.
    Joined to the assignments instead, the database sorted all of a rep's open assignments (0.4 s for
    48,000 of them); this way a page costs about 1 ms, and a second query reads the page's 50 rows.
    The queries are compiled once per process and shape (``_Statements``), but for a search.
    """
    sort = INBOX_SORTS[filters.sort]
    seek = page_seek(field=sort.field, key_type=sort.key_type, after=after, before=before)
    values = {
        "rep": user.pk,
        "stage": filters.stage or None,
        "source": filters.source or None,
        "campaign": filters.campaign or None,
        "team_id": filters.team_id,
        "assigned_from": filters.assigned_from,
        "assigned_until": filters.assigned_until,
        "min_score": filters.min_score,
        "max_score": filters.max_score,
        "cursor_value": seek.value if seek else None,
        "cursor_id": seek.pk if seek else None,
    }
    shape = {
        "show": filters.show,
        "search": filters.search,
        "sort": filters.sort,
        "seek": seek.direction if seek else None,
    }
    if not sort.on_lead:
        return page_of(_INBOX_PAGE.rows(values, compiled=not filters.search, **shape), field=sort.field, seek=seek)
    found = page_of(_INBOX_LEAD_WALK.rows(values, compiled=not filters.search, **shape), field=sort.field, seek=seek)
    lead_ids = [lead.pk for lead in found.items]
    if not lead_ids:
        return found
    # Always PAGE_SIZE ids (the last one repeated), so that one compiled query reads any page's rows.
    ids = {f"lead_{index}": pk for index, pk in enumerate(lead_ids + lead_ids[-1:] * (PAGE_SIZE - len(lead_ids)))}
    rows_values = {name: values[name] for name in ("rep", "team_id", "assigned_from", "assigned_until")} | ids
    by_lead = {row.lead_id: row for row in _INBOX_PAGE_ROWS.rows(rows_values, show=filters.show)}
    # A lead handled in the moment between the two queries is left out rather than shown without its row.
    return replace(found, items=[by_lead[pk] for pk in lead_ids if pk in by_lead])


def _inbox_filters(**arguments: Any) -> InboxFilters:
    """The ``InboxFilters`` a builder of ``inbox_page``'s queries is called with (an absent value left out)."""
    arguments["stage"] = arguments.get("stage") or ""
    return InboxFilters(**arguments)


def _inbox_page_query(
    *, rep: int, seek: str | None, cursor_value: SortKey | None = None, cursor_id: int | None = None, **filters: Any
) -> QuerySet[Assignment]:
    """A page of the inbox sorted by a column of the assignment (``inbox_page``)."""
    chosen = _inbox_filters(**filters)
    sort = INBOX_SORTS[chosen.sort]
    at = seek_of(seek, cursor_value, cursor_id)
    assignments = inbox_assignments(rep=rep, filters=chosen)
    return keyset_rows(assignments, field=sort.field, descending=sort.descending, seek=at)


def _inbox_lead_walk_query(
    *, rep: int, seek: str | None, cursor_value: SortKey | None = None, cursor_id: int | None = None, **filters: Any
) -> QuerySet[Lead]:
    """A page of the rep's leads (id and sort key) in the order of a sort on the lead (``inbox_page``)."""
    chosen = _inbox_filters(**filters)
    sort = INBOX_SORTS[chosen.sort]
    at = seek_of(seek, cursor_value, cursor_id)
    held = Assignment.objects.filter(_inbox_assignment_filter(rep, chosen), lead=OuterRef("pk"))
    leads = Lead.objects.filter(_inbox_lead_filter(chosen, prefix=""), Exists(held), owner=rep)
    return keyset_rows(
        leads.values_list("pk", sort.field, named=True), field=sort.field, descending=sort.descending, seek=at
    )


def _inbox_page_rows_query(
    *,
    rep: int,
    show: str,
    team_id: int | None = None,
    assigned_from: datetime | None = None,
    assigned_until: datetime | None = None,
    **lead_ids: int,
) -> QuerySet[Assignment]:
    """The inbox rows of the leads ``lead_0`` … (``inbox_page``'s second query for a sort on the lead)."""
    chosen = InboxFilters(show=show, team_id=team_id, assigned_from=assigned_from, assigned_until=assigned_until)
    rows = _named_rows(INBOX_COLUMNS).filter(_inbox_assignment_filter(rep, chosen), lead_id__in=lead_ids.values())
    return rows.order_by()  # put in the leads' order by the caller


_INBOX_PAGE = _Statements(_inbox_page_query)
_INBOX_LEAD_WALK = _Statements(_inbox_lead_walk_query)
_INBOX_PAGE_ROWS = _Statements(_inbox_page_rows_query)


def _inbox_assignment_filter(rep: User | int, filters: InboxFilters) -> Q:
    """The inbox's conditions on the assignment itself: the rep's open ones of the tab, team and dates."""
    condition = Q(ended_at__isnull=True, rep=rep, contacted_at__isnull=filters.show != "contacted")
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
        "score__gte": filters.min_score,
        "score__lte": filters.max_score,
    }
    condition = Q(**{f"{prefix}{lookup}": value for lookup, value in wanted.items() if value is not None})
    for field, text in (("first_touch_source", filters.source), ("first_touch_campaign", filters.campaign)):
        if text:
            # What ``iexact`` writes on PostgreSQL (UPPER = UPPER), on SQLite too: there iexact is a LIKE, which no
            # index serves (SQLite's LIKE and UPPER both fold ASCII letters only). The lead_owner_src_*/_cmp_*
            # indexes serve it, and the text reaches the SQL unchanged: a compiled statement takes it as a value.
            condition &= Q(Exact(Upper(f"{prefix}{field}"), Upper(Value(text))))
    if filters.search:
        condition &= lead_words_search_q(filters.search, prefix=prefix)
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
        rows.append(
            InboxRow(
                assignment_id=row.pk,
                lead_id=row.lead_id,
                url=url_of_lead_zero.replace("/0/", f"/{row.lead_id}/"),
                name=_full_name_or(row.lead__first_name, row.lead__last_name, row.lead__email, row.lead__phone),
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
# whole lead table (or all of a rep's open leads): each process keeps a list for a few minutes, so a page view
# never pays for it twice.
PICK_LIST_SECONDS = 300
PICK_LIST_SIZE = 300
PICK_LISTS_KEPT = 2000  # lists kept per process (two per rep who opened the inbox lately), then all dropped
_pick_lists: dict[tuple[str, int | None], tuple[float, list[str]]] = {}
_PICK_FIELDS = {"source": "first_touch_source", "campaign": "first_touch_campaign"}


def first_touch_values(column: str) -> list[str]:
    """The distinct first-touch ``source`` or ``campaign`` values of all leads (routing rules' pick lists)."""
    field = _PICK_FIELDS[column]
    return _kept_pick_list((column, None), lambda: Lead.objects.exclude(**{field: ""}))


def inbox_pick_values(*, user: User, column: str) -> list[str]:
    """The distinct first-touch ``source`` or ``campaign`` values of the leads in ``user``'s inbox (their open
    assignments, whatever their role), for its pick lists: other reps' leads are not theirs to see."""
    field = _PICK_FIELDS[column]

    def leads() -> QuerySet[Lead]:
        # An open assignment's lead is owned by its rep, so the owner index narrows the leads first.
        held = Assignment.objects.filter(lead=OuterRef("pk"), rep=user.pk, ended_at__isnull=True)
        return Lead.objects.filter(Exists(held), owner=user.pk).exclude(**{field: ""})

    return _kept_pick_list((column, user.pk), leads)


def _kept_pick_list(key: tuple[str, int | None], leads: Callable[[], QuerySet[Lead]]) -> list[str]:
    """The sorted distinct values of ``key``'s column among ``leads()``, kept in this process for a few minutes."""
    cached = _pick_lists.get(key)
    if cached is not None and cached[0] > monotonic():
        return cached[1]
    field = _PICK_FIELDS[key[0]]
    values = sorted(leads().order_by().values_list(field, flat=True).distinct()[:PICK_LIST_SIZE])
    if len(_pick_lists) >= PICK_LISTS_KEPT:
        _pick_lists.clear()
    _pick_lists[key] = (monotonic() + PICK_LIST_SECONDS, values)
    return values


def forget_pick_lists() -> None:
    """Drop the cached pick lists (tests, and after an import that brings new sources)."""
    _pick_lists.clear()


def teams_of(*, user: User) -> list[Team]:
    """The teams ``user`` is a member of or manages, for the inbox's team filter and sharing views.

    Each has ``is_managed``: whether ``user`` may share a view with it (they manage it, or run every team).
    """
    if user.is_superuser and user.has_perm("handoff.manage_team"):
        found = list(Team.objects.order_by("name"))
        for team in found:
            team.is_managed = True  # type: ignore[attr-defined]
        return found
    found = list(Team.objects.raw(_TEAMS_OF_SQL, [user.pk, user.pk, user.pk]))
    may_manage = user.has_perm("handoff.manage_team")
    for team in found:
        team.is_managed = bool(team.manages) and may_manage  # type: ignore[attr-defined]
    return found


_MANAGERS_TABLE = Team.managers.through._meta.db_table
_MEMBERS_OR_MANAGERS = (
    f"IN (SELECT team_id FROM {Membership._meta.db_table} WHERE user_id = %s "
    f"UNION SELECT team_id FROM {_MANAGERS_TABLE} WHERE user_id = %s)"
)
_TEAMS_OF_SQL = (
    f"SELECT t.*, EXISTS (SELECT 1 FROM {_MANAGERS_TABLE} x WHERE x.team_id = t.id AND x.user_id = %s) AS manages "
    f"FROM {Team._meta.db_table} t WHERE t.id {_MEMBERS_OR_MANAGERS} ORDER BY t.name"
)


@dataclass(frozen=True)
class SavedViewItem:
    """A saved view as the inbox's menu lists it."""

    pk: int
    name: str
    query: str
    is_own: bool
    owner_name: str  # who shared it (full name, else username)
    team_name: str | None  # the team it is shared with; None for a private view


def saved_views_for(*, user: User) -> list[SavedViewItem]:
    """The rep's own saved views, then those a manager shared with one of their teams."""
    views = [
        SavedViewItem(pk, name, query, owner_id == user.pk, _full_name_or(first, last, username), team_name)
        for pk, name, query, owner_id, team_name, first, last, username in _raw_rows(
            _saved_views_sql(), params=[user.pk, user.pk, user.pk]
        )
    ]
    return sorted(views, key=lambda view: (not view.is_own, view.name))


@functools.cache
def _saved_views_sql() -> str:
    user_model = get_user_model()
    username = _username_column()
    return (
        "SELECT v.id, v.name, v.query, v.owner_id, t.name, u.first_name, u.last_name, "
        f"u.{username} FROM {SavedView._meta.db_table} v "
        f"INNER JOIN {user_model._meta.db_table} u ON u.id = v.owner_id "
        f"LEFT JOIN {Team._meta.db_table} t ON t.id = v.team_id "
        f"WHERE v.owner_id = %s OR v.team_id {_MEMBERS_OR_MANAGERS}"
    )


@dataclass(frozen=True)
class FollowUpItem:
    """An open follow-up task as the inbox lists it."""

    pk: int
    lead_id: int
    lead_name: str  # as Lead.__str__ names it
    note: str
    due_at: datetime


def open_follow_ups(*, user: User, limit: int = 10) -> list[FollowUpItem]:
    """The rep's open follow-up tasks, the soonest due first, each with its lead's name."""
    items = []
    for pk, lead_id, due_at, note, first, last, email, phone in _raw_rows(_FOLLOW_UPS_SQL, params=[user.pk, limit]):
        due = _row_time(due_at)
        assert due is not None  # a required column
        lead_name = _full_name_or(first, last, email, phone, f"Lead #{lead_id}")  # as Lead.__str__
        items.append(FollowUpItem(pk, lead_id, lead_name, note, due))
    return items


_FOLLOW_UPS_SQL = (
    "SELECT f.id, f.lead_id, f.due_at, f.note, l.first_name, l.last_name, l.email, l.phone "
    f"FROM {FollowUp._meta.db_table} f INNER JOIN {Lead._meta.db_table} l ON l.id = f.lead_id "
    "WHERE f.rep_id = %s AND f.done_at IS NULL ORDER BY f.due_at, f.id LIMIT %s"
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


def team_queue_page(
    *,
    show: str,
    now: datetime,
    filters: QueueFilters,
    teams: Iterable[Team],
    after: str | None,
    before: str | None,
) -> KeysetPage:
    """A page of the open assignments in the manager's ``teams`` (all, due soon or breached) by due time.

    Named rows of ``QUEUE_COLUMNS``. Due soon is past the reminder point. Reads the clocks against ``now``
    rather than the sweep's flags, so the queue is right even between two sweeps. The team ids go into the
    query as plain values, so the database walks ``assignment_team_due_idx`` by (team, due time) instead of
    sorting every open assignment of the team; a manager's teams are the query's shape, compiled once.
    """
    team_ids = tuple(team.pk for team in teams if filters.team_id is None or team.pk == filters.team_id)
    seek = page_seek(field="sla_due_at", key_type=datetime, after=after, before=before)
    if not team_ids:  # no team: nothing to read (an empty IN compiles to no SQL at all)
        return page_of([], field="sla_due_at", seek=seek)
    values = {
        "rep_id": filters.rep_id,
        "state": filters.state or None,
        "now": now if show in ("due_soon", "breached") else None,
        "cursor_value": seek.value if seek else None,
        "cursor_id": seek.pk if seek else None,
    }
    direction = seek.direction if seek else None
    rows = _QUEUE_PAGE.rows(
        values, compiled=not filters.search, team_ids=team_ids, show=show, search=filters.search, seek=direction
    )
    return page_of(rows, field="sla_due_at", seek=seek)


def _queue_page_query(
    *,
    team_ids: tuple[int, ...],
    show: str,
    search: str,
    seek: str | None,
    rep_id: int | None = None,
    state: str | None = None,
    now: datetime | None = None,
    cursor_value: datetime | None = None,
    cursor_id: int | None = None,
) -> QuerySet[Assignment]:
    """A page of the team queue (``team_queue_page``)."""
    assignments = _named_rows(QUEUE_COLUMNS).filter(ended_at__isnull=True, team_id__in=team_ids)  # open ones
    if rep_id is not None:
        assignments = assignments.filter(rep_id=rep_id)
    if state:
        assignments = assignments.filter(state=state)
    if search:
        assignments = assignments.filter(lead_words_search_q(search, prefix="lead__"))
    # The due time is on the assignment and fixed at assignment; the first contact meets the clock, and an
    # open assignment's clock is never stopped. So "running" needs no join for the breached view.
    if show == "due_soon":
        assignments = assignments.filter(contacted_at__isnull=True, sla__remind_at__lte=now, sla_due_at__gt=now)
    elif show == "breached":
        assignments = assignments.filter(contacted_at__isnull=True, sla_due_at__lte=now)
    at = seek_of(seek, cursor_value, cursor_id)
    return keyset_rows(assignments, field="sla_due_at", descending=False, seek=at)


_QUEUE_PAGE = _Statements(_queue_page_query)


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
    """The queue's rows for ``assignments`` (named rows from ``team_queue_page``) with their clocks."""
    url_of_lead_zero = reverse("handoff:lead", args=[0])  # reversed once, not once per row
    state_labels = dict(AssignmentState.choices)
    rows = []
    for row in assignments:
        due = row.sla_due_at.astimezone(zone)
        rows.append(
            QueueRow(
                assignment_id=row.pk,
                lead_id=row.lead_id,
                url=url_of_lead_zero.replace("/0/", f"/{row.lead_id}/"),
                name=_full_name_or(
                    row.lead__first_name, row.lead__last_name, row.lead__email, row.lead__phone, f"Lead #{row.lead_id}"
                ),  # as Lead.__str__
                company=row.lead__company_name,
                rep_name=_full_name_or(row.rep__first_name, row.rep__last_name, row.rep__username),
                team_id=row.team_id,
                team_name=row.team__name,
                state=row.state,
                state_label=state_labels[row.state],
                assigned_ago=time_ago(now - row.assigned_at),
                due_at=row.sla_due_at,
                due_label=_wall_clock_label(due),
                clock=countdowns.clocks[row.pk],
            )
        )
    return rows


def _wall_clock_label(moment: datetime) -> str:
    """ "Mon 30 Nov, 11:30 CET": what ``f"{moment:%a} {moment.day} {moment:%b, %H:%M %Z}"`` prints in the C locale
    (the process's: nothing here sets another), at a fifth of the cost of two ``strftime`` calls a row."""
    weekday, month = _WEEKDAYS[moment.weekday()], _MONTHS[moment.month - 1]
    return f"{weekday} {moment.day} {month}, {moment.hour:02d}:{moment.minute:02d} {moment.tzname() or ''}"


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


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
        return _capped_label(self.breached)


def _capped_label(count: int) -> str:
    return f"{count}+" if count >= QUEUE_PULSE_COUNT_CAP else str(count)


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


@dataclass(frozen=True)
class UnassignedPulse:
    """What the queue's unassigned tab polls for: it reloads its rows when ``version`` changes."""

    waiting: int  # unassigned MQLs the manager may assign, counted up to the cap
    newest: float | None  # when the latest of them became an MQL (a POSIX timestamp); None while none waits

    @property
    def count_label(self) -> str:
        return _capped_label(self.waiting)

    @property
    def version(self) -> str:
        return f"{self.waiting}:{self.newest}"


def unassigned_pulse(*, user: User) -> UnassignedPulse:
    """Two small queries on the unowned MQLs (``lead_owner_stage_created_idx``): how many wait, up to the cap, and
    when the latest arrived. The version changes when an MQL arrives and when one is assigned (while fewer than the
    cap wait)."""
    leads = unassigned_mqls_for(user=user).order_by()
    waiting = leads[:QUEUE_PULSE_COUNT_CAP].count()
    latest = leads.order_by("-stage_changed_at").values_list("stage_changed_at", flat=True).first()
    return UnassignedPulse(waiting=waiting, newest=latest.timestamp() if latest else None)


# --- The lead page -------------------------------------------------------------------------------

LEAD_PAGE_ACTIVITIES = 50
LEAD_PAGE_PROVIDER_RUNS = 20


def viewer_timezone(*, user: User) -> ZoneInfo:
    """The zone ``user`` reads times in: their choice, else their first team's, else the site's (UTC)."""
    return _zone(viewer_zone_name(user_id=user.pk))


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


def countdowns(*, clocks: Iterable[OpenClock], now: datetime, known_teams: Iterable[Team] = ()) -> Countdowns:
    """Each clock's countdown at ``now``, and the clocks' teams with their opening windows.

    Reads the clocks' teams itself, but for those among ``known_teams`` (the viewer's, read already), and
    their calendars: two or three small queries, so the callers need not load them.
    """
    clocks = list(clocks)
    wanted = {clock.team_id for clock in clocks}
    teams = {team.pk: team for team in known_teams if team.pk in wanted}
    if wanted - teams.keys():
        teams.update(Team.objects.in_bulk(wanted - teams.keys()))
    calendars = team_calendars(teams.values())
    results: dict[int, SLAClock] = {}
    for team_id, calendar in calendars.items():
        of_team = [clock for clock in clocks if clock.team_id == team_id]
        computed = sla_clocks(calendar=calendar, clocks=[clock.clock for clock in of_team], now=now)
        for clock, result in zip(of_team, computed, strict=True):
            results[clock.assignment_id] = result
    windows = {str(team_id): opening_windows(calendar=calendar, now=now) for team_id, calendar in calendars.items()}
    return Countdowns(clocks=results, windows=windows, now_ms=int(now.timestamp() * 1000), teams=teams)


# --- The lead page: the lead and its whole history in a fixed number of queries --------------------


@dataclass(frozen=True)
class StageRow:
    id: int
    changed_at: datetime
    from_stage: str
    to_stage: str
    reason: str
    changed_by: str  # the user's name; "" when no user made the change


@dataclass(frozen=True)
class ContactRow:
    id: int
    assignment_id: int
    contacted_at: datetime
    kind: str
    note: str
    rep: str


@dataclass(frozen=True)
class FollowUpRow:
    id: int
    rep_id: int
    rep: str
    note: str
    due_at: datetime
    created_at: datetime
    done_at: datetime | None


@dataclass(frozen=True)
class ActivityRow:
    id: int
    occurred_at: datetime
    kind: str
    metadata: Any


@dataclass(frozen=True)
class TouchRow:
    id: int
    occurred_at: datetime
    source: str
    medium: str
    campaign: str
    channel: str
    landing_page: str


@dataclass(frozen=True)
class ProviderRunRow:
    id: int
    started_at: datetime
    provider_name: str
    status: str
    error: str
    fields_set: Any


@dataclass(frozen=True)
class LeadHistory:
    """What happened to a lead, each kind in its model's order."""

    stage_changes: list[StageRow]  # newest first
    contacts: list[ContactRow]  # newest first
    follow_ups: list[FollowUpRow]  # by due time
    activities: list[ActivityRow]  # the newest LEAD_PAGE_ACTIVITIES, newest first
    touches: list[TouchRow]  # oldest first
    provider_runs: list[ProviderRunRow]  # the newest LEAD_PAGE_PROVIDER_RUNS, newest first


@dataclass(frozen=True)
class LeadPage:
    lead: Lead  # with its routing decision
    consents: list[Consent]  # newest first
    assignments: list[Assignment]  # newest first, with rep, team, SLA record, qualification and assigner
    proposed_changes: Sequence[ProposedChange]  # the open ones
    history: LeadHistory
    viewer_zone: ZoneInfo

    @property
    def first_touch(self) -> TouchRow | Touch | None:
        """The touch credited first (among the lead's touches, read already), else the earliest one."""
        if self.lead.first_touch_id is None:
            return self.history.touches[0] if self.history.touches else None
        credited = next((t for t in self.history.touches if t.id == self.lead.first_touch_id), None)
        return credited or self.lead.first_touch  # another lead's touch, credited by hand: read it


def lead_page(*, user: User, lead_id: int) -> LeadPage | None:
    """Everything the lead page shows, or None when ``user`` may not see the lead.

    Six queries however long the lead's history: the lead, its consents, assignments and open proposed
    changes, one UNION of every other kind of history (``lead_history``), and the viewer's time zone; and for
    a lead the viewer does not own, the check of their reach (``visible_leads``). The first four are
    ``Statement``s: built and compiled on each view, they cost more than half of the page's time.
    """
    if not fits_64_bits(lead_id):
        return None  # no lead has that id (the ORM's answer too), and the database would refuse the number
    lead = _PAGE_LEAD.first(lead=lead_id)
    # The owner is in every viewer's reach; anyone else's is the one definition's to say.
    if lead is None or (lead.owner_id != user.pk and not visible_leads(user=user).filter(pk=lead_id).exists()):
        return None
    consents = _PAGE_CONSENTS.rows(lead=lead_id)
    assignments = _PAGE_ASSIGNMENTS.rows(lead=lead_id)
    proposed_changes = _PAGE_CHANGES.rows(lead=lead_id)
    for row in (*assignments, *proposed_changes):
        row.lead = lead  # as a prefetch leaves them: reading a row's lead (a change's current value) asks nothing
    # Where a prefetch keeps them, so the lead's own reads of its consents (``has_usable_consent``) use these.
    prefetched = lead.consents.all()
    prefetched._result_cache, prefetched._prefetch_done = consents, True
    lead._prefetched_objects_cache = {"consents": prefetched}
    return LeadPage(
        lead=lead,
        consents=consents,
        assignments=assignments,
        proposed_changes=proposed_changes,
        history=lead_history(lead_id=lead.pk),
        viewer_zone=_zone(viewer_zone_name(user_id=user.pk)),
    )


_PAGE_LEAD = Statement(lambda lead: Lead.objects.select_related("routing_decision").filter(pk=lead)[:1], lead=int)
_PAGE_CONSENTS = Statement(lambda lead: Consent.objects.filter(lead_id=lead).order_by("-given_at", "-pk"), lead=int)
_PAGE_ASSIGNMENTS = Statement(
    lambda lead: (
        Assignment.objects.select_related("rep", "team", "sla", "qualification", "assigned_by")
        .filter(lead_id=lead)
        .order_by("-assigned_at", "-pk")
    ),
    lead=int,
)
# The form's name is all the page shows of a change's submission: read that, not two wide rows.
_PAGE_CHANGES = Statement(
    lambda lead: (
        ProposedChange.objects.filter(lead_id=lead, status=ProposedChangeStatus.OPEN)
        .annotate(form_name=F("submission__form__name"))
        .order_by("created_at", "pk")
    ),
    lead=int,
)


def viewer_zone_name(*, user_id: int) -> str | None:
    """The name of the zone the user reads times in (``viewer_timezone``'s rule), in one small raw query.

    Their choice, else their first team's by name; None for neither. The ORM's version of the same query
    costs about forty times as much CPU as the database takes to answer it.
    """
    with connection.cursor() as cursor:
        cursor.execute(_VIEWER_ZONE_SQL, [user_id, user_id])
        row = cursor.fetchone()
    return row[0] if row else None


_VIEWER_ZONE_SQL = (
    f"SELECT COALESCE((SELECT timezone FROM {ViewerSettings._meta.db_table} WHERE user_id = %s), "
    f"(SELECT t.timezone FROM {Team._meta.db_table} t INNER JOIN {Membership._meta.db_table} m ON m.team_id = t.id "
    "WHERE m.user_id = %s ORDER BY t.name LIMIT 1))"
)


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def lead_history(*, lead_id: int) -> LeadHistory:
    """The lead's stage changes, contacts, follow-ups, activities, touches and enrichment runs in one query.

    A UNION ALL of six reads by the lead's id, each by an index on its lead (the activities and runs cut to
    the newest few), read as plain rows: one query and no model instances, where six prefetches cost most of
    the page's time.
    """
    with connection.cursor() as cursor:
        cursor.execute(_lead_history_sql(connection.vendor), [lead_id] * 6)
        rows = cursor.fetchall()
    history = LeadHistory([], [], [], [], [], [])
    for kind, pk, at_value, at2, at3, text1, text2, text3, text4, text5, data, first, last, username, ref in rows:
        at = _row_time(at_value)
        name = _full_name_or(first, last, username) if username is not None else ""  # None: no user
        if kind == "stage":
            history.stage_changes.append(StageRow(pk, at, text1, text2, text3 or "", name))
        elif kind == "contact":
            history.contacts.append(ContactRow(pk, ref, at, text1, text2 or "", name))
        elif kind == "follow_up":
            done_at = _row_time(at3) if at3 is not None else None
            history.follow_ups.append(FollowUpRow(pk, ref, name, text1, at, _row_time(at2), done_at))
        elif kind == "activity":
            history.activities.append(ActivityRow(pk, at, text1, _row_json(data)))
        elif kind == "touch":
            history.touches.append(TouchRow(pk, at, text1 or "", text2 or "", text3 or "", text4 or "", text5 or ""))
        else:
            history.provider_runs.append(ProviderRunRow(pk, at, text1, text2, text3 or "", _row_json(data)))
    # The rows come newest first; these two kinds are shown oldest first, as their models order them.
    history.follow_ups.reverse()
    history.touches.reverse()
    return history


# Every branch selects these columns; a branch without one selects a NULL of its type (PostgreSQL types a
# UNION's columns pairwise, so an untyped NULL in an early branch would clash with a later one).
_HISTORY_COLUMN_TYPES = (
    *("TextField", "BigIntegerField"),  # kind, id
    *("DateTimeField",) * 3,  # at (the order of the page), two more instants
    *("TextField",) * 5,
    "JSONField",
    *("TextField",) * 3,  # the user's first name, last name and username
    "BigIntegerField",  # an id: the contact's assignment, the follow-up's rep
)


@functools.cache
def _lead_history_sql(vendor: str) -> str:
    """``lead_history``'s query for the database ``vendor`` (its types), built once per process."""
    user_model = get_user_model()
    name = connection.ops.quote_name
    user = name(user_model._meta.db_table)
    names = ["u.first_name", "u.last_name", f"u.{_username_column()}"]
    no_user: list[str | None] = [None, None, None]

    def select(columns: list[str | None], rest: str) -> str:
        types = connection.data_types
        listed = (
            column if column is not None else f"CAST(NULL AS {types[kind]})"
            for column, kind in zip(columns, _HISTORY_COLUMN_TYPES, strict=True)
        )
        return f"SELECT {', '.join(listed)} {rest}"

    branches = [
        select(
            ["'stage'", "s.id", "s.changed_at", None, None, "s.from_stage", "s.to_stage", "s.reason", None, None, None,
             *names, None],
            f"FROM {name(StageChange._meta.db_table)} s LEFT JOIN {user} u ON u.id = s.changed_by_id "
            "WHERE s.lead_id = %s",
        ),
        select(
            ["'contact'", "c.id", "c.contacted_at", None, None, "c.kind", "c.note", None, None, None, None, *names,
             "c.assignment_id"],
            f"FROM {name(ContactLog._meta.db_table)} c INNER JOIN {name(Assignment._meta.db_table)} a "
            f"ON a.id = c.assignment_id INNER JOIN {user} u ON u.id = c.rep_id WHERE a.lead_id = %s",
        ),
        select(
            ["'follow_up'", "f.id", "f.due_at", "f.created_at", "f.done_at", "f.note", None, None, None, None, None,
             *names, "f.rep_id"],
            f"FROM {name(FollowUp._meta.db_table)} f INNER JOIN {user} u ON u.id = f.rep_id WHERE f.lead_id = %s",
        ),
        select(
            ["'activity'", "t.id", "t.occurred_at", None, None, "t.kind", None, None, None, None, "t.metadata",
             *no_user, None],
            f"FROM (SELECT id, occurred_at, kind, metadata FROM {name(Activity._meta.db_table)} WHERE lead_id = %s "
            f"ORDER BY occurred_at DESC, id DESC LIMIT {LEAD_PAGE_ACTIVITIES}) t",
        ),
        select(
            ["'touch'", "t.id", "t.occurred_at", None, None, "t.source", "t.medium", "t.campaign", "t.channel",
             "t.landing_page", None, *no_user, None],
            f"FROM {name(Touch._meta.db_table)} t WHERE t.lead_id = %s",
        ),
        select(
            ["'enrichment'", "r.id", "r.started_at", None, None, "r.provider_name", "r.status", "r.error", None, None,
             "r.fields_set", *no_user, None],
            "FROM (SELECT id, started_at, provider_name, status, error, fields_set "
            f"FROM {name(ProviderRun._meta.db_table)} WHERE lead_id = %s "
            f"ORDER BY started_at DESC, id DESC LIMIT {LEAD_PAGE_PROVIDER_RUNS}) r",
        ),
    ]  # fmt: skip
    return " UNION ALL ".join(branches) + " ORDER BY 1, 3 DESC, 2 DESC"


def _row_time(value: datetime | str) -> datetime:
    # PostgreSQL returns aware datetimes; SQLite the UTC time Django stored without an offset, as text or (where
    # the column's declared type says datetime) as a naive datetime.
    parsed = value if isinstance(value, datetime) else parse_datetime(value)
    assert parsed is not None, value
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _row_json(value: Any) -> Any:
    # Django reads JSON columns as text on both databases and decodes them in the field; a raw query does it here.
    return json.loads(value) if isinstance(value, str) else value


def lead_countdowns(*, current: Assignment | None, now: datetime) -> Countdowns:
    """``countdowns`` for the lead page's open assignment, whose team is loaded already: two queries, not three."""
    if current is None:
        return countdowns(clocks=[], now=now)
    calendar = team_calendars([current.team])[current.team_id]
    clock = ClockInput(current.sla_due_at, current.sla.target_duration, current.sla.met_at)
    return Countdowns(
        clocks={current.pk: sla_clocks(calendar=calendar, clocks=[clock], now=now)[0]},
        windows={str(current.team_id): opening_windows(calendar=calendar, now=now)},
        now_ms=int(now.timestamp() * 1000),
        teams={current.team_id: current.team},
    )
