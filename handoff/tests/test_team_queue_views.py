from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from handoff import services
from handoff.demo import business_hours_before
from handoff.models import Assignment, AssignmentOutcome, Team
from handoff.selectors import team_calendar
from handoff.tests.factories import MembershipFactory, MQLFactory
from leads.models import Lead
from tests.personas import client_for

pytestmark = pytest.mark.django_db

QUEUE = reverse("handoff:team_queue")


def listed_ids(response: object) -> list[int]:
    return [int(pk) for pk in re.findall(r'name="bulk-ids" value="(\d+)"', response.content.decode())]  # type: ignore[attr-defined]


@pytest.fixture
def fresh_due_soon_and_breached(team: Team, now: datetime) -> dict[str, Assignment]:
    """Three assignments seen at ``now``: made just now, 20 and 30 business hours ago (24-hour SLA)."""
    calendar = team_calendar(team)
    return {
        name: services.assign_lead(
            lead=MQLFactory(), team=team, now=business_hours_before(calendar, now, timedelta(hours=hours))
        )
        for name, hours in (("fresh", 0), ("due_soon", 20), ("breached", 30))
    }


@pytest.mark.parametrize(("show", "expected"), [("breached", ["breached"]), ("due_soon", ["due_soon"])])
def test_the_queue_shows_what_needs_the_managers_attention(
    fresh_due_soon_and_breached: dict[str, Assignment], manager: object, now: datetime, show: str, expected: list[str]
) -> None:
    with time_machine.travel(now, tick=False):
        response = client_for(manager).get(f"{QUEUE}?show={show}")

    assert listed_ids(response) == [fresh_due_soon_and_breached[name].pk for name in expected]


def test_all_open_lists_every_open_assignment_by_urgency(
    fresh_due_soon_and_breached: dict[str, Assignment], manager: object, now: datetime
) -> None:
    with time_machine.travel(now, tick=False):
        response = client_for(manager).get(f"{QUEUE}?show=open")

    assert listed_ids(response) == [fresh_due_soon_and_breached[name].pk for name in ("breached", "due_soon", "fresh")]


def test_the_unassigned_view_lists_mqls_nobody_owns(team: Team, manager: object, other_rep: object) -> None:
    waiting = MQLFactory()
    MQLFactory(owner=other_rep)

    response = client_for(manager).get(f"{QUEUE}?show=unassigned")

    assert listed_ids(response) == [waiting.pk]


def test_bulk_reassign_moves_every_ticked_lead(
    fresh_due_soon_and_breached: dict[str, Assignment], team: Team, other_rep: object, manager: object
) -> None:
    membership = MembershipFactory(team=team, user=other_rep)
    ticked = [fresh_due_soon_and_breached["breached"].pk, fresh_due_soon_and_breached["due_soon"].pk]

    response = client_for(manager).post(
        reverse("handoff:team_reassign"),
        {"bulk-ids": ticked, "bulk-to": f"rep:{membership.pk}", "bulk-reason": "Backlog", "show": "breached"},
    )

    assert response["Location"] == f"{QUEUE}?show=breached"
    assert set(Assignment.objects.filter(pk__in=ticked).values_list("outcome", flat=True)) == {
        AssignmentOutcome.REASSIGNED
    }
    assert Assignment.objects.open().filter(rep=other_rep).count() == 2


def test_bulk_reassign_needs_a_reason(
    fresh_due_soon_and_breached: dict[str, Assignment], team: Team, manager: object
) -> None:
    breached = fresh_due_soon_and_breached["breached"]

    client_for(manager).post(
        reverse("handoff:team_reassign"), {"bulk-ids": [breached.pk], "bulk-to": f"team:{team.pk}"}
    )

    assert Assignment.objects.get(pk=breached.pk).is_open


def test_bulk_assign_hands_unassigned_mqls_to_the_team(team: Team, rep: object, manager: object) -> None:
    leads = [MQLFactory(), MQLFactory()]

    client_for(manager).post(
        reverse("handoff:team_assign"), {"bulk-ids": [lead.pk for lead in leads], "bulk-to": f"team:{team.pk}"}
    )

    assert list(Lead.objects.filter(pk__in=[lead.pk for lead in leads]).values_list("owner", flat=True)) == [rep.pk] * 2  # type: ignore[attr-defined]


def test_bulk_assign_of_an_owned_lead_is_a_404(team: Team, other_rep: object, manager: object) -> None:
    owned = MQLFactory(owner=other_rep)

    response = client_for(manager).post(
        reverse("handoff:team_assign"), {"bulk-ids": [owned.pk], "bulk-to": f"team:{team.pk}"}
    )

    assert response.status_code == 404


def test_a_manager_without_teams_is_told_so(manager: object) -> None:
    response = client_for(manager).get(QUEUE)

    assert b"You manage no team yet" in response.content


def test_the_queue_runs_the_same_number_of_queries_for_one_lead_or_many(
    team: Team, manager: object, now: datetime
) -> None:
    services.assign_lead(lead=MQLFactory(), team=team, now=now)
    client = client_for(manager)
    client.get(f"{QUEUE}?show=open")  # what a process reads once and keeps (the signed-in user's permissions)
    with CaptureQueriesContext(connection) as one_row:
        client.get(f"{QUEUE}?show=open")
    for _ in range(10):
        services.assign_lead(lead=MQLFactory(), team=team, now=now)

    with CaptureQueriesContext(connection) as many_rows:
        client.get(f"{QUEUE}?show=open")

    assert len(many_rows) == len(one_row)
