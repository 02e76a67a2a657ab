"""The inbox sorted by the lead's score and company (keyset pages over the lead index), and the team queue's pulse."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from handoff import services
from handoff.models import Assignment, Team
from handoff.pagination import decode_cursor, encode_cursor
from handoff.tests.factories import MembershipFactory, MQLFactory, TeamFactory
from leads.tests.factories import UserFactory
from tests.personas import client_for

pytestmark = pytest.mark.django_db

INBOX = reverse("handoff:inbox")
QUEUE_PULSE = reverse("handoff:team_queue_pulse")


def assign(team: Team, now: datetime, **lead_fields: object) -> Assignment:
    return services.assign_lead(lead=MQLFactory(**lead_fields), team=team, now=now)


def lead_ids(response: object) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-lead-id="(\d+)"', response.content.decode())]  # type: ignore[attr-defined]


def link(response: object, direction: str) -> str:
    found = re.search(rf'href="\?([^"]*{direction}=[^"]+)"', response.content.decode())  # type: ignore[attr-defined]
    assert found is not None, f"expected a {direction} link"
    return f"{INBOX}?{found.group(1).replace('&amp;', '&')}"


# --- Score and company ---------------------------------------------------------------------------


def test_inbox_sorts_by_score_highest_first(team: Team, rep: object, now: datetime) -> None:
    low, high, middle = (assign(team, now, score=score) for score in (20, 90, 55))

    response = client_for(rep).get(f"{INBOX}?sort=-score")

    assert lead_ids(response) == [high.lead_id, middle.lead_id, low.lead_id]


def test_inbox_sorts_by_company_a_to_z_and_back(team: Team, rep: object, now: datetime) -> None:
    made = {name: assign(team, now, company_name=name) for name in ("Cobalt Freight", "Acre Analytics", "Birch")}
    client = client_for(rep)

    a_to_z = client.get(f"{INBOX}?sort=company")
    z_to_a = client.get(f"{INBOX}?sort=-company")

    expected = [made[name].lead_id for name in ("Acre Analytics", "Birch", "Cobalt Freight")]
    assert lead_ids(a_to_z) == expected
    assert lead_ids(z_to_a) == expected[::-1]


def test_the_score_column_header_sorts_highest_first_then_lowest(assignment: Assignment, rep: object) -> None:
    client = client_for(rep)

    unsorted = client.get(INBOX).content.decode()
    by_score = client.get(f"{INBOX}?sort=-score").content.decode()

    assert 'href="?sort=-score" data-testid="sort-score"' in unsorted
    assert 'aria-sort="descending"><a class="sort-link" href="?sort=score" data-testid="sort-score"' in by_score


def test_pages_sorted_by_score_keep_every_lead_once_across_equal_scores(team: Team, rep: object, now: datetime) -> None:
    made = [assign(team, now + timedelta(minutes=i), score=50 + i % 3) for i in range(53)]
    client = client_for(rep)

    first = client.get(f"{INBOX}?sort=-score")
    second = client.get(link(first, "after"))
    back = client.get(link(second, "before"))

    by_score = sorted(made, key=lambda a: (-a.lead.score, -a.lead_id))
    assert lead_ids(first) == [a.lead_id for a in by_score[:50]]
    assert lead_ids(second) == [a.lead_id for a in by_score[50:]]
    assert lead_ids(back) == lead_ids(first)


def test_the_inbox_sorted_by_company_makes_the_same_queries_on_a_later_page(
    team: Team, rep: object, now: datetime
) -> None:
    for i in range(55):
        assign(team, now + timedelta(minutes=i), company_name=f"Company {i % 7}", first_touch_source="linkedin")
    client = client_for(rep)
    url = f"{INBOX}?sort=company&source=linkedin"
    first_page = client.get(url)  # the pick lists are read once per process, then kept

    with CaptureQueriesContext(connection) as first:
        client.get(url)
    with CaptureQueriesContext(connection) as later:
        client.get(link(first_page, "after"))

    assert len(first) == len(later)


def test_a_reassigned_lead_leaves_the_score_sorted_inbox_for_the_new_reps(
    team: Team, rep: object, other_rep: object, manager: object, now: datetime
) -> None:
    MembershipFactory(team=team, user=other_rep)
    moved = services.assign_lead(lead=MQLFactory(score=80), team=team, rep=rep, now=now)
    services.reassign_lead(assignment=moved, now=now, by=manager, reason="Holiday", rep=other_rep)

    old_inbox = client_for(rep).get(f"{INBOX}?sort=-score")
    new_inbox = client_for(other_rep).get(f"{INBOX}?sort=-score")

    assert moved.lead_id not in lead_ids(old_inbox)
    assert lead_ids(new_inbox) == [moved.lead_id]


def test_a_cursor_made_for_another_sort_starts_from_the_first_page(team: Team, rep: object, now: datetime) -> None:
    made = [assign(team, now, score=score) for score in (10, 30)]
    stale = encode_cursor("sla_due_at", now, made[0].pk)

    response = client_for(rep).get(f"{INBOX}?sort=-score&after={stale}")

    assert lead_ids(response) == [made[1].lead_id, made[0].lead_id]


@pytest.mark.parametrize("value", [datetime(2026, 3, 2, 10, 0, tzinfo=None).astimezone(), 42, "Acre Analytics"])
def test_a_cursor_gives_back_its_value_and_id(value: object) -> None:
    cursor = encode_cursor("field", value, 7)  # type: ignore[arg-type]

    assert decode_cursor(cursor, field="field", key_type=type(value)) == (value, 7)  # type: ignore[arg-type]


@pytest.mark.parametrize("cursor", ["", "not-base64!", "WzEsMl0", encode_cursor("other", 3, 1)])
def test_a_cursor_that_is_not_ours_for_the_field_is_ignored(cursor: str) -> None:
    assert decode_cursor(cursor, field="field", key_type=int) is None


# --- The team queue's pulse ----------------------------------------------------------------------


def test_the_queue_pulse_changes_when_a_lead_is_assigned_in_the_team(
    team: Team, manager: object, now: datetime
) -> None:
    client = client_for(manager)
    before = client.get(QUEUE_PULSE).json()

    assign(team, now)
    after = client.get(QUEUE_PULSE).json()

    assert after["newest"] == before["newest"] + 1
    assert before["version"] != after["version"]


def test_the_queue_pulse_counts_breaches_and_changes_when_one_happens(
    team: Team, manager: object, now: datetime
) -> None:
    assign(team, now - timedelta(days=7))  # its 24 business hours ran out days ago
    later = assign(team, now)
    client = client_for(manager)
    with time_machine.travel(now, tick=False):
        before = client.get(QUEUE_PULSE).json()
    with time_machine.travel(later.sla_due_at + timedelta(minutes=1), tick=False):
        after = client.get(QUEUE_PULSE).json()

    assert (before["breached"], after["breached"]) == (1, 2)
    assert after["count"] == "2"
    assert before["version"] != after["version"]


def test_the_unassigned_pulse_changes_when_an_mql_arrives_and_when_one_is_assigned(
    team: Team, rep: object, manager: object, now: datetime
) -> None:
    client = client_for(manager)
    MQLFactory(stage_changed_at=now - timedelta(hours=2))
    before = client.get(QUEUE_PULSE, {"show": "unassigned"}).json()

    arrived = MQLFactory(stage_changed_at=now)
    after_arrival = client.get(QUEUE_PULSE, {"show": "unassigned"}).json()
    services.assign_lead(lead=arrived, team=team, now=now)
    after_assignment = client.get(QUEUE_PULSE, {"show": "unassigned"}).json()

    assert (before["count"], after_arrival["count"], after_assignment["count"]) == ("1", "2", "1")
    assert after_arrival["newest"] > before["newest"]
    assert before["version"] != after_arrival["version"] != after_assignment["version"]


def test_the_unassigned_tab_polls_its_own_pulse(manager: object) -> None:
    page = client_for(manager).get(reverse("handoff:team_queue"), {"show": "unassigned"}).content.decode()

    assert f'data-live-url="{QUEUE_PULSE}?show=unassigned"' in page


def test_the_unassigned_pulse_costs_the_same_queries_for_one_waiting_lead_or_many(manager: object) -> None:
    client = client_for(manager)
    MQLFactory()
    client.get(QUEUE_PULSE, {"show": "unassigned"})
    with CaptureQueriesContext(connection) as one:
        client.get(QUEUE_PULSE, {"show": "unassigned"})
    MQLFactory.create_batch(5)

    with CaptureQueriesContext(connection) as many:
        client.get(QUEUE_PULSE, {"show": "unassigned"})

    assert len(many) == len(one)


def test_the_queue_pulse_is_for_managers_only(rep: object) -> None:
    assert client_for(rep).get(QUEUE_PULSE).status_code == 403


def test_the_queue_pulse_costs_the_same_queries_for_one_team_or_many(
    team: Team, manager: object, now: datetime
) -> None:
    client = client_for(manager)
    client.get(QUEUE_PULSE)
    with CaptureQueriesContext(connection) as one_team:
        client.get(QUEUE_PULSE)
    for number in range(3):
        rep = UserFactory(username=f"extra-rep-{number}")
        assign(TeamFactory(slug=f"extra-{number}", members=[rep], managers=[manager]), now)

    with CaptureQueriesContext(connection) as many_teams:
        client.get(QUEUE_PULSE)

    assert len(many_teams) == len(one_team)
