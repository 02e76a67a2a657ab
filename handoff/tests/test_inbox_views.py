from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from handoff import services
from handoff.models import Assignment, ContactKind, Team
from handoff.selectors import time_ago
from handoff.tests.factories import ALWAYS_OPEN, MQLFactory, TeamFactory
from tests.personas import client_for

pytestmark = pytest.mark.django_db

INBOX = reverse("handoff:inbox")


def assign(team: Team, now: datetime, **lead_fields: object) -> Assignment:
    return services.assign_lead(lead=MQLFactory(**lead_fields), team=team, now=now)


def lead_ids(response: object) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-lead-id="(\d+)"', response.content.decode())]  # type: ignore[attr-defined]


def test_inbox_lists_the_reps_open_leads(assignment: Assignment, rep: object) -> None:
    response = client_for(rep).get(INBOX)

    assert response.status_code == 200
    assert lead_ids(response) == [assignment.lead_id]


def test_inbox_hides_other_reps_leads(team: Team, rep: object, other_rep: object, now: datetime) -> None:
    theirs = services.assign_lead(lead=MQLFactory(), team=TeamFactory(members=[other_rep]), now=now)
    MQLFactory(email="nobodys@acme.example")

    response = client_for(rep).get(INBOX)

    assert theirs.lead_id not in lead_ids(response)
    assert b"nobodys@acme.example" not in response.content


def _options(response: object, name: str) -> list[str]:
    select = re.search(rf'<select [^>]*name="{name}".*?</select>', response.content.decode(), re.S)  # type: ignore[attr-defined]
    assert select is not None
    return [value for value in re.findall(r'<option value="([^"]*)"', select.group(0)) if value]


def test_inbox_pick_lists_offer_only_the_sources_and_campaigns_of_the_reps_open_leads(
    team: Team, rep: object, other_rep: object, now: datetime
) -> None:
    assign(team, now, first_touch_source="linkedin", first_touch_campaign="spring")
    done = assign(team, now, first_touch_source="webinar", first_touch_campaign="summer")
    services.reject_lead(assignment=done, rep=rep, reason="Student", now=now)
    theirs = TeamFactory(members=[other_rep])
    services.assign_lead(
        lead=MQLFactory(first_touch_source="google", first_touch_campaign="autumn"), team=theirs, now=now
    )
    MQLFactory(first_touch_source="tradeshow", first_touch_campaign="winter")  # nobody's yet
    client_for(other_rep).get(INBOX)  # another rep's lists, read first, are theirs alone

    response = client_for(rep).get(INBOX)

    assert (_options(response, "source"), _options(response, "campaign")) == (["linkedin"], ["spring"])


def test_inbox_escapes_what_the_lead_typed(team: Team, rep: object, now: datetime) -> None:
    assign(team, now, first_name="<script>alert(1)</script>", company_name='Acme" onmouseover="x')

    content = client_for(rep).get(INBOX).content.decode()

    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    assert "Acme&quot; onmouseover=&quot;x" in content


def test_inbox_orders_leads_by_sla_urgency(team: Team, rep: object, now: datetime) -> None:
    later = assign(team, now)
    sooner = assign(team, now - timedelta(hours=3))

    response = client_for(rep).get(INBOX)

    assert lead_ids(response) == [sooner.lead_id, later.lead_id]


def test_inbox_hides_closed_assignments(assignment: Assignment, rep: object, now: datetime) -> None:
    services.log_contact(assignment=assignment, rep=rep, kind=ContactKind.CALL, note="", now=now)
    services.qualify_lead(assignment=assignment, rep=rep, bant=services.BANT("b", "a", "n", "t"), now=now)

    response = client_for(rep).get(f"{INBOX}?show=contacted")

    assert lead_ids(response) == []


def test_contacted_leads_move_to_their_own_tab(assignment: Assignment, rep: object, now: datetime) -> None:
    services.log_contact(assignment=assignment, rep=rep, kind=ContactKind.CALL, note="", now=now)

    awaiting = client_for(rep).get(INBOX)
    contacted = client_for(rep).get(f"{INBOX}?show=contacted")

    assert (lead_ids(awaiting), lead_ids(contacted)) == ([], [assignment.lead_id])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("min_score=50", ["hot"]),
        ("max_score=49", ["cold"]),
        ("source=LinkedIn", ["hot"]),
        ("q=cobalt", ["cold"]),
        ("q=hot%40", ["hot"]),
        ("stage=mql", ["hot", "cold"]),
        ("stage=sql", []),
    ],
)
def test_inbox_filters(team: Team, rep: object, now: datetime, query: str, expected: list[str]) -> None:
    leads = {
        "hot": assign(
            team, now - timedelta(hours=1), email="hot@acme.example", score=80, first_touch_source="linkedin"
        ),
        "cold": assign(team, now, email="cold@cobalt.example", company_name="Cobalt Health", score=10),
    }

    response = client_for(rep).get(f"{INBOX}?{query}")

    assert lead_ids(response) == [leads[name].lead_id for name in expected]


def test_inbox_ignores_filters_it_cannot_read(assignment: Assignment, rep: object) -> None:
    response = client_for(rep).get(f"{INBOX}?min_score=lots&stage=nonsense&after=garbage")

    assert response.status_code == 200
    assert lead_ids(response) == [assignment.lead_id]


def test_inbox_pages_forward_and_back_with_cursors(team: Team, rep: object, now: datetime) -> None:
    assigned = [assign(team, now + timedelta(minutes=minute)) for minute in range(52)]
    client = client_for(rep)

    first = client.get(INBOX)
    next_url = re.search(r'href="\?([^"]*after=[^"]+)"', first.content.decode()).group(1).replace("&amp;", "&")  # type: ignore[union-attr]
    second = client.get(f"{INBOX}?{next_url}")
    previous_url = re.search(r'href="\?([^"]*before=[^"]+)"', second.content.decode()).group(1).replace("&amp;", "&")  # type: ignore[union-attr]
    back = client.get(f"{INBOX}?{previous_url}")

    assert lead_ids(first) == [a.lead_id for a in assigned[:50]]
    assert lead_ids(second) == [a.lead_id for a in assigned[50:]]
    assert lead_ids(back) == lead_ids(first)


def test_inbox_runs_the_same_number_of_queries_for_one_lead_or_many(team: Team, rep: object, now: datetime) -> None:
    other_team = TeamFactory(members=[rep])
    assign(team, now)
    client = client_for(rep)
    client.get(INBOX)  # the source and campaign pick lists are read once, then kept for minutes
    with CaptureQueriesContext(connection) as one_row:
        client.get(INBOX)
    for minute in range(20):
        assign(team if minute % 2 else other_team, now + timedelta(minutes=minute))

    with CaptureQueriesContext(connection) as many_rows:
        client.get(INBOX)

    assert len(many_rows) == len(one_row)


def test_inbox_renders_each_countdown_with_its_business_seconds_left(
    assignment: Assignment, rep: object, now: datetime
) -> None:
    with time_machine.travel(now + timedelta(hours=1), tick=False):
        response = client_for(rep).get(INBOX)

    html = response.content.decode()
    assert 'data-sla-balance="82800"' in html  # 24 business hours less the one that has passed
    assert "due in 23h 00m 00s" in html
    assert f'data-sla-team="{assignment.team_id}"' in html


def test_inbox_team_queue_and_lead_page_draw_the_same_countdown(
    assignment: Assignment, rep: object, manager: object, now: datetime
) -> None:
    with time_machine.travel(now + timedelta(hours=1), tick=False):
        pages = [
            client_for(rep).get(INBOX),
            client_for(rep).get(reverse("handoff:lead", args=[assignment.lead_id])),
            client_for(manager).get(f"{reverse('handoff:team_queue')}?show=open"),
        ]

    clocks = [re.findall(r'<span class="sla-clock .*?</span>', page.content.decode()) for page in pages]
    assert clocks[0] == clocks[1] == clocks[2]
    assert len(clocks[0]) == 1 and "due in 23h 00m 00s" in clocks[0][0]


def test_inbox_sends_the_teams_opening_windows_for_the_browser_to_count(
    assignment: Assignment, rep: object, now: datetime
) -> None:
    with time_machine.travel(now, tick=False):
        response = client_for(rep).get(INBOX)

    windows = json.loads(re.search(r'id="sla-windows"[^>]*>(.*?)</script>', response.content.decode()).group(1))  # type: ignore[union-attr]
    monday_close = int((now + timedelta(hours=7)).timestamp() * 1000)
    tuesday_open = int((now + timedelta(hours=23)).timestamp() * 1000)
    assert windows[str(assignment.team_id)][:2] == [
        [int(now.timestamp() * 1000), monday_close],
        [tuesday_open, tuesday_open + 8 * 3600 * 1000],
    ]


def test_inbox_shows_a_paused_clock_outside_business_hours(assignment: Assignment, rep: object, now: datetime) -> None:
    monday_evening = now + timedelta(hours=8)

    with time_machine.travel(monday_evening, tick=False):
        response = client_for(rep).get(INBOX)

    assert "paused — outside business hours · 17h 00m 00s left" in response.content.decode()


def test_inbox_shows_how_long_ago_a_breach_was(assignment: Assignment, rep: object, now: datetime) -> None:
    two_hours_late = assignment.sla_due_at + timedelta(hours=2)

    with time_machine.travel(two_hours_late, tick=False):
        response = client_for(rep).get(INBOX)

    assert "breached 2h 00m ago in business hours" in response.content.decode()


def test_inbox_links_managers_to_the_team_queue(manager: object) -> None:
    response = client_for(manager).get(INBOX)

    assert reverse("handoff:team_queue").encode() in response.content


def test_inbox_loads_the_countdown_script_from_our_origin(rep: object) -> None:
    TeamFactory(members=[rep], hours=ALWAYS_OPEN)

    response = client_for(rep).get(INBOX)

    assert b'src="/static/js/handoff/countdown.js"' in response.content
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_inbox_sends_anonymous_visitors_to_sign_in() -> None:
    response = Client().get(INBOX)

    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_inbox_rejects_post(rep: object) -> None:
    response = client_for(rep).post(INBOX)

    assert response.status_code == 405


def test_inbox_is_forbidden_to_marketers(marketer: object) -> None:
    response = client_for(marketer).get(INBOX)

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("elapsed", "expected"),
    [
        (timedelta(seconds=30), "just now"),
        (timedelta(minutes=5), "5 min ago"),
        (timedelta(hours=3, minutes=59), "3 h ago"),
        (timedelta(hours=47), "47 h ago"),
        (timedelta(days=6, hours=2), "6 days ago"),
    ],
)
def test_time_ago(elapsed: timedelta, expected: str) -> None:
    assert time_ago(elapsed) == expected
