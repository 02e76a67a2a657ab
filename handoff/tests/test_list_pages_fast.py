"""The inbox and the team queue build their list queries once per process, and what that must not change."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.db.models.sql.compiler import SQLCompiler
from django.http import QueryDict
from django.urls import reverse

from core import roles
from handoff.calendar import BusinessCalendar
from handoff.forms import InboxFilterForm
from handoff.models import Team
from handoff.pagination import decode_cursor, encode_cursor
from handoff.selectors import _wall_clock_label
from handoff.tests.factories import TeamFactory
from handoff.tests.test_daily_work_views import assign, lead_ids, queue_ids
from tests.personas import client_for, user_in

pytestmark = pytest.mark.django_db

INBOX = reverse("handoff:inbox")
QUEUE = reverse("handoff:team_queue")


@pytest.fixture
def compiled_sql() -> Iterator[list[str]]:
    """The SQL the ORM compiles while the test runs (what ``core.statements.Statement`` saves the pages)."""
    compiled: list[str] = []
    original = SQLCompiler.as_sql

    def as_sql(self: SQLCompiler, *args: object, **kwargs: object) -> tuple[str, tuple[object, ...]]:
        sql, params = original(self, *args, **kwargs)  # type: ignore[arg-type]
        compiled.append(sql)
        return sql, params

    with mock.patch.object(SQLCompiler, "as_sql", as_sql):
        yield compiled


@pytest.mark.parametrize("query", ["", "?sort=-score", "?sort=company&source=Google", "?sort=-due"])
def test_a_second_view_of_the_inbox_compiles_no_list_query(
    team: Team, rep: User, now: datetime, compiled_sql: list[str], query: str
) -> None:
    assign(team, now, score=40, company_name="Acre", first_touch_source="google")
    client = client_for(rep)
    client.get(f"{INBOX}{query}")
    compiled_sql.clear()

    response = client.get(f"{INBOX}{query}")

    assert response.status_code == 200
    assert not [sql for sql in compiled_sql if "handoff_assignment" in sql]


@pytest.mark.parametrize("show", ["breached", "due_soon", "open"])
def test_a_second_view_of_the_team_queue_compiles_no_list_query(
    team: Team, manager: User, now: datetime, compiled_sql: list[str], show: str
) -> None:
    assign(team, now - timedelta(days=7))
    client = client_for(manager)
    client.get(f"{QUEUE}?show={show}")
    compiled_sql.clear()

    response = client.get(f"{QUEUE}?show={show}")

    assert response.status_code == 200
    assert not [sql for sql in compiled_sql if "handoff_assignment" in sql or "handoff_team" in sql]


def test_each_manager_sees_their_own_teams_in_the_queue_compiled_for_another(
    team: Team, manager: User, now: datetime
) -> None:
    mine = assign(team, now - timedelta(days=7))
    other_manager = user_in(roles.SALES_MANAGER, "manager2")
    other_team = TeamFactory(members=[user_in(roles.SALES_REP, "rep3")], managers=[other_manager])
    theirs = assign(other_team, now - timedelta(days=7))
    client_for(manager).get(f"{QUEUE}?show=open")

    response = client_for(other_manager).get(f"{QUEUE}?show=open")

    assert queue_ids(response) == [theirs.pk]
    assert mine.pk not in queue_ids(response)


def test_a_search_still_narrows_the_inbox_sorted_by_company(team: Team, rep: User, now: datetime) -> None:
    wanted = assign(team, now, company_name="Cobalt Freight", email="ada@cobalt.example")
    assign(team, now, company_name="Birch Analytics", email="bo@birch.example")
    client = client_for(rep)
    client.get(f"{INBOX}?sort=company")

    response = client.get(f"{INBOX}?sort=company&q=cobalt")

    assert lead_ids(response) == [wanted.lead_id]


def test_a_score_no_column_holds_matches_nothing_instead_of_failing(team: Team, rep: User, now: datetime) -> None:
    assign(team, now, score=90)

    response = client_for(rep).get(f"{INBOX}?min_score={10**20}")

    assert response.status_code == 200
    assert b'data-empty="no-match"' in response.content


def test_a_cursor_whose_id_no_column_holds_is_not_ours() -> None:
    cursor = encode_cursor("score", 10, 2**63)

    assert decode_cursor(cursor, field="score", key_type=int) is None


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 3, 2, 9, 5, tzinfo=UTC),  # a Monday in winter time
        datetime(2026, 7, 19, 23, 59, tzinfo=UTC),  # a Sunday in summer time, the next day in Berlin
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # the night the clocks go back
    ],
)
def test_the_queues_due_label_is_the_strftime_label(moment: datetime) -> None:
    due = moment.astimezone(ZoneInfo("Europe/Berlin"))

    assert _wall_clock_label(due) == f"{due:%a} {due.day} {due:%b, %H:%M %Z}"


def test_two_inbox_filter_forms_keep_their_own_team_choices() -> None:
    london, paris = TeamFactory(name="London"), TeamFactory(name="Paris")
    data = QueryDict("")

    first = InboxFilterForm(data, sources=[], campaigns=[], teams=[london], zone=UTC)
    second = InboxFilterForm(data, sources=[], campaigns=[], teams=[paris], zone=UTC)

    assert list(first.fields["team"].choices) == [("", "Any team"), (str(london.pk), "London")]  # type: ignore[attr-defined]
    assert list(second.fields["team"].choices) == [("", "Any team"), (str(paris.pk), "Paris")]  # type: ignore[attr-defined]


def test_a_calendar_works_out_each_days_opening_hours_once() -> None:
    calendar = BusinessCalendar.standard("Europe/Berlin")
    start = datetime(2026, 3, 2, 8, tzinfo=UTC)
    first = calendar.open_intervals(start, start + timedelta(days=5))

    with mock.patch("handoff.calendar._wall_to_utc", side_effect=AssertionError("worked out again")):
        again = calendar.open_intervals(start, start + timedelta(days=5))

    assert again == first
