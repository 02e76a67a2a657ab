"""Handoff's part of a data subject request: the reps' notes in an export, and scrubbed on erasure.

The whole request (every app, in one transaction): integrations/tests/test_privacy.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core import mail

from handoff import services
from handoff.models import (
    Assignment,
    AssignmentOutcome,
    AssignmentState,
    ContactKind,
    Notification,
    NotificationKind,
    QualificationNotes,
)
from leads.models import Lead

pytestmark = pytest.mark.django_db

BANT = services.BANT(
    budget="Ada has 50k left this year", authority="Ada signs", need="Her team drowns in leads", timing="Q3"
)


def erase(lead: Lead, now: datetime) -> None:
    services.erase_lead_personal_data(lead_id=lead.pk, now=now)


@pytest.fixture
def contacted(assignment: Assignment, rep: object, now: datetime) -> Assignment:
    """``assignment`` after the rep called the lead and wrote a note about the person."""
    services.log_contact(assignment=assignment, rep=rep, kind=ContactKind.CALL, note="Ada is on leave in May", now=now)
    return assignment


def test_export_holds_the_reps_contact_notes(contacted: Assignment) -> None:
    data = services.lead_personal_data(lead=contacted.lead)

    [assignment] = data["handoff"]["assignments"]
    assert [(c["kind"], c["note"]) for c in assignment["contacts"]] == [("call", "Ada is on leave in May")]
    assert assignment["team"] == "London"


def test_export_holds_the_qualification_notes_and_the_emails_about_the_lead(
    contacted: Assignment, rep: object, now: datetime
) -> None:
    services.qualify_lead(assignment=contacted, rep=rep, bant=BANT, now=now)

    [assignment] = services.lead_personal_data(lead=contacted.lead)["handoff"]["assignments"]

    assert assignment["qualification"]["budget"] == "Ada has 50k left this year"
    assert [n["kind"] for n in assignment["notifications"]] == [NotificationKind.ASSIGNED]
    assert str(contacted.lead) in assignment["notifications"][0]["subject"]


def test_erase_blanks_the_contact_notes_and_the_bant_notes(contacted: Assignment, rep: object, now: datetime) -> None:
    services.qualify_lead(assignment=contacted, rep=rep, bant=BANT, now=now)

    erase(contacted.lead, now + timedelta(days=1))

    assert list(contacted.contacts.values_list("note", flat=True)) == [""]
    notes = QualificationNotes.objects.get(assignment=contacted)
    assert (notes.budget, notes.authority, notes.need, notes.timing) == ("", "", "", "")


def test_erase_blanks_the_notification_emails(contacted: Assignment, now: datetime) -> None:
    erase(contacted.lead, now + timedelta(days=1))

    assert list(Notification.objects.values_list("subject", "body")) == [("Personal data erased", "")]


def test_an_email_not_sent_before_the_erasure_is_never_sent(
    assignment: Assignment, manager: object, now: datetime
) -> None:
    unsent = services.queue_notification(
        kind=NotificationKind.BREACH, assignment=assignment, recipients=[manager], now=now
    )
    assert unsent is not None

    erase(assignment.lead, now + timedelta(days=1))
    services.deliver_notification(notification_id=unsent.pk, now=now + timedelta(days=1))

    assert mail.outbox == []


def test_erase_ends_the_open_assignment_stops_its_clock_and_frees_the_rep(contacted: Assignment, now: datetime) -> None:
    later = now + timedelta(days=1)

    erase(contacted.lead, later)

    contacted.refresh_from_db()
    assert (contacted.ended_at, contacted.outcome, contacted.state) == (
        later,
        AssignmentOutcome.REJECTED,
        AssignmentState.CONTACTED,
    )
    lead = Lead.objects.get(pk=contacted.lead_id)
    assert lead.owner_id is None


def test_erase_stops_the_sla_clock_of_a_lead_not_contacted_yet(assignment: Assignment, now: datetime) -> None:
    later = now + timedelta(hours=1)

    erase(assignment.lead, later)

    assignment.sla.refresh_from_db()
    assert (assignment.sla.stopped_at, assignment.sla.met_at) == (later, None)


def test_erase_keeps_the_assignment_times_the_sla_reports_count(contacted: Assignment, now: datetime) -> None:
    erase(contacted.lead, now + timedelta(days=1))

    contacted.refresh_from_db()
    assert (contacted.assigned_at, contacted.contacted_at, contacted.sla.met_at) == (now, now, now)


def test_erasing_twice_ends_nothing_more(contacted: Assignment, now: datetime) -> None:
    erase(contacted.lead, now + timedelta(days=1))

    erase(contacted.lead, now + timedelta(days=2))

    contacted.refresh_from_db()
    assert contacted.ended_at == now + timedelta(days=1)
