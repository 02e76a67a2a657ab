"""Every inbox URL and action, for each kind of user: who gets in, and who gets a 403, 404 or a sign-in page.

The rep works only leads assigned to them (another rep gets a 404, in pages and forms alike); the
manager sees their teams' leads and runs the queue but cannot act as the rep; a marketer has no inbox.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from django.test import Client
from django.urls import reverse

from handoff import services
from handoff.models import Assignment, Team
from handoff.tests.factories import MQLFactory, TeamFactory
from tests.personas import client_for

pytestmark = pytest.mark.django_db

# name, method, POST data (keyed by placeholder), and what each user gets.
CASES = [
    ("inbox", "get", {}, {"rep": 200, "other_rep": 200, "manager": 200, "marketer": 403}),
    ("lead", "get", {}, {"rep": 200, "other_rep": 404, "manager": 200, "marketer": 403}),
    ("accept", "post", {}, {"rep": 302, "other_rep": 404, "manager": 404, "marketer": 403}),
    ("contact", "post", {"contact-kind": "call"}, {"rep": 302, "other_rep": 404, "manager": 404, "marketer": 403}),
    (
        "qualify",
        "post",
        {"qualify-budget": "b", "qualify-authority": "a", "qualify-need": "n", "qualify-timing": "t"},
        {"rep": 302, "other_rep": 404, "manager": 404, "marketer": 403},
    ),
    ("reject", "post", {"reject-reason": "No fit"}, {"rep": 302, "other_rep": 404, "manager": 404, "marketer": 403}),
    (
        "recycle",
        "post",
        {"recycle-recycle_on": "2030-01-01"},
        {"rep": 302, "other_rep": 404, "manager": 404, "marketer": 403},
    ),
    (
        "reassign",
        "post",
        {"reassign-to": "team:{team}", "reassign-reason": "Cover"},
        {"rep": 403, "other_rep": 403, "manager": 302, "marketer": 403},
    ),
    ("assign", "post", {"assign-to": "team:{team}"}, {"rep": 403, "other_rep": 403, "manager": 302, "marketer": 403}),
    ("team_queue", "get", {}, {"rep": 403, "other_rep": 403, "manager": 200, "marketer": 403}),
    (
        "team_assign",
        "post",
        {"bulk-ids": "{unassigned}", "bulk-to": "team:{team}"},
        {"rep": 403, "other_rep": 403, "manager": 302, "marketer": 403},
    ),
    (
        "team_reassign",
        "post",
        {"bulk-ids": "{assignment}", "bulk-to": "team:{team}", "bulk-reason": "Cover"},
        {"rep": 403, "other_rep": 403, "manager": 302, "marketer": 403},
    ),
]
LEAD_URLS = {"lead", "accept", "contact", "qualify", "reject", "recycle", "reassign"}


@pytest.fixture
def world(assignment: Assignment, team: Team) -> dict[str, str]:
    """The ids the URLs and forms refer to: the rep's assigned lead, and an unassigned MQL."""
    return {"lead": str(assignment.lead_id), "assignment": str(assignment.pk), "team": str(team.pk),
            "unassigned": str(MQLFactory().pk)}  # fmt: skip


def url_of(name: str, world: dict[str, str]) -> str:
    if name in LEAD_URLS:
        return reverse(f"handoff:{name}", args=[world["lead"]])
    if name == "assign":
        return reverse("handoff:assign", args=[world["unassigned"]])
    return reverse(f"handoff:{name}")


def send(client: Client, method: str, url: str, data: dict[str, str], world: dict[str, str]) -> int:
    filled = {key: value.format(**world) for key, value in data.items()}
    return getattr(client, method)(url, filled).status_code


@pytest.mark.parametrize("user_kind", ["rep", "other_rep", "manager", "marketer"])
@pytest.mark.parametrize(("name", "method", "data", "expected"), CASES, ids=[case[0] for case in CASES])
def test_each_user_gets_what_their_role_allows(
    request: pytest.FixtureRequest,
    world: dict[str, str],
    name: str,
    method: str,
    data: dict[str, str],
    expected: dict[str, int],
    user_kind: str,
) -> None:
    user = request.getfixturevalue(user_kind)

    status = send(client_for(user), method, url_of(name, world), data, world)

    assert status == expected[user_kind]


@pytest.mark.parametrize(("name", "method", "data", "expected"), CASES, ids=[case[0] for case in CASES])
def test_anonymous_visitors_are_sent_to_sign_in(
    world: dict[str, str], name: str, method: str, data: dict[str, str], expected: dict[str, int]
) -> None:
    response = getattr(Client(), method)(url_of(name, world), {key: v.format(**world) for key, v in data.items()})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("name", "method", "data", "expected"), CASES, ids=[case[0] for case in CASES])
def test_the_wrong_method_is_refused(
    world: dict[str, str],
    rep: object,
    manager: object,
    name: str,
    method: str,
    data: dict[str, str],
    expected: dict[str, int],
) -> None:
    user = rep if expected["rep"] != 403 else manager
    wrong = "post" if method == "get" else "get"

    status = send(client_for(user), wrong, url_of(name, world), {}, world)

    assert status == 405


def test_another_reps_lead_is_a_404_even_with_a_valid_form(
    assignment: Assignment, other_rep: object, now: datetime
) -> None:
    response = client_for(other_rep).post(
        reverse("handoff:contact", args=[assignment.lead_id]), {"contact-kind": "call", "contact-note": "Hi"}
    )

    assert response.status_code == 404
    assert not assignment.contacts.exists()


def test_a_lead_id_that_does_not_exist_is_a_404(rep: object) -> None:
    response = client_for(rep).get(reverse("handoff:lead", args=[999999]))

    assert response.status_code == 404


def test_a_manager_cannot_open_a_lead_of_a_team_they_do_not_manage(
    other_rep: object, manager: object, now: datetime
) -> None:
    foreign = services.assign_lead(lead=MQLFactory(), team=TeamFactory(members=[other_rep]), now=now)

    response = client_for(manager).get(reverse("handoff:lead", args=[foreign.lead_id]))

    assert response.status_code == 404


def test_a_manager_cannot_bulk_reassign_outside_their_teams(
    other_rep: object, manager: object, team: Team, now: datetime
) -> None:
    foreign = services.assign_lead(lead=MQLFactory(), team=TeamFactory(members=[other_rep]), now=now)

    response = client_for(manager).post(
        reverse("handoff:team_reassign"), {"bulk-ids": foreign.pk, "bulk-to": f"team:{team.pk}", "bulk-reason": "x"}
    )

    assert response.status_code == 404
    assert Assignment.objects.get(pk=foreign.pk).is_open
