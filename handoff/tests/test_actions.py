from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from handoff import services
from handoff.models import (
    Assignment,
    AssignmentOutcome,
    AssignmentState,
    ContactKind,
    ContactLog,
    QualificationNotes,
    SLARecord,
    Team,
)
from handoff.tests.factories import MembershipFactory
from leads.models import Lead, Stage, StageChange

pytestmark = pytest.mark.django_db

BANT = services.BANT(budget="€50k approved", authority="CMO decides", need="Lead routing", timing="Q3")


def contacted(assignment: Assignment, rep: object, now: datetime) -> Assignment:
    services.log_contact(assignment=assignment, rep=rep, kind=ContactKind.CALL, note="Intro call", now=now)
    return assignment


def test_accept_moves_the_assignment_to_accepted(assignment: Assignment, rep: object, now: datetime) -> None:
    services.accept_assignment(assignment=assignment, rep=rep, now=now + timedelta(minutes=5))

    stored = Assignment.objects.get(pk=assignment.pk)
    assert (stored.state, stored.accepted_at) == (AssignmentState.ACCEPTED, now + timedelta(minutes=5))


def test_accept_twice_is_refused_with_a_clear_message(assignment: Assignment, rep: object, now: datetime) -> None:
    services.accept_assignment(assignment=assignment, rep=rep, now=now)

    with pytest.raises(services.AssignmentConflictError, match="already accepted"):
        services.accept_assignment(assignment=assignment, rep=rep, now=now)


def test_log_contact_records_the_contact(assignment: Assignment, rep: object, now: datetime) -> None:
    services.log_contact(assignment=assignment, rep=rep, kind=ContactKind.MEETING, note="Demo booked", now=now)

    contact = ContactLog.objects.get(assignment=assignment)
    assert (contact.kind, contact.note, contact.rep, contact.contacted_at) == ("meeting", "Demo booked", rep, now)


def test_the_first_contact_accepts_the_lead_and_meets_the_sla(
    assignment: Assignment, rep: object, now: datetime
) -> None:
    contacted(assignment, rep, now + timedelta(hours=1))

    stored = Assignment.objects.get(pk=assignment.pk)
    assert (stored.state, stored.accepted_at, stored.contacted_at) == ("contacted", *[now + timedelta(hours=1)] * 2)
    assert SLARecord.objects.get(assignment=assignment).met_at == now + timedelta(hours=1)


def test_a_later_contact_keeps_the_first_contact_time(assignment: Assignment, rep: object, now: datetime) -> None:
    contacted(assignment, rep, now + timedelta(hours=1))

    contacted(assignment, rep, now + timedelta(hours=5))

    stored = Assignment.objects.get(pk=assignment.pk)
    assert stored.contacted_at == now + timedelta(hours=1)
    assert SLARecord.objects.get(assignment=assignment).met_at == now + timedelta(hours=1)
    assert ContactLog.objects.filter(assignment=assignment).count() == 2


def test_qualify_makes_the_lead_an_sql_with_bant_notes(assignment: Assignment, rep: object, now: datetime) -> None:
    contacted(assignment, rep, now)

    services.qualify_lead(assignment=assignment, rep=rep, bant=BANT, now=now + timedelta(hours=1))

    lead = Lead.objects.get(pk=assignment.lead_id)
    notes = QualificationNotes.objects.get(assignment=assignment)
    assert (lead.stage, lead.owner) == (Stage.SQL, rep)
    assert (notes.budget, notes.authority, notes.need, notes.timing) == (
        "€50k approved",
        "CMO decides",
        "Lead routing",
        "Q3",
    )
    assert Assignment.objects.get(pk=assignment.pk).outcome == AssignmentOutcome.QUALIFIED


def test_qualify_records_the_stage_change_by_the_rep(assignment: Assignment, rep: object, now: datetime) -> None:
    contacted(assignment, rep, now)

    services.qualify_lead(assignment=assignment, rep=rep, bant=BANT, now=now)

    change = StageChange.objects.get(lead=assignment.lead, to_stage=Stage.SQL)
    assert (change.from_stage, change.changed_by) == (Stage.MQL, rep)


def test_qualify_before_any_contact_is_refused(assignment: Assignment, rep: object, now: datetime) -> None:
    with pytest.raises(services.ActionNotAllowedError, match="Log a contact"):
        services.qualify_lead(assignment=assignment, rep=rep, bant=BANT, now=now)

    assert Lead.objects.get(pk=assignment.lead_id).stage == Stage.MQL


def test_reject_sends_the_lead_back_to_marketing(assignment: Assignment, rep: object, now: datetime) -> None:
    services.reject_lead(assignment=assignment, rep=rep, reason="Student project", now=now)

    lead = Lead.objects.get(pk=assignment.lead_id)
    assert (lead.stage, lead.owner) == (Stage.REJECTED, None)
    assert StageChange.objects.get(lead=lead, to_stage=Stage.REJECTED).reason == "Student project"
    assert Assignment.objects.get(pk=assignment.pk).outcome == AssignmentOutcome.REJECTED


def test_reject_before_contact_stops_the_sla_clock(assignment: Assignment, rep: object, now: datetime) -> None:
    services.reject_lead(assignment=assignment, rep=rep, reason="Spam", now=now)

    sla = SLARecord.objects.get(assignment=assignment)
    assert (sla.stopped_at, sla.met_at) == (now, None)


def test_recycle_returns_the_lead_to_nurture_until_a_date(assignment: Assignment, rep: object, now: datetime) -> None:
    services.recycle_lead(assignment=assignment, rep=rep, recycle_on=date(2026, 9, 1), reason="Budget in Q4", now=now)

    lead = Lead.objects.get(pk=assignment.lead_id)
    stored = Assignment.objects.get(pk=assignment.pk)
    assert (lead.stage, lead.owner) == (Stage.NURTURE, None)
    assert (stored.outcome, stored.recycle_on) == (AssignmentOutcome.RECYCLED, date(2026, 9, 1))
    assert (
        "Recycled until 2026-09-01: Budget in Q4" in StageChange.objects.get(lead=lead, to_stage=Stage.NURTURE).reason
    )


def test_recycle_refuses_a_day_that_has_already_begun_in_the_teams_timezone(
    assignment: Assignment, rep: object
) -> None:
    # Tuesday 3 March, 02:00 in London (the team's): still Monday evening for a rep in Los Angeles.
    at = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)

    with pytest.raises(services.ActionNotAllowedError, match="has already begun"):
        services.recycle_lead(assignment=assignment, rep=rep, recycle_on=date(2026, 3, 3), reason="", now=at)

    assert Assignment.objects.get(pk=assignment.pk).is_open


def test_of_two_qualifications_at_once_exactly_one_wins(assignment: Assignment, rep: object, now: datetime) -> None:
    contacted(assignment, rep, now)
    first_tab, second_tab = (Assignment.objects.get(pk=assignment.pk) for _ in range(2))
    services.qualify_lead(assignment=first_tab, rep=rep, bant=BANT, now=now)

    with pytest.raises(services.AssignmentConflictError, match="already qualified as an SQL"):
        services.qualify_lead(assignment=second_tab, rep=rep, bant=BANT, now=now)

    assert QualificationNotes.objects.count() == 1
    assert StageChange.objects.filter(to_stage=Stage.SQL).count() == 1


def test_acting_on_a_lead_reassigned_meanwhile_names_the_new_rep(
    assignment: Assignment, team: Team, rep: object, other_rep: object, manager: object, now: datetime
) -> None:
    MembershipFactory(team=team, user=other_rep)
    other_rep.first_name, other_rep.last_name = "Robin", "Rep"  # type: ignore[attr-defined]
    other_rep.save()  # type: ignore[attr-defined]
    services.reassign_lead(assignment=assignment, now=now, by=manager, reason="Cover", rep=other_rep)

    with pytest.raises(services.AssignmentConflictError, match="reassigned to Robin Rep"):
        services.log_contact(assignment=assignment, rep=rep, kind=ContactKind.CALL, note="", now=now)

    assert not ContactLog.objects.exists()


def test_a_stage_changed_elsewhere_rolls_the_action_back(assignment: Assignment, rep: object, now: datetime) -> None:
    contacted(assignment, rep, now)
    Lead.objects.filter(pk=assignment.lead_id).update(stage=Stage.DISQUALIFIED)  # a marketer, a moment ago

    with pytest.raises(services.AssignmentConflictError):
        services.qualify_lead(assignment=assignment, rep=rep, bant=BANT, now=now)

    assert Assignment.objects.get(pk=assignment.pk).is_open
    assert not QualificationNotes.objects.exists()
