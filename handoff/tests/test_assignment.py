from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core import mail

from handoff import services
from handoff.models import Assignment, AssignmentOutcome, BreachAction, Membership, SLARecord, Team
from handoff.selectors import team_calendar
from handoff.tests.factories import MembershipFactory, MQLFactory, RepFactory, SLAPolicyFactory, TeamFactory, route
from leads.models import ConsentStatus, Lead, Stage
from leads.services import change_stage, withdraw_consents
from leads.tests.factories import ConsentFactory

pytestmark = pytest.mark.django_db


def assign_many(team: Team, count: int, now: datetime) -> Counter[str]:
    leads = Lead.objects.bulk_create(MQLFactory.build() for _ in range(count))
    return Counter(services.assign_lead(lead=lead, team=team, now=now).rep.username for lead in leads)


# --- Who gets the lead ---------------------------------------------------------------------------


def test_assign_lead_sets_the_owner(assignment: Assignment, rep: object) -> None:
    lead = Lead.objects.get(pk=assignment.lead_id)

    assert lead.owner == rep
    assert assignment.rep == rep


def test_assign_lead_sets_sla_due_at_in_business_hours(team: Team) -> None:
    friday_afternoon = datetime(2026, 3, 6, 15, tzinfo=UTC)  # 15:00 in London, two hours before closing

    assignment = services.assign_lead(lead=MQLFactory(), team=team, now=friday_afternoon)

    # 24 business hours: 2 on Friday, 8 each on Monday and Tuesday, 6 on Wednesday.
    assert assignment.sla.due_at == datetime(2026, 3, 11, 15, tzinfo=UTC)
    assert assignment.sla_due_at == assignment.sla.due_at


def test_assign_lead_sets_the_reminder_at_its_share_of_the_target(team: Team, now: datetime) -> None:
    SLAPolicyFactory(target_duration=timedelta(hours=8), reminder_percent=75)

    assignment = services.assign_lead(lead=MQLFactory(), team=team, now=now)

    assert assignment.sla.remind_at == now + timedelta(hours=6)
    assert assignment.sla.due_at == datetime(2026, 3, 3, 10, tzinfo=UTC)


def test_assign_lead_records_who_and_why(team: Team, manager: object, rep: object, now: datetime) -> None:
    assignment = services.assign_lead(
        lead=MQLFactory(), team=team, now=now, by=manager, reason="Speaks German", rep=rep
    )

    stored = Assignment.objects.get(pk=assignment.pk)
    assert (stored.assigned_by, stored.reason, stored.assigned_at, stored.state) == (
        manager,
        "Speaks German",
        now,
        "assigned",
    )


def test_assign_lead_refuses_a_lead_that_is_already_assigned(assignment: Assignment, team: Team, now: datetime) -> None:
    with pytest.raises(services.AlreadyAssignedError):
        services.assign_lead(lead=assignment.lead, team=team, now=now)


def test_assign_lead_without_an_available_rep_raises(now: datetime) -> None:
    empty_team = TeamFactory()

    with pytest.raises(services.NoEligibleRepError):
        services.assign_lead(lead=MQLFactory(), team=empty_team, now=now)


def test_assign_lead_refuses_a_lead_whose_consent_was_withdrawn(team: Team, now: datetime) -> None:
    lead = MQLFactory()
    ConsentFactory(lead=lead, withdrawn_at=now - timedelta(hours=1))

    with pytest.raises(services.NoUsableConsentError):
        services.assign_lead(lead=lead, team=team, now=now)
    assert not Assignment.objects.filter(lead=lead).exists()


def test_each_assignment_takes_the_teams_next_turn(team: Team, now: datetime) -> None:
    assign_many(team, 3, now)

    assert list(Assignment.objects.filter(team=team).order_by("turn").values_list("turn", flat=True)) == [1, 2, 3]


def test_rotation_is_fair_to_capacity_weights_over_1000_assignments(now: datetime) -> None:
    team = TeamFactory()
    weights = {"light": 1, "medium": 2, "heavy": 3, "heaviest": 4}
    for username, weight in weights.items():
        MembershipFactory(team=team, user=RepFactory(username=username), capacity_weight=weight)

    counts = assign_many(team, 1000, now)

    for username, weight in weights.items():
        expected_share = weight / sum(weights.values())
        assert abs(counts[username] / 1000 - expected_share) <= 0.01, (username, counts)


def test_rotation_interleaves_reps_rather_than_batching_them(now: datetime) -> None:
    team = TeamFactory()
    for username in ("ann", "bob"):
        MembershipFactory(team=team, user=RepFactory(username=username))
    leads = Lead.objects.bulk_create(MQLFactory.build() for _ in range(4))

    order = [services.assign_lead(lead=lead, team=team, now=now).rep.username for lead in leads]

    assert order == ["ann", "bob", "ann", "bob"]


def test_rotation_skips_a_rep_who_is_out_of_office(now: datetime) -> None:
    team = TeamFactory()
    MembershipFactory(team=team, user=RepFactory(username="away"), out_of_office_from=date(2026, 3, 1))
    MembershipFactory(team=team, user=RepFactory(username="here"))

    counts = assign_many(team, 4, now)

    assert counts == {"here": 4}


def test_rotation_includes_a_rep_whose_time_off_is_over(now: datetime) -> None:
    team = TeamFactory()
    MembershipFactory(
        team=team,
        user=RepFactory(username="back"),
        out_of_office_from=date(2026, 2, 20),
        out_of_office_until=date(2026, 3, 1),
    )
    MembershipFactory(team=team, user=RepFactory(username="here"))

    counts = assign_many(team, 4, now)

    assert counts == {"back": 2, "here": 2}


def test_out_of_office_uses_the_teams_local_date(rep: object) -> None:
    team = TeamFactory(timezone="Asia/Tokyo", members=[rep])
    MembershipFactory(team=team, user=RepFactory(username="covering"))
    Membership.objects.filter(user=rep).update(out_of_office_from=date(2026, 3, 3))
    # 16:00 UTC on Monday is already Tuesday 01:00 in Tokyo, the rep's first day off.
    monday_evening_utc = datetime(2026, 3, 2, 16, tzinfo=UTC)

    counts = assign_many(team, 2, monday_evening_utc)

    assert counts == {"covering": 2}


def test_rotation_skips_inactive_members_and_users(now: datetime) -> None:
    team = TeamFactory()
    MembershipFactory(team=team, user=RepFactory(username="paused"), is_active=False)
    MembershipFactory(team=team, user=RepFactory(username="left", is_active=False))
    MembershipFactory(team=team, user=RepFactory(username="working"))

    counts = assign_many(team, 3, now)

    assert counts == {"working": 3}


def test_a_rep_back_from_time_off_does_not_get_a_burst_of_leads(now: datetime) -> None:
    team = TeamFactory()
    MembershipFactory(team=team, user=RepFactory(username="stayed"))
    away = MembershipFactory(team=team, user=RepFactory(username="away"), out_of_office_from=date(2026, 2, 1))
    assign_many(team, 10, now)
    # The rep who stayed worked those leads: with equal load, only the rotation's places count.
    Assignment.objects.update(ended_at=now, outcome=AssignmentOutcome.QUALIFIED)
    Membership.objects.filter(pk=away.pk).update(out_of_office_from=None)

    counts = assign_many(team, 4, now)

    assert counts == {"stayed": 2, "away": 2}


def test_manual_assignments_count_towards_a_reps_share(now: datetime) -> None:
    team = TeamFactory()
    chosen = MembershipFactory(team=team, user=RepFactory(username="chosen")).user
    MembershipFactory(team=team, user=RepFactory(username="other"))
    services.assign_lead(lead=MQLFactory(), team=team, now=now, rep=chosen)

    counts = assign_many(team, 3, now)

    assert counts == {"other": 2, "chosen": 1}


def test_assigning_to_someone_outside_the_team_is_refused(team: Team, other_rep: object, now: datetime) -> None:
    with pytest.raises(services.NoEligibleRepError):
        services.assign_lead(lead=MQLFactory(), team=team, now=now, rep=other_rep)


def test_assignment_emails_the_rep_after_commit(
    team: Team, now: datetime, django_capture_on_commit_callbacks: object
) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        assignment = services.assign_lead(lead=MQLFactory(first_name="Grace", last_name="Hopper"), team=team, now=now)

    assert [message.to for message in mail.outbox] == [[assignment.rep.email]]
    assert "Grace Hopper" in mail.outbox[0].subject
    assert f"/inbox/lead/{assignment.lead_id}/" in mail.outbox[0].body


# --- SLA policies --------------------------------------------------------------------------------


def test_without_a_policy_the_default_is_24_business_hours_with_a_75_percent_reminder(
    team: Team, now: datetime
) -> None:
    terms = services.sla_terms_for(lead=MQLFactory(), team=team)

    assert (terms.target_duration, terms.reminder_percent, terms.policy) == (timedelta(hours=24), 75, None)


def test_the_first_matching_policy_by_priority_wins(team: Team) -> None:
    SLAPolicyFactory(name="General", priority=100)
    hot = SLAPolicyFactory(name="Hot", priority=10, min_score=70, target_duration=timedelta(hours=4))

    terms = services.sla_terms_for(lead=MQLFactory(score=85), team=team)

    assert terms.policy == hot


@pytest.mark.parametrize(
    ("criteria", "lead_fields", "matches"),
    [
        ({"min_score": 70}, {"score": 69}, False),
        ({"min_score": 70, "max_score": 90}, {"score": 90}, True),
        ({"max_score": 20}, {"score": 21}, False),
        ({"size_band": "Enterprise"}, {"size_band": "enterprise"}, True),
        ({"size_band": "Enterprise"}, {"size_band": "SMB"}, False),
        ({"source": "LinkedIn"}, {"first_touch_source": "linkedin"}, True),
        ({"source": "linkedin"}, {"first_touch_source": "google"}, False),
        ({"stage": Stage.MQL}, {}, True),
        ({"stage": Stage.SQL}, {}, False),
    ],
)
def test_policy_criteria(
    team: Team, criteria: dict[str, object], lead_fields: dict[str, object], matches: bool
) -> None:
    policy = SLAPolicyFactory(**criteria)

    terms = services.sla_terms_for(lead=MQLFactory(**lead_fields), team=team)

    assert (terms.policy == policy) is matches


def test_a_policy_for_another_team_does_not_apply(team: Team) -> None:
    SLAPolicyFactory(team=TeamFactory())

    terms = services.sla_terms_for(lead=MQLFactory(), team=team)

    assert terms.policy is None


def test_inactive_policies_are_ignored(team: Team) -> None:
    SLAPolicyFactory(is_active=False)

    terms = services.sla_terms_for(lead=MQLFactory(), team=team)

    assert terms.policy is None


def test_the_sla_record_keeps_the_policy_terms_it_started_with(team: Team, now: datetime) -> None:
    policy = SLAPolicyFactory(target_duration=timedelta(hours=4), on_breach=BreachAction.REASSIGN)
    assignment = services.assign_lead(lead=MQLFactory(), team=team, now=now)

    policy.target_duration = timedelta(hours=40)
    policy.save()

    sla = SLARecord.objects.get(assignment=assignment)
    assert (sla.target_duration, sla.on_breach, sla.due_at) == (
        timedelta(hours=4),
        "reassign",
        now + timedelta(hours=4),
    )


# --- Reassignment --------------------------------------------------------------------------------


def test_reassign_hands_the_lead_to_the_chosen_rep(
    assignment: Assignment, team: Team, other_rep: object, manager: object, now: datetime
) -> None:
    MembershipFactory(team=team, user=other_rep)

    successor = services.reassign_lead(
        assignment=assignment, now=now + timedelta(hours=1), by=manager, reason="Rep is ill", rep=other_rep
    )

    assignment.refresh_from_db()
    assert (assignment.outcome, assignment.ended_at) == (AssignmentOutcome.REASSIGNED, now + timedelta(hours=1))
    assert (successor.rep, successor.assigned_by, successor.reason) == (other_rep, manager, "Rep is ill")
    assert Lead.objects.get(pk=assignment.lead_id).owner == other_rep


def test_reassign_stops_the_old_clock_and_starts_a_new_one(
    assignment: Assignment, team: Team, other_rep: object, manager: object, now: datetime
) -> None:
    MembershipFactory(team=team, user=other_rep)
    later = now + timedelta(hours=2)

    successor = services.reassign_lead(assignment=assignment, now=later, by=manager, reason="Holiday", rep=other_rep)

    assert SLARecord.objects.get(assignment=assignment).stopped_at == later
    assert successor.sla.started_at == later
    assert successor.sla.due_at == team_calendar(team).add_business_time(later, timedelta(hours=24))


def test_reassign_by_rotation_skips_the_current_rep(
    assignment: Assignment, team: Team, other_rep: object, manager: object, now: datetime
) -> None:
    MembershipFactory(team=team, user=other_rep)

    successor = services.reassign_lead(assignment=assignment, now=now, by=manager, reason="Too busy")

    assert successor.rep == other_rep


def test_reassign_refuses_a_lead_whose_person_withdrew_consent(
    assignment: Assignment, team: Team, other_rep: object, manager: object, now: datetime
) -> None:
    MembershipFactory(team=team, user=other_rep)
    ConsentFactory(lead=assignment.lead)
    withdraw_consents(lead=assignment.lead, now=now, source="link")
    assignment = Assignment.objects.select_related("lead").get(pk=assignment.pk)

    with pytest.raises(services.NoUsableConsentError):
        services.reassign_lead(assignment=assignment, now=now, by=manager, reason="Holiday", rep=other_rep)

    assert Assignment.objects.get(pk=assignment.pk).is_open


def test_reassigning_twice_from_the_same_page_is_refused(
    assignment: Assignment, team: Team, other_rep: object, manager: object, now: datetime
) -> None:
    MembershipFactory(team=team, user=other_rep)
    services.reassign_lead(assignment=assignment, now=now, by=manager, reason="First click", rep=other_rep)

    with pytest.raises(services.AssignmentConflictError):
        services.reassign_lead(assignment=assignment, now=now, by=manager, reason="Second click", rep=other_rep)

    assert Assignment.objects.filter(lead=assignment.lead).count() == 2


# --- The pipeline step ---------------------------------------------------------------------------


def test_pipeline_step_assigns_an_mql_to_its_routed_team(team: Team, rep: object, now: datetime) -> None:
    lead = MQLFactory()
    route(lead, team=team)

    services.assign_lead_step(lead_id=lead.pk, now=now)

    assert Assignment.objects.get(lead=lead).team == team


def test_pipeline_step_twice_assigns_once(team: Team, now: datetime) -> None:
    lead = MQLFactory()
    route(lead, team=team)

    services.assign_lead_step(lead_id=lead.pk, now=now)
    services.assign_lead_step(lead_id=lead.pk, now=now + timedelta(minutes=1))

    assert Assignment.objects.filter(lead=lead).count() == 1


def test_pipeline_step_uses_the_default_team_when_routing_named_none(team: Team, now: datetime) -> None:
    Team.objects.filter(pk=team.pk).update(is_default=True)
    lead = MQLFactory()

    services.assign_lead_step(lead_id=lead.pk, now=now)

    assert Assignment.objects.get(lead=lead).team == team


def test_pipeline_step_leaves_an_mql_routed_to_a_nurture_track_with_marketing(team: Team, now: datetime) -> None:
    Team.objects.filter(pk=team.pk).update(is_default=True)
    lead = MQLFactory()
    route(lead, track="general-nurture")

    outcome = services.assign_lead_step(lead_id=lead.pk, now=now)

    assert (outcome, Assignment.objects.filter(lead=lead).exists()) == ("in nurture", False)


@pytest.mark.parametrize("fields", [{"stage": Stage.NURTURE}, {"stage": Stage.SQL}])
def test_pipeline_step_ignores_leads_that_are_not_mqls(team: Team, now: datetime, fields: dict[str, str]) -> None:
    lead = MQLFactory(**fields)
    route(lead, team=team)

    services.assign_lead_step(lead_id=lead.pk, now=now)

    assert not Assignment.objects.filter(lead=lead).exists()


def test_assigning_only_if_waiting_refuses_a_lead_scoring_moved_to_nurture_since_it_was_read(
    team: Team, now: datetime
) -> None:
    lead = MQLFactory()
    read_before = Lead.objects.get(pk=lead.pk)
    change_stage(lead=lead, to_stage=Stage.NURTURE, now=now, reason="Score fell below the nurture threshold")

    with pytest.raises(services.LeadNotWaitingError):
        services.assign_lead(lead=read_before, team=team, now=now, only_if_waiting=True)

    assert not Assignment.objects.filter(lead=lead).exists()
    assert Lead.objects.get(pk=lead.pk).owner is None


def test_pipeline_step_leaves_an_owned_lead_alone(team: Team, other_rep: object, now: datetime) -> None:
    lead = MQLFactory(owner=other_rep)
    route(lead, team=team)

    services.assign_lead_step(lead_id=lead.pk, now=now)

    assert not Assignment.objects.filter(lead=lead).exists()


def test_pipeline_step_with_nobody_available_leaves_the_lead_for_the_managers(now: datetime) -> None:
    lead = MQLFactory()
    route(lead, team=TeamFactory(slug="empty"))

    services.assign_lead_step(lead_id=lead.pk, now=now)

    assert Lead.objects.get(pk=lead.pk).owner is None


# --- Calendars from teams ------------------------------------------------------------------------


def test_team_calendar_has_split_shifts_closed_dates_and_holidays() -> None:
    team = TeamFactory(
        timezone="Europe/London",
        holiday_country="GB",
        holiday_subdivision="ENG",
        hours={0: [(time(9), time(12)), (time(13), time(17))]},
    )
    team.closed_dates.create(date=date(2026, 3, 9), reason="Office move")

    calendar = team_calendar(team)

    assert calendar.hours == {0: ((time(9), time(12)), (time(13), time(17)))}
    assert calendar.closed_dates == frozenset({date(2026, 3, 9)})
    assert (calendar.timezone, calendar.holiday_country, calendar.holiday_subdivision) == ("Europe/London", "GB", "ENG")


# --- The safety net ------------------------------------------------------------------------------


def test_the_sweep_assigns_a_routed_mql_the_pipeline_left_unowned(team: Team, rep: object, now: datetime) -> None:
    lead = MQLFactory(routed_at=now, stage_changed_at=now - timedelta(minutes=5))
    route(lead, team=team)

    assigned = services.assign_waiting_leads(now=now)

    assert assigned == 1
    assert Lead.objects.get(pk=lead.pk).owner == rep


def test_the_sweep_leaves_an_mql_whose_consent_was_withdrawn(team: Team, now: datetime) -> None:
    lead = MQLFactory(routed_at=now, stage_changed_at=now - timedelta(minutes=5))
    route(lead, team=team)
    ConsentFactory(lead=lead, status=ConsentStatus.PENDING)

    assigned = services.assign_waiting_leads(now=now)

    assert assigned == 0
    assert Lead.objects.get(pk=lead.pk).owner is None


def test_the_sweep_leaves_fresh_mqls_to_the_pipeline(team: Team, now: datetime) -> None:
    route(MQLFactory(routed_at=now, stage_changed_at=now - timedelta(seconds=30)), team=team)

    assigned = services.assign_waiting_leads(now=now)

    assert assigned == 0


def test_the_sweep_leaves_leads_no_team_takes_in_the_managers_queue(now: datetime) -> None:
    lead = MQLFactory(routed_at=now, stage_changed_at=now - timedelta(minutes=5))
    route(lead, track="general-nurture")

    assigned = services.assign_waiting_leads(now=now)

    assert assigned == 0
    assert Lead.objects.get(pk=lead.pk).owner is None
