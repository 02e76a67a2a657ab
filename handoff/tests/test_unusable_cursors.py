"""A cursor the list cannot use (another sort's, or hand-edited) is a stale link: the first page, never a 500."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse

from handoff import services
from handoff.models import Assignment, Team
from handoff.pagination import SortKey, decode_cursor, encode_cursor
from handoff.tests.factories import MQLFactory
from integrations.tests.factories import ApiKeyFactory, api_headers
from leads.tests.factories import LeadFactory
from tests.personas import client_for

pytestmark = pytest.mark.django_db

INBOX = reverse("handoff:inbox")
QUEUE = reverse("handoff:team_queue")

# A moment that exists in its own offset but not in UTC, where the database compares it.
BEYOND_UTC = datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5)))


def lead_ids(response: object) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-lead-id="(\d+)"', response.content.decode())]  # type: ignore[attr-defined]


def listed_ids(response: object) -> list[int]:
    return [int(pk) for pk in re.findall(r'name="bulk-ids" value="(\d+)"', response.content.decode())]  # type: ignore[attr-defined]


@pytest.fixture
def three_assignments(team: Team, now: datetime) -> list[Assignment]:
    return [
        services.assign_lead(lead=MQLFactory(score=score, company_name=name), team=team, now=now + timedelta(minutes=i))
        for i, (score, name) in enumerate(((20, "Birch"), (90, "Acre"), (55, "Cobalt")))
    ]


@pytest.mark.parametrize("direction", ["after", "before"])
@pytest.mark.parametrize(
    ("sort", "field", "value"),
    [
        ("company", "company_name", 5),  # a number where the sort needs a text
        ("-company", "company_name", "a\x00b"),  # a text no PostgreSQL column can hold
        ("-score", "score", "90"),  # a text where the sort needs a number
        ("score", "score", datetime(2026, 3, 2, tzinfo=UTC)),
        ("due", "sla_due_at", 5),  # a number where the sort needs a moment
        ("due", "sla_due_at", "2026-03-02T10:00:00+00:00"),  # a text, even one that reads as a moment
        ("-due", "sla_due_at", BEYOND_UTC),
        ("-assigned", "assigned_at", 5),
    ],
)
def test_the_inbox_shows_the_first_page_of_its_sort_for_a_cursor_it_cannot_use(
    three_assignments: list[Assignment], rep: object, sort: str, field: str, value: SortKey, direction: str
) -> None:
    client = client_for(rep)
    first_page = client.get(f"{INBOX}?sort={sort}")

    response = client.get(f"{INBOX}?sort={sort}&{direction}={encode_cursor(field, value, three_assignments[0].pk)}")

    assert response.status_code == 200
    assert lead_ids(response) == lead_ids(first_page)
    assert len(lead_ids(response)) == 3


@pytest.mark.parametrize("direction", ["after", "before"])
@pytest.mark.parametrize(
    ("show", "field", "value"),
    [
        ("open", "sla_due_at", 5),
        ("breached", "sla_due_at", "not a moment"),
        ("open", "sla_due_at", BEYOND_UTC),
        ("unassigned", "stage_changed_at", 5),
        ("unassigned", "stage_changed_at", "2026-03-02T10:00:00+00:00"),
    ],
)
def test_the_team_queue_shows_the_first_page_of_its_view_for_a_cursor_it_cannot_use(
    three_assignments: list[Assignment], manager: object, now: datetime, show: str, field: str, value: SortKey,
    direction: str,
) -> None:  # fmt: skip
    MQLFactory()  # one for the unassigned view
    client = client_for(manager)
    first_page = client.get(f"{QUEUE}?show={show}")

    response = client.get(f"{QUEUE}?show={show}&{direction}={encode_cursor(field, value, 1)}")

    assert response.status_code == 200
    assert listed_ids(response) == listed_ids(first_page)


@pytest.mark.parametrize(
    ("value", "key_type"),
    [(5, str), ("5", int), (True, int), ("2026-03-02T10:00:00+00:00", datetime), (5, datetime), (BEYOND_UTC, datetime)],
)
def test_a_cursor_whose_key_is_not_of_the_sorts_type_is_not_ours(value: SortKey, key_type: type[SortKey]) -> None:
    cursor = encode_cursor("field", value, 7)

    assert decode_cursor(cursor, field="field", key_type=key_type) is None


def test_a_cursor_whose_text_holds_a_nul_is_not_ours() -> None:
    cursor = encode_cursor("company_name", "Acre\x00", 7)

    assert decode_cursor(cursor, field="company_name", key_type=str) is None


def test_a_cursors_moment_comes_back_in_utc() -> None:
    moment = datetime(2026, 3, 2, 10, 0, tzinfo=timezone(timedelta(hours=1)))

    decoded = decode_cursor(encode_cursor("field", moment, 7), field="field", key_type=datetime)

    assert decoded == (moment, 7)
    assert decoded[0].utcoffset() == timedelta(0)  # type: ignore[index, union-attr]


# --- The leads API (DRF's own cursor, "p" the position of created_at) ---------------------------------


def drf_cursor(position: str) -> str:
    return base64.b64encode(urlencode({"p": position}).encode()).decode()


@pytest.mark.parametrize("position", ["", "not a moment", "2026-03-02T10:00:00", BEYOND_UTC.isoformat(), "a\x00b"])
def test_the_lead_list_api_answers_a_cursor_whose_position_is_not_a_moment_as_an_invalid_cursor(
    rep: object, position: str
) -> None:
    LeadFactory(owner=rep)

    response = Client().get(
        "/api/leads/", {"cursor": drf_cursor(position)}, headers=api_headers(ApiKeyFactory(scope="read"))
    )

    assert (response.status_code, response.json()) == (404, {"detail": "Invalid cursor"})


def test_the_lead_list_api_still_follows_its_own_next_cursor(rep: object, now: datetime) -> None:
    leads = [LeadFactory(owner=rep, created_at=now + timedelta(minutes=i)) for i in range(3)]  # a position each
    headers = api_headers(ApiKeyFactory(scope="read"))
    first = Client().get("/api/leads/", {"page_size": 2}, headers=headers).json()

    second = Client().get(first["next"], headers=headers).json()

    assert [row["id"] for row in second["results"]] == [leads[0].pk]
