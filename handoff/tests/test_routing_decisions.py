"""Routing decides and explains itself: the decision and its reasons are stored, a nurture destination keeps the
lead from sales, routing is decided again while nobody owns the lead, and each assignment says why its rep won."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.db.models import ProtectedError

from core.batch import batch_scope
from handoff import pipeline, services
from handoff.models import (
    Assignment,
    AssignmentOutcome,
    Membership,
    RepPool,
    RoutingDecision,
    RoutingDestination,
    RoutingRule,
    SLARecord,
    Team,
)
from handoff.services import routing as routing_services
from handoff.services.assignment import members_with_load
from handoff.tests.factories import MembershipFactory, MQLFactory, RepFactory, TeamFactory, route
from leads import events
from leads import services as lead_services
from leads.models import CompanyDirectoryEntry, Consent, ConsentStatus, Lead, Stage
from leads.tests.factories import FIXED_NOW, ConsentFactory, LeadFactory
from scoring.tests.factories import ScoringModelFactory, ScoringRuleFactory

pytestmark = pytest.mark.django_db

CaptureCallbacks = Callable[..., Any]


@pytest.fixture
def nurture_requests() -> Iterator[list[dict[str, Any]]]:
    """What routing asked the nurture app for (the leads.events contract), as the nurture app would hear it."""
    heard: list[dict[str, Any]] = []

    def listen(**kwargs: Any) -> None:
        heard.append({name: kwargs[name] for name in ("lead_id", "track", "source", "reason")})

    events.nurture_requested.connect(listen, dispatch_uid="test-routing-listener")
    yield heard
    events.nurture_requested.disconnect(dispatch_uid="test-routing-listener")


@pytest.fixture
def rules(team: Team) -> dict[str, RoutingRule]:
    """Enterprise → London; start-ups → the start-up nurture track; the seeded default sends the rest to nurture."""
    return {
        "enterprise": RoutingRule.objects.create(
            name="Enterprise → London", order=10, size_bands=["Enterprise"], team=team
        ),
        "startups": RoutingRule.objects.create(
            name="Start-ups → nurture", order=20, size_bands=["Start-up"], destination=RoutingDestination.NURTURE,
            nurture_track="start-up-nurture",
        ),
    }  # fmt: skip


# --- The decision and its reasons ---------------------------------------------------------------------------


def test_routing_stores_the_rule_the_team_and_the_conditions_that_held(
    rules: dict[str, RoutingRule], team: Team
) -> None:
    lead = LeadFactory(size_band="Enterprise")

    decision = routing_services.route_lead(lead_id=lead.pk, now=FIXED_NOW)

    stored = RoutingDecision.objects.get(lead=lead)
    assert decision == stored
    assert (stored.rule, stored.destination, stored.team, stored.decided_at) == (
        rules["enterprise"],
        RoutingDestination.TEAM,
        team,
        FIXED_NOW,
    )
    assert stored.reasons["held"] == ["size band “Enterprise” is one of Enterprise"]
    assert Lead.objects.get(pk=lead.pk).routed_at == FIXED_NOW


def test_routing_names_the_rules_passed_over_and_the_condition_each_failed(rules: dict[str, RoutingRule]) -> None:
    lead = LeadFactory(size_band="Start-up")

    decision = routing_services.route_lead(lead_id=lead.pk, now=FIXED_NOW)

    assert decision is not None
    assert decision.reasons["passed_over"] == [
        {"rule": "Enterprise → London", "failed": "size band “Start-up” is not one of Enterprise"}
    ]
    assert decision.reasons["summary"] == "Rule “Start-ups → nurture” matched: size band “Start-up” is one of Start-up."


def test_a_lead_no_rule_matches_goes_where_the_default_rule_says_and_the_reason_says_so(
    rules: dict[str, RoutingRule],
) -> None:
    lead = LeadFactory(size_band="")

    decision = routing_services.route_lead(lead_id=lead.pk, now=FIXED_NOW)

    assert decision is not None
    assert decision.rule == RoutingRule.objects.get(is_default=True)
    assert decision.reasons["summary"].startswith("No other rule matched; the default rule")


def test_the_seeded_default_rule_sends_everyone_else_to_general_nurture() -> None:
    default = RoutingRule.objects.get(is_default=True)

    assert (default.destination, default.nurture_track) == (RoutingDestination.NURTURE, "general-nurture")


# --- Nurture is a destination sales do not get ----------------------------------------------------------------


def test_a_lead_routed_to_a_track_is_sent_to_nurture_once_after_commit(
    rules: dict[str, RoutingRule],
    nurture_requests: list[dict[str, Any]],
    django_capture_on_commit_callbacks: CaptureCallbacks,
) -> None:
    lead = LeadFactory(size_band="Start-up")

    with django_capture_on_commit_callbacks(execute=True):
        routing_services.route_lead(lead_id=lead.pk, now=FIXED_NOW)
        routing_services.route_lead(lead_id=lead.pk, now=FIXED_NOW + timedelta(minutes=5))

    assert nurture_requests == [
        {
            "lead_id": lead.pk,
            "track": "start-up-nurture",
            "source": events.NURTURE_FROM_ROUTING,
            "reason": "Rule “Start-ups → nurture” matched: size band “Start-up” is one of Start-up.",
        }
    ]


def _left_nurture_and_came_back(lead: Lead) -> None:
    """The lead became an MQL (which ends its nurture enrollment) and then fell below the threshold again."""
    lead_services.change_stage(lead=lead, to_stage=Stage.MQL, now=FIXED_NOW + timedelta(hours=1))
    lead_services.change_stage(lead=lead, to_stage=Stage.NURTURE, now=FIXED_NOW + timedelta(hours=2))


def test_a_lead_whose_stage_changed_since_routing_sent_it_to_a_track_is_sent_there_again(
    rules: dict[str, RoutingRule],
    nurture_requests: list[dict[str, Any]],
    django_capture_on_commit_callbacks: CaptureCallbacks,
) -> None:
    lead = LeadFactory(size_band="Start-up")
    with django_capture_on_commit_callbacks(execute=True):
        routing_services.route_lead(lead_id=lead.pk, now=FIXED_NOW)
    _left_nurture_and_came_back(lead)

    with django_capture_on_commit_callbacks(execute=True):
        routing_services.route_lead(lead_id=lead.pk, now=FIXED_NOW + timedelta(hours=2))
        routing_services.route_lead(lead_id=lead.pk, now=FIXED_NOW + timedelta(hours=3))

    assert [request["track"] for request in nurture_requests] == ["start-up-nurture", "start-up-nurture"]


def test_a_batch_sends_a_lead_whose_stage_changed_since_routing_sent_it_to_a_track_there_again(
    rules: dict[str, RoutingRule],
    nurture_requests: list[dict[str, Any]],
    django_capture_on_commit_callbacks: CaptureCallbacks,
) -> None:
    lead = LeadFactory(size_band="Start-up")
    with django_capture_on_commit_callbacks(execute=True):
        routing_services.route_leads(leads=Lead.objects.filter(pk=lead.pk), now=FIXED_NOW)
    _left_nurture_and_came_back(lead)

    with django_capture_on_commit_callbacks(execute=True):
        routing_services.route_leads(leads=Lead.objects.filter(pk=lead.pk), now=FIXED_NOW + timedelta(hours=2))
        routing_services.route_leads(leads=Lead.objects.filter(pk=lead.pk), now=FIXED_NOW + timedelta(hours=3))

    assert [request["track"] for request in nurture_requests] == ["start-up-nurture", "start-up-nurture"]


def test_a_lead_whose_consent_was_restored_since_routing_sent_it_to_a_track_is_sent_there_again(
    rules: dict[str, RoutingRule],
    nurture_requests: list[dict[str, Any]],
    django_capture_on_commit_callbacks: CaptureCallbacks,
) -> None:
    lead = ConsentFactory(lead=LeadFactory(size_band="Start-up")).lead
    with django_capture_on_commit_callbacks(execute=True):
        routing_services.route_lead(lead_id=lead.pk, now=FIXED_NOW)
        lead_services.withdraw_consents(lead=lead, now=FIXED_NOW + timedelta(hours=1), source="admin")
        routing_services.route_lead(lead_id=lead.pk, now=FIXED_NOW + timedelta(hours=2))
    ConsentFactory(lead=lead, given_at=FIXED_NOW + timedelta(hours=3))  # staff record a new consent

    with django_capture_on_commit_callbacks(execute=True):
        routing_services.route_leads(leads=Lead.objects.filter(pk=lead.pk), now=FIXED_NOW + timedelta(hours=4))
        routing_services.route_lead(lead_id=lead.pk, now=FIXED_NOW + timedelta(hours=5))

    assert [request["track"] for request in nurture_requests] == ["start-up-nurture", "start-up-nurture"]


def test_a_lead_that_confirms_its_pending_consent_after_routing_sent_it_to_a_track_is_sent_there_again(
    rules: dict[str, RoutingRule],
    nurture_requests: list[dict[str, Any]],
    django_capture_on_commit_callbacks: CaptureCallbacks,
) -> None:
    consent = ConsentFactory(lead=LeadFactory(size_band="Start-up"), status=ConsentStatus.PENDING)
    with django_capture_on_commit_callbacks(execute=True):
        routing_services.route_lead(lead_id=consent.lead_id, now=FIXED_NOW)
    Consent.objects.filter(pk=consent.pk).update(
        status=ConsentStatus.CONFIRMED, confirmed_at=FIXED_NOW + timedelta(hours=1)
    )  # the double opt-in link followed

    with django_capture_on_commit_callbacks(execute=True):
        routing_services.route_lead(lead_id=consent.lead_id, now=FIXED_NOW + timedelta(hours=2))
        routing_services.route_lead(lead_id=consent.lead_id, now=FIXED_NOW + timedelta(hours=3))

    assert [request["track"] for request in nurture_requests] == ["start-up-nurture", "start-up-nurture"]


def test_a_lead_that_withdrew_consent_is_not_sent_to_its_track_again(
    rules: dict[str, RoutingRule],
    nurture_requests: list[dict[str, Any]],
    django_capture_on_commit_callbacks: CaptureCallbacks,
) -> None:
    lead = ConsentFactory(lead=LeadFactory(size_band="Start-up")).lead
    with django_capture_on_commit_callbacks(execute=True):
        routing_services.route_lead(lead_id=lead.pk, now=FIXED_NOW)
    lead_services.withdraw_consents(lead=lead, now=FIXED_NOW + timedelta(hours=1), source="admin")

    with django_capture_on_commit_callbacks(execute=True):
        routing_services.route_lead(lead_id=lead.pk, now=FIXED_NOW + timedelta(hours=2))

    assert [request["track"] for request in nurture_requests] == ["start-up-nurture"]


def test_a_lead_giving_another_consent_while_it_has_one_is_not_sent_to_its_track_again(
    rules: dict[str, RoutingRule],
    nurture_requests: list[dict[str, Any]],
    django_capture_on_commit_callbacks: CaptureCallbacks,
) -> None:
    lead = ConsentFactory(lead=LeadFactory(size_band="Start-up")).lead
    with django_capture_on_commit_callbacks(execute=True):
        routing_services.route_lead(lead_id=lead.pk, now=FIXED_NOW)
    ConsentFactory(lead=lead, given_at=FIXED_NOW + timedelta(hours=1))  # another form sent

    with django_capture_on_commit_callbacks(execute=True):
        routing_services.route_lead(lead_id=lead.pk, now=FIXED_NOW + timedelta(hours=2))

    assert [request["track"] for request in nurture_requests] == ["start-up-nurture"]


def test_an_mql_the_pipeline_routes_to_nurture_is_not_assigned_to_sales(
    rules: dict[str, RoutingRule], team: Team, rep: object
) -> None:
    Team.objects.filter(pk=team.pk).update(is_default=True)  # before, the default team took nurture-routed MQLs
    CompanyDirectoryEntry.objects.create(domain="tiny.example", name="Tiny", employee_count=8, industry="Software")
    model = ScoringModelFactory(mql_threshold=30)
    ScoringRuleFactory(scoring_model=model, points=40)  # industry Software or Fintech
    lead = LeadFactory(email="cto@tiny.example", company_domain="", job_title="CTO", pipeline_due_at=FIXED_NOW)

    pipeline.process_due_leads(now=FIXED_NOW, worker="w1")

    lead.refresh_from_db()
    assert (lead.stage, lead.size_band, lead.owner) == (Stage.MQL, "Start-up", None)
    assert not Assignment.objects.filter(lead=lead).exists()
    assert RoutingDecision.objects.get(lead=lead).nurture_track == "start-up-nurture"
    assert "nurture track" in lead.pipeline_reason


def test_routing_decides_again_while_nobody_owns_the_lead(
    rules: dict[str, RoutingRule], team: Team, nurture_requests: list[dict[str, Any]]
) -> None:
    lead = LeadFactory(size_band="Start-up")
    routing_services.route_lead(lead_id=lead.pk, now=FIXED_NOW)
    Lead.objects.filter(pk=lead.pk).update(size_band="Enterprise", employee_count=5000)  # the firm was re-enriched

    decision = routing_services.route_lead(lead_id=lead.pk, now=FIXED_NOW + timedelta(hours=1))

    assert decision is not None
    assert (decision.team, decision.nurture_track, decision.decided_at) == (team, "", FIXED_NOW + timedelta(hours=1))


def test_a_lead_sales_own_keeps_its_decision(rules: dict[str, RoutingRule], team: Team, rep: object) -> None:
    lead = LeadFactory(size_band="Enterprise")
    routing_services.route_lead(lead_id=lead.pk, now=FIXED_NOW)
    Lead.objects.filter(pk=lead.pk).update(size_band="Start-up", owner=rep)

    decision = routing_services.route_lead(lead_id=lead.pk, now=FIXED_NOW + timedelta(hours=1))

    assert decision is not None
    assert (decision.team, decision.decided_at) == (team, FIXED_NOW)


def test_the_sweep_routes_again_a_nurture_mql_scored_since_and_hands_it_to_the_team_a_rule_now_names(
    team: Team, rep: object, now: datetime
) -> None:
    RoutingRule.objects.create(name="Hot → London", order=5, score_min=70, team=team)
    lead = MQLFactory(score=80, routed_at=now, stage_changed_at=now - timedelta(minutes=5), scored_at=now)
    route(lead, track="general-nurture", at=now - timedelta(hours=1))  # routed when its score was low

    assigned = services.assign_waiting_leads(now=now)

    assert assigned == 1
    assert RoutingDecision.objects.get(lead=lead).team == team


def test_the_sweep_leaves_a_nurture_mql_not_scored_since_routing(team: Team, now: datetime) -> None:
    Team.objects.filter(pk=team.pk).update(is_default=True)
    lead = MQLFactory(routed_at=now, stage_changed_at=now - timedelta(minutes=5), scored_at=now - timedelta(hours=2))
    route(lead, track="general-nurture", at=now - timedelta(hours=1))

    assert services.assign_waiting_leads(now=now) == 0


# --- Teams and pools by foreign key ---------------------------------------------------------------------------


def test_a_team_a_rule_sends_leads_to_cannot_be_deleted(rules: dict[str, RoutingRule], team: Team) -> None:
    with pytest.raises(ProtectedError):
        team.delete()


def test_a_pool_takes_its_routed_leads_and_the_rest_of_the_team_none(team: Team, rep: object, now: datetime) -> None:
    senior = MembershipFactory(team=team, user=RepFactory(username="senior"))
    pool = RepPool.objects.create(team=team, name="Senior account directors")
    pool.members.add(senior)
    leads = [MQLFactory() for _ in range(3)]
    for lead in leads:
        route(lead, pool=pool)

    outcomes = [services.assign_lead_step(lead_id=lead.pk, now=now) for lead in leads]

    assert outcomes == ["assigned"] * 3
    assert {assignment.rep.username for assignment in Assignment.objects.all()} == {"senior"}
    assert Assignment.objects.first().reasons["pool"] == "Senior account directors"  # type: ignore[union-attr]


def test_passing_a_pool_lead_on_by_rotation_stays_within_the_pool(team: Team, rep: object, now: datetime) -> None:
    seniors = [MembershipFactory(team=team, user=RepFactory(username=name)) for name in ("senior1", "senior2")]
    pool = RepPool.objects.create(team=team, name="Senior account directors")
    pool.members.add(*seniors)
    lead = MQLFactory()
    route(lead, pool=pool)
    services.assign_lead_step(lead_id=lead.pk, now=now)
    first = Assignment.objects.get(lead=lead)

    successor = services.reassign_lead(assignment=first, now=now, by=None, reason="SLA breached")

    assert {first.rep.username, successor.rep.username} == {"senior1", "senior2"}


# --- Load-aware rotation and the assignment's reasons -----------------------------------------------------------


def _open_load(rep: object, *, count: int, breached: int = 0, now: datetime) -> None:
    """Give ``rep`` ``count`` open assignments in a team of their own, ``breached`` of them past their SLA."""
    elsewhere = TeamFactory(members=[rep])
    for i in range(count):
        assignment = services.assign_lead(lead=MQLFactory(), team=elsewhere, now=now, rep=rep, notify=False)
        if i < breached:
            SLARecord.objects.filter(assignment=assignment).update(breached_at=now)


def test_the_rotation_passes_over_a_rep_who_holds_more_open_leads(now: datetime) -> None:
    team = TeamFactory()
    busy = MembershipFactory(team=team, user=RepFactory(username="busy")).user  # first in line on an even clock
    MembershipFactory(team=team, user=RepFactory(username="free"))
    _open_load(busy, count=2, now=now)

    assignment = services.assign_lead(lead=MQLFactory(), team=team, now=now)

    assert assignment.rep.username == "free"


def test_the_assignment_keeps_every_candidate_with_weight_load_and_time_off(now: datetime) -> None:
    team = TeamFactory(name="London")
    first = MembershipFactory(team=team, user=RepFactory(username="ana"), capacity_weight=2).user
    second = MembershipFactory(team=team, user=RepFactory(username="ben")).user
    MembershipFactory(team=team, user=RepFactory(username="cat"), out_of_office_from=date(2026, 3, 1))
    _open_load(first, count=1, now=now)
    _open_load(second, count=3, breached=1, now=now)

    assignment = services.assign_lead(lead=MQLFactory(), team=team, now=now)

    rows = {row["rep"]: row for row in assignment.reasons["candidates"]}
    assert assignment.rep == first
    assert {
        name: (row["weight"], row["open"], row["breached"], row["out_of_office"]) for name, row in rows.items()
    } == {
        "ana": (2, 1, 0, False),
        "ben": (1, 3, 1, False),
        "cat": (1, 0, 0, True),
    }
    assert (rows["ana"]["chosen"], rows["ben"]["chosen"], rows["cat"]["not_considered_because"]) == (
        True,
        False,
        "out of office",
    )
    assert assignment.reasons["summary"].startswith("ana (weight 2, 1 open, 0 breached) was next in London's rotation")


def test_a_manual_assignment_says_who_chose_the_rep_and_why(
    team: Team, rep: object, manager: object, now: datetime
) -> None:
    assignment = services.assign_lead(lead=MQLFactory(), team=team, now=now, rep=rep, by=manager, reason="Speaks Dutch")

    assert assignment.reasons == {
        "how": "chosen",
        "team": "London",
        "rep": "rep1",
        "summary": "manager chose rep1 in London: Speaks Dutch",
    }


def test_members_and_their_load_are_read_in_one_query(
    team: Team, now: datetime, django_assert_num_queries: Callable[..., Any]
) -> None:
    for _ in range(3):
        MembershipFactory(team=team)
    services.assign_lead(lead=MQLFactory(), team=team, now=now)

    with django_assert_num_queries(1):
        members = members_with_load(team)

    assert len(members) == 4


def test_a_closed_assignment_is_no_load(team: Team, rep: object, now: datetime) -> None:
    assignment = services.assign_lead(lead=MQLFactory(), team=team, now=now)
    Assignment.objects.filter(pk=assignment.pk).update(ended_at=now, outcome=AssignmentOutcome.QUALIFIED)

    loads = {member.user_id: member.open_load for member in members_with_load(team)}  # type: ignore[attr-defined]

    assert loads == {rep.pk: 0}  # type: ignore[attr-defined]


def test_reassigning_lists_the_rep_it_is_taken_from_as_not_considered(
    assignment: Assignment, team: Team, other_rep: object, now: datetime
) -> None:
    Membership.objects.create(team=team, user=other_rep)

    successor = services.reassign_lead(assignment=assignment, now=now, by=None, reason="Breached")

    rows = {row["rep"]: row["not_considered_because"] for row in successor.reasons["candidates"]}
    assert rows == {"rep1": "the rep it is taken from", "rep2": ""}


def test_a_lead_a_rep_recycled_keeps_its_decision_until_its_date(rules: dict[str, RoutingRule], team: Team) -> None:
    lead = LeadFactory(size_band="Enterprise", stage=Stage.NURTURE, nurture_ends_at=FIXED_NOW + timedelta(days=30))
    route(lead, team=team)
    Lead.objects.filter(pk=lead.pk).update(size_band="Start-up")

    decision = routing_services.route_lead(lead_id=lead.pk, now=FIXED_NOW)

    assert decision is not None
    assert (decision.team, decision.nurture_track) == (team, "")


# --- Routing a pipeline batch ---------------------------------------------------------------------------------


def _decision_fields(lead: Lead) -> tuple[object, ...]:
    stored = RoutingDecision.objects.get(lead=lead)
    return (stored.rule_id, stored.destination, stored.team_id, stored.nurture_track, stored.reasons, stored.decided_at)


def test_a_batch_stores_the_decisions_routing_each_lead_alone_stores(
    rules: dict[str, RoutingRule], rep: object, nurture_requests: list[dict[str, Any]],
    django_capture_on_commit_callbacks: CaptureCallbacks,
) -> None:  # fmt: skip
    sizes = ["Enterprise", "Start-up", "Mid-market"]
    alone, batched = [LeadFactory(size_band=size) for size in sizes], [LeadFactory(size_band=size) for size in sizes]
    owned = LeadFactory(size_band="Enterprise", owner=rep)
    for lead in alone:
        routing_services.route_lead(lead_id=lead.pk, now=FIXED_NOW)
    routing_services.route_lead(lead_id=batched[0].pk, now=FIXED_NOW - timedelta(hours=1))  # decided before
    nurture_requests.clear()

    with django_capture_on_commit_callbacks(execute=True):
        routed = routing_services.route_leads(
            leads=Lead.objects.filter(pk__in=[lead.pk for lead in [*batched, owned]]), now=FIXED_NOW
        )

    assert sorted(routed) == sorted(lead.pk for lead in batched)
    assert [_decision_fields(lead)[:5] for lead in batched] == [_decision_fields(lead)[:5] for lead in alone]
    assert {_decision_fields(lead)[5] for lead in batched} == {FIXED_NOW}
    assert set(Lead.objects.filter(pk__in=routed).values_list("routed_at", flat=True)) == {FIXED_NOW}
    assert not RoutingDecision.objects.filter(lead=owned).exists()
    assert sorted(request["lead_id"] for request in nurture_requests) == [batched[1].pk, batched[2].pk]


def test_routing_a_batch_takes_the_same_number_of_queries_whatever_its_size(
    rules: dict[str, RoutingRule], django_assert_max_num_queries: Callable[..., Any]
) -> None:
    def count(size: int) -> int:
        leads = [LeadFactory(size_band="Enterprise") for _ in range(size)]
        routing_services.route_lead(lead_id=leads[0].pk, now=FIXED_NOW)  # one decided before: an UPDATE too
        with batch_scope(), django_assert_max_num_queries(10_000) as queries:  # rules read once, as in the pipeline
            routing_services.route_leads(leads=Lead.objects.filter(pk__in=[lead.pk for lead in leads]), now=FIXED_NOW)
        return len(queries)

    small = count(2)

    assert count(20) == small
