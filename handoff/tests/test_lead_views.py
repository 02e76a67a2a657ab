from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from handoff import forms, services
from handoff.models import Assignment, AssignmentState, ContactKind, SLARecord, Team
from handoff.tests.factories import MembershipFactory, MQLFactory
from leads.models import Lead, Stage, StageChange, Touch
from leads.tests.factories import ActivityFactory, ConsentFactory
from tests.personas import client_for

pytestmark = pytest.mark.django_db

BANT_POST = {
    "qualify-budget": "Budget approved",
    "qualify-authority": "Head of Sales signs",
    "qualify-need": "Faster follow-up",
    "qualify-timing": "This quarter",
}


def lead_url(assignment: Assignment, name: str = "lead") -> str:
    return reverse(f"handoff:{name}", args=[assignment.lead_id])


def messages_of(response: object) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]  # type: ignore[attr-defined]


# --- The page ------------------------------------------------------------------------------------


def test_lead_page_shows_enrichment_and_score_breakdown(assignment: Assignment, rep: object) -> None:
    Lead.objects.filter(pk=assignment.lead_id).update(
        industry="Biotech",
        size_band="Enterprise",
        employee_count=900,
        score=72,
        score_breakdown=[{"name": "Senior title", "points": 20, "reason": "VP Marketing"}],
    )

    response = client_for(rep).get(lead_url(assignment))

    html = response.content.decode()
    assert response.status_code == 200
    assert all(
        text in html for text in ("Biotech", "Enterprise", "900 employees", "Senior title", "+20", "VP Marketing")
    )


def test_lead_page_shows_first_touch_activities_consents_and_stage_history(
    assignment: Assignment, rep: object, now: datetime
) -> None:
    lead = assignment.lead
    Touch.objects.create(lead=lead, occurred_at=now, source="b2b-growth-podcast", medium="podcast", campaign="ep-42")
    ActivityFactory(lead=lead)
    ConsentFactory(lead=lead, text="You may call me about Leadsite.")
    StageChange.objects.create(lead=lead, from_stage=Stage.NEW, to_stage=Stage.MQL, changed_at=now, reason="Scored 72")

    response = client_for(rep).get(lead_url(assignment))

    html = response.content.decode()
    assert all(
        text in html for text in ("b2b-growth-podcast", "ep-42", "Webinar attended", "You may call me", "Scored 72")
    )


def test_lead_page_shows_the_live_sla_clock(assignment: Assignment, rep: object, now: datetime) -> None:
    with time_machine.travel(now + timedelta(minutes=30), tick=False):
        response = client_for(rep).get(lead_url(assignment))

    assert "due in 23h 30m 00s" in response.content.decode()
    assert b"js/handoff/countdown.js" in response.content


def test_lead_page_runs_a_fixed_number_of_queries(assignment: Assignment, rep: object, now: datetime) -> None:
    client = client_for(rep)
    with CaptureQueriesContext(connection) as before:
        client.get(lead_url(assignment))
    for minute in range(5):
        Touch.objects.create(lead=assignment.lead, occurred_at=now + timedelta(minutes=minute), source="google")
        ActivityFactory(lead=assignment.lead)
        ConsentFactory(lead=assignment.lead)
        services.log_contact(assignment=assignment, rep=rep, kind=ContactKind.EMAIL, note="", now=now)

    with CaptureQueriesContext(connection) as after:
        client.get(lead_url(assignment))

    assert len(after) == len(before)


def test_the_rep_sees_the_actions_and_a_manager_does_not(assignment: Assignment, rep: object, manager: object) -> None:
    as_rep = client_for(rep).get(lead_url(assignment))
    as_manager = client_for(manager).get(lead_url(assignment))

    assert b'data-testid="lead-actions"' in as_rep.content
    assert b'data-testid="lead-actions"' not in as_manager.content
    assert b'data-testid="manager-actions"' in as_manager.content


# --- The rep's actions ---------------------------------------------------------------------------


def test_accept(assignment: Assignment, rep: object) -> None:
    response = client_for(rep).post(lead_url(assignment, "accept"))

    assert response.status_code == 302
    assert Assignment.objects.get(pk=assignment.pk).state == AssignmentState.ACCEPTED


def test_log_contact_meets_the_sla_and_says_so(assignment: Assignment, rep: object) -> None:
    response = client_for(rep).post(
        lead_url(assignment, "contact"), {"contact-kind": "call", "contact-note": "Left VM"}
    )

    assert response["Location"] == lead_url(assignment)
    assert SLARecord.objects.get(assignment=assignment).met_at is not None
    assert messages_of(response) == ["Call with Ada Lovelace logged. The SLA is met."]


def test_log_contact_with_an_unknown_kind_is_refused(assignment: Assignment, rep: object) -> None:
    response = client_for(rep).post(lead_url(assignment, "contact"), {"contact-kind": "fax"})

    assert response.status_code == 400
    assert not assignment.contacts.exists()


def test_qualify_after_a_call_makes_an_sql(assignment: Assignment, rep: object) -> None:
    client = client_for(rep)
    client.post(lead_url(assignment, "contact"), {"contact-kind": "call"})

    response = client.post(lead_url(assignment, "qualify"), BANT_POST)

    assert response.status_code == 302
    assert Lead.objects.get(pk=assignment.lead_id).stage == Stage.SQL


def test_qualify_without_bant_is_refused(assignment: Assignment, rep: object, now: datetime) -> None:
    services.log_contact(assignment=assignment, rep=rep, kind=ContactKind.CALL, note="", now=now)

    response = client_for(rep).post(lead_url(assignment, "qualify"), {"qualify-budget": "Yes"})

    assert response.status_code == 400
    assert b"This field is required" in response.content
    assert Lead.objects.get(pk=assignment.lead_id).stage == Stage.MQL


def test_qualify_before_contact_explains_what_to_do(assignment: Assignment, rep: object) -> None:
    response = client_for(rep).post(lead_url(assignment, "qualify"), BANT_POST)

    assert response["Location"] == lead_url(assignment)
    assert messages_of(response) == ["Log a contact with Ada Lovelace before qualifying."]


def test_reject_needs_a_reason(assignment: Assignment, rep: object) -> None:
    response = client_for(rep).post(lead_url(assignment, "reject"), {"reject-reason": ""})

    assert response.status_code == 400
    assert Assignment.objects.get(pk=assignment.pk).is_open


def test_reject_returns_to_the_inbox(assignment: Assignment, rep: object) -> None:
    response = client_for(rep).post(lead_url(assignment, "reject"), {"reject-reason": "Competitor"})

    assert response["Location"] == reverse("handoff:inbox")
    assert Lead.objects.get(pk=assignment.lead_id).stage == Stage.REJECTED


def test_recycle_needs_a_future_date(assignment: Assignment, rep: object, now: datetime) -> None:
    with time_machine.travel(now, tick=False):
        response = client_for(rep).post(lead_url(assignment, "recycle"), {"recycle-recycle_on": "2026-03-02"})

    assert response.status_code == 400
    assert b"Pick a day after today" in response.content


def test_recycle_form_offers_no_day_before_tomorrow_whichever_day_it_was_built_on_before() -> None:
    forms.RecycleForm(action="/recycle/", today=date(2026, 3, 2)).fields_html()

    html = forms.RecycleForm(action="/recycle/", today=date(2026, 3, 3)).fields_html()

    assert 'min="2026-03-04"' in html


def test_recycle_date_on_the_lead_page_starts_after_today_in_the_teams_timezone(
    assignment: Assignment, team: Team, rep: object
) -> None:
    Team.objects.filter(pk=team.pk).update(timezone="Pacific/Auckland")

    # Monday 23:30 in UTC is Tuesday 12:30 in Auckland (NZDT): the earliest day the server takes is Wednesday.
    with time_machine.travel(datetime(2026, 3, 2, 23, 30, tzinfo=UTC), tick=False):
        html = client_for(rep).get(lead_url(assignment)).content.decode()

    assert re.search(r'<input type="date" name="recycle-recycle_on"[^>]* min="2026-03-04"', html)


def test_recycle_to_nurture(assignment: Assignment, rep: object, now: datetime) -> None:
    with time_machine.travel(now, tick=False):
        response = client_for(rep).post(lead_url(assignment, "recycle"), {"recycle-recycle_on": "2026-06-01"})

    assert response.status_code == 302
    assert Lead.objects.get(pk=assignment.lead_id).stage == Stage.NURTURE


def test_a_rep_acting_on_a_lead_just_reassigned_gets_a_clear_message(
    assignment: Assignment, team: Team, rep: object, other_rep: object, manager: object, now: datetime
) -> None:
    MembershipFactory(team=team, user=other_rep)
    services.reassign_lead(assignment=assignment, now=now, by=manager, reason="Cover", rep=other_rep)

    response = client_for(rep).post(lead_url(assignment, "contact"), {"contact-kind": "call"})

    assert response["Location"] == reverse("handoff:inbox")
    assert messages_of(response) == ["Ada Lovelace was reassigned to rep2; it is no longer yours."]


def test_the_second_of_two_tabs_qualifying_gets_a_clear_message(assignment: Assignment, rep: object) -> None:
    first_tab, second_tab = client_for(rep), client_for(rep)
    first_tab.post(lead_url(assignment, "contact"), {"contact-kind": "call"})
    first_tab.post(lead_url(assignment, "qualify"), BANT_POST)

    response = second_tab.post(lead_url(assignment, "qualify"), BANT_POST)

    assert messages_of(response) == ["Ada Lovelace was already qualified as an SQL."]


# --- The manager's actions -----------------------------------------------------------------------


def test_a_manager_reassigns_with_a_reason(
    assignment: Assignment, team: Team, other_rep: object, manager: object
) -> None:
    membership = MembershipFactory(team=team, user=other_rep)

    response = client_for(manager).post(
        lead_url(assignment, "reassign"), {"reassign-to": f"rep:{membership.pk}", "reassign-reason": "Rep on leave"}
    )

    successor = Assignment.objects.open().get(lead=assignment.lead)
    assert response.status_code == 302
    assert (successor.rep, successor.reason, successor.assigned_by) == (other_rep, "Rep on leave", manager)


def test_a_manager_must_give_a_reason_to_reassign(assignment: Assignment, team: Team, manager: object) -> None:
    response = client_for(manager).post(lead_url(assignment, "reassign"), {"reassign-to": f"team:{team.pk}"})

    assert response.status_code == 400
    assert Assignment.objects.get(pk=assignment.pk).is_open


def test_a_manager_assigns_an_unassigned_mql(team: Team, rep: object, manager: object) -> None:
    lead = MQLFactory()

    response = client_for(manager).post(reverse("handoff:assign", args=[lead.pk]), {"assign-to": f"team:{team.pk}"})

    assert response.status_code == 302
    assert Lead.objects.get(pk=lead.pk).owner == rep
