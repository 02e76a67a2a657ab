"""The admin lists of the tables that grow with the leads do little per row, and a manager's never scan every lead.

``bench/admin_bench.py`` times them at a million leads against the floor. What made them cheaper, held here: 50 rows a
page, the row checkbox and link written without a template or a reverse() each, only the columns a row shows, the
submissions sorted without their leads joined, instants written by hand; for a manager, each row's lead asked about
as the list walks (not every lead they see collected first), a count of a few pages ahead, and the country filter
read from the country index.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import factory
import pytest
from django.contrib import admin
from django.contrib.admin import ModelAdmin
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth.models import User
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from handoff.models import Assignment, Team
from handoff.tests.factories import RepFactory, TeamFactory
from leads.models import CaptureForm, ConsentText, Lead, StageChange, Submission
from leads.tests.factories import CaptureFormFactory, LeadFactory
from scoring.demo import install_default_model
from tests.personas import client_for

pytestmark = pytest.mark.django_db

AT = datetime(2026, 12, 5, 9, 6, tzinfo=UTC)
PER_PAGE = 50
CHANGELISTS = {
    "leads": "admin:leads_lead_changelist",
    "stage changes": "admin:leads_stagechange_changelist",
    "submissions": "admin:leads_submission_changelist",
    "assignments": "admin:handoff_assignment_changelist",
}


def leads(count: int, **fields: object) -> list[Lead]:
    return list(LeadFactory.create_batch(count, **fields))


def stage_changes(count: int) -> None:
    StageChange.objects.bulk_create(
        StageChange(lead=lead, from_stage="new", to_stage="mql", changed_at=AT - timedelta(minutes=i))
        for i, lead in enumerate(leads(count))
    )


def submissions(count: int) -> None:
    form: CaptureForm = CaptureFormFactory()
    text = ConsentText.objects.create(form=form, version=1, text="You may email me.", created_at=AT)
    Submission.objects.bulk_create(
        Submission(form=form, consent_text=text, idempotency_key=f"nonce-{lead.pk}", payload={"email": lead.email},
                   rendered_at=AT, submitted_at=AT - timedelta(minutes=i), lead=lead)
        for i, lead in enumerate(leads(count))
    )  # fmt: skip


def assignments(count: int, team: Team | None = None) -> None:
    team = team or TeamFactory()
    rep = RepFactory()
    Assignment.objects.bulk_create(
        Assignment(lead=lead, rep=rep, team=team, turn=i, assigned_at=AT - timedelta(minutes=i), sla_due_at=AT,
                   reason="Next in the rotation")
        for i, lead in enumerate(leads(count, stage="mql", owner=rep))
    )  # fmt: skip


ROWS: dict[str, Callable[[int], object]] = {
    "leads": leads,
    "stage changes": stage_changes,
    "submissions": submissions,
    "assignments": assignments,
}


def shown_rows(html: str) -> int:
    """The rows of the list: each starts with the cell that links to the row's page."""
    return len(re.findall(r'<tr><(?:td class="action-checkbox">.*?</td><)?th class="field-', html))


def page_query(queries: CaptureQueriesContext, table: str) -> str:
    """The SQL that read the page's rows (ordered, and not a count)."""
    return next(
        sql
        for sql in (query["sql"] for query in queries.captured_queries)
        if f'FROM "{table}"' in sql and "ORDER BY" in sql and not sql.startswith("SELECT COUNT")
    )


@pytest.mark.parametrize("name", CHANGELISTS)
def test_a_list_shows_fifty_rows_a_page(name: str, admin_user: User) -> None:
    ROWS[name](PER_PAGE + 1)

    html = client_for(admin_user).get(reverse(CHANGELISTS[name])).content.decode()

    assert shown_rows(html) == PER_PAGE


@pytest.mark.parametrize("name", CHANGELISTS)
def test_a_list_asks_as_many_queries_for_six_rows_as_for_two(name: str, admin_user: User) -> None:
    install_default_model(now=AT)  # "Why not an MQL" explains the waiting leads, from what the page read
    client = client_for(admin_user)
    ROWS[name](2)
    with CaptureQueriesContext(connection) as two:
        client.get(reverse(CHANGELISTS[name]))
    ROWS[name](4)

    with CaptureQueriesContext(connection) as six:
        client.get(reverse(CHANGELISTS[name]))

    assert len(six) == len(two)


def test_the_row_checkboxes_are_written_without_rendering_a_widget_each(marketer: User) -> None:
    leads(3)

    response = client_for(marketer).get(reverse("admin:leads_lead_changelist"))

    assert response.content.count(b'class="action-select"') == 3
    assert "django/forms/widgets/checkbox.html" not in [template.name for template in response.templates]


def test_a_row_checkbox_is_the_markup_django_renders() -> None:
    lead = LeadFactory(first_name='<b>O\'Neil & "Co"</b>')
    lead_admin = admin.site._registry[Lead]

    assert lead_admin.action_checkbox(lead) == ModelAdmin.action_checkbox(lead_admin, lead)


def test_a_rows_link_is_the_address_django_reverses(marketer: User) -> None:
    lead = LeadFactory()
    request = RequestFactory().get("/")
    request.user = marketer
    changelist = admin.site._registry[Lead].get_changelist_instance(request)

    assert changelist.url_for_result(lead) == ChangeList.url_for_result(changelist, lead)


@pytest.mark.parametrize(
    ("name", "table"), [("stage changes", "leads_stagechange"), ("assignments", "handoff_assignment")]
)
def test_a_list_reads_only_the_lead_columns_it_shows(name: str, table: str, admin_user: User) -> None:
    ROWS[name](1)

    with CaptureQueriesContext(connection) as queries:
        html = client_for(admin_user).get(reverse(CHANGELISTS[name])).content.decode()

    assert '"leads_lead"."custom_answers"' not in page_query(queries, table)
    assert ">Ada Lovelace</a>" in html


def test_the_submissions_are_sorted_without_their_leads_joined(marketer: User) -> None:
    submissions(2)

    with CaptureQueriesContext(connection) as queries:
        html = client_for(marketer).get(reverse("admin:leads_submission_changelist")).content.decode()

    assert "JOIN" not in page_query(queries, "leads_submission")
    assert re.search(r"person\d+@acme\.example<br><a [^>]*>Ada Lovelace</a>", html)


@pytest.mark.parametrize(
    ("name", "column"), [("stage changes", "changed"), ("assignments", "assigned"), ("assignments", "due")]
)
def test_a_list_shows_its_instants_as_the_day_over_the_time(name: str, column: str, admin_user: User) -> None:
    ROWS[name](1)

    html = client_for(admin_user).get(reverse(CHANGELISTS[name])).content.decode()

    assert f'<td class="field-{column}">5 Dec 2026<br><span class="quiet">09:06</span></td>' in html


# --- A manager's lists -------------------------------------------------------------------------------------------


@pytest.fixture
def managed_team(manager: User) -> Team:
    return TeamFactory(managers=[manager])


def test_a_managers_list_says_more_than_n_instead_of_counting_every_row(manager: User, managed_team: Team) -> None:
    assignments(202, team=managed_team)

    html = client_for(manager).get(reverse("admin:handoff_assignment_changelist")).content.decode()

    assert "more than 200 assignments" in html
    assert '<a href="?p=5" class="end">5</a>' in html


def test_the_last_page_a_managers_list_links_to_has_rows(manager: User, managed_team: Team) -> None:
    assignments(202, team=managed_team)

    html = client_for(manager).get(reverse("admin:handoff_assignment_changelist") + "?p=5").content.decode()

    assert shown_rows(html) == 2


def test_a_marketers_list_counts_every_row(marketer: User) -> None:
    leads(202)

    html = client_for(marketer).get(reverse("admin:leads_lead_changelist")).content.decode()

    assert "202 leads" in html
    assert "more than" not in html


@pytest.mark.parametrize(
    ("name", "table"), [("stage changes", "leads_stagechange"), ("assignments", "handoff_assignment")]
)
def test_a_managers_list_asks_about_each_rows_lead_instead_of_collecting_every_lead_first(
    name: str, table: str, manager: User, managed_team: Team
) -> None:
    assignments(1, team=managed_team)
    stage_changes(1)

    with CaptureQueriesContext(connection) as queries:
        client_for(manager).get(reverse(CHANGELISTS[name]))

    sql = page_query(queries, table)
    assert f'"{table}"."lead_id" IN (SELECT' not in sql
    assert "EXISTS" in sql


def test_a_manager_is_offered_the_countries_of_every_lead(manager: User, managed_team: Team) -> None:
    assignments(1, team=managed_team)
    LeadFactory(country="FR")  # nobody's: not among the manager's leads

    html = client_for(manager).get(reverse("admin:leads_lead_changelist")).content.decode()

    assert 'href="?country=FR"' in html


def list_rows(html: str) -> list[str]:
    """The emails of the leads list's rows, in the order shown."""
    return re.findall(r"[\w.+-]+@find\.example", html)


def searchable_leads(found: int, others: int) -> None:
    """``found`` leads whose email holds "find", oldest first, among ``others`` that don't, each a minute apart."""
    LeadFactory.create_batch(others, email=factory.Sequence("other{}@else.example".format), created_at=AT)
    for i in range(found):
        LeadFactory(email=f"lead{i:03}@find.example", created_at=AT + timedelta(minutes=i))


def test_a_search_that_finds_few_rows_lists_them_newest_first(marketer: User) -> None:
    searchable_leads(found=3, others=5)

    html = client_for(marketer).get(reverse("admin:leads_lead_changelist") + "?q=find").content.decode()

    assert list_rows(html) == ["lead002@find.example", "lead001@find.example", "lead000@find.example"]
    assert "3 results" in html


def test_a_search_that_finds_few_rows_reads_them_by_key(marketer: User) -> None:
    searchable_leads(found=3, others=5)

    with CaptureQueriesContext(connection) as queries:
        client_for(marketer).get(reverse("admin:leads_lead_changelist") + "?q=find")

    assert '"leads_lead"."id" IN (' in page_query(queries, "leads_lead")


def test_a_searchs_count_reads_the_rows_in_no_order(marketer: User) -> None:
    searchable_leads(found=3, others=5)

    with CaptureQueriesContext(connection) as queries:
        client_for(marketer).get(reverse("admin:leads_lead_changelist") + "?q=find")

    searches = [query["sql"] for query in queries.captured_queries if "LIKE" in query["sql"]]
    count = next(sql for sql in searches if '"leads_lead"."id" IN (' not in sql)
    assert "ORDER BY" not in count


def test_a_search_that_finds_many_rows_pages_them_and_says_more_than_n(marketer: User) -> None:
    searchable_leads(found=202, others=3)

    html = client_for(marketer).get(reverse("admin:leads_lead_changelist") + "?q=find").content.decode()

    assert list_rows(html) == [f"lead{i:03}@find.example" for i in range(201, 151, -1)]
    assert "more than 200 results" in html


def test_a_search_that_finds_a_few_pages_of_rows_shows_each_page_in_order(marketer: User) -> None:
    searchable_leads(found=120, others=3)

    html = client_for(marketer).get(reverse("admin:leads_lead_changelist") + "?q=find&p=3").content.decode()

    assert list_rows(html) == [f"lead{i:03}@find.example" for i in range(19, -1, -1)]
    assert "120 results" in html


def test_a_search_that_finds_more_than_a_few_rows_pages_them_without_reading_their_keys(
    marketer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every key of a large find sent back as parameters failed past SQLite's and PostgreSQL's limits (a 500).
    monkeypatch.setattr("leads.admin.FEW_FOUND", 10)
    searchable_leads(found=120, others=3)

    with CaptureQueriesContext(connection) as queries:
        html = client_for(marketer).get(reverse("admin:leads_lead_changelist") + "?q=find&p=3").content.decode()

    assert list_rows(html) == [f"lead{i:03}@find.example" for i in range(19, -1, -1)]
    assert '"leads_lead"."id" IN (' not in page_query(queries, "leads_lead")


def test_selecting_every_row_a_search_found_says_more_than_n(marketer: User) -> None:
    searchable_leads(found=202, others=3)

    html = client_for(marketer).get(reverse("admin:leads_lead_changelist") + "?q=find").content.decode()

    assert "Select all of more than 200 leads" in html


def spam_submissions() -> dict[str, Submission]:
    """A submission held for each of two reasons, one released since, and one that was never held."""
    form: CaptureForm = CaptureFormFactory()
    text = ConsentText.objects.create(form=form, version=1, text="You may email me.", created_at=AT)
    kinds: dict[str, dict[str, object]] = {
        "honeypot": {"status": "spam", "spam_reason": "honeypot"},
        "too fast": {"status": "spam", "spam_reason": "too_fast"},
        "released": {"status": "captured", "spam_reason": "too_fast", "released_at": AT},
        "clean": {"status": "captured", "spam_reason": ""},
    }
    return {
        name: Submission.objects.create(form=form, consent_text=text, idempotency_key=f"nonce-{name}",
                                        payload={}, rendered_at=AT, submitted_at=AT, **fields)
        for name, fields in kinds.items()
    }  # fmt: skip


def listed_submissions(user: User, query: str) -> set[int]:
    request = RequestFactory().get(f"/?{query}")
    request.user = user
    changelist = admin.site._registry[Submission].get_changelist_instance(request)
    return set(changelist.queryset.values_list("pk", flat=True))


def test_the_spam_reason_filter_lists_the_submissions_held_for_that_reason_released_or_not(marketer: User) -> None:
    rows = spam_submissions()

    assert listed_submissions(marketer, "spam_reason__exact=too_fast") == {rows["too fast"].pk, rows["released"].pk}


def test_the_spam_reason_filter_with_no_reason_lists_the_submissions_never_held(marketer: User) -> None:
    rows = spam_submissions()

    assert listed_submissions(marketer, "spam_reason__exact=") == {rows["clean"].pk}
