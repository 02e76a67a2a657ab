"""The pipeline's assignment step for a batch decides as lead by lead would, and writes set-based."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import transaction

from core.batch import batch_scope
from handoff import pipeline, services
from handoff.models import Assignment, Membership, Notification, RepPool, SLARecord, Team
from handoff.services import assignment_batch, notifications
from handoff.tests.factories import MembershipFactory, MQLFactory, RepFactory, TeamFactory, route
from leads.models import ConsentStatus, Lead, Stage
from leads.services import change_stage
from leads.tests.factories import ConsentFactory

pytestmark = pytest.mark.django_db

Outcome = tuple[str, str, int, str]  # the lead's email, its rep, the turn, why that rep won


def _outcomes() -> list[Outcome]:
    rows = Assignment.objects.select_related("lead", "rep").order_by("lead_id")
    return [(a.lead.email, a.rep.username, a.turn, str(a.reasons["summary"])) for a in rows]


def _batch_of(leads: list[Lead]) -> list[Lead]:
    """The leads as the pipeline hands them over: read in full, their consents with them."""
    return list(Lead.objects.filter(pk__in=[lead.pk for lead in leads]).prefetch_related("consents").order_by("pk"))


@pytest.fixture
def busy_team(team: Team, rep: object, now: datetime) -> Team:
    """London with three reps: rep1 (weight 1, two open leads), heavy (weight 2) and light (weight 1)."""
    MembershipFactory(team=team, user=RepFactory(username="heavy"), capacity_weight=2)
    MembershipFactory(team=team, user=RepFactory(username="light"))
    for _ in range(2):
        services.assign_lead(lead=MQLFactory(), team=team, now=now - timedelta(days=1), rep=rep, notify=False)
    return team


def test_a_batch_assigns_each_lead_to_the_rep_lead_by_lead_assignment_would_choose(
    busy_team: Team, now: datetime
) -> None:
    leads = [MQLFactory() for _ in range(9)]
    for lead in leads[::2]:
        route(lead, team=busy_team)  # the others go to the team by default routing: the same team
    Team.objects.filter(pk=busy_team.pk).update(is_default=True)
    with transaction.atomic():
        for lead in leads:
            services.assign_lead_step(lead_id=lead.pk, now=now)
        one_by_one = _outcomes()
        transaction.set_rollback(True)

    results = assignment_batch.assign_batch(leads=_batch_of(leads), now=now)

    assert set(results.values()) == {"assigned"}
    assert _outcomes() == one_by_one
    assert {rep for _, rep, _, _ in one_by_one} == {"rep1", "heavy", "light"}  # the running loads spread them


def test_a_rep_given_a_lead_in_one_team_carries_it_into_the_next_teams_pick(rep: object, now: datetime) -> None:
    shared, other = RepFactory(username="shared"), RepFactory(username="other")
    first, second = TeamFactory(members=[shared]), TeamFactory(members=[shared, other])
    Membership.objects.filter(team=second, user=shared).update(next_turn_at=0)
    leads = [MQLFactory(), MQLFactory()]
    route(leads[0], team=first)
    route(leads[1], team=second)

    assignment_batch.assign_batch(leads=_batch_of(leads), now=now)

    # Level in the second team's rotation (a tie goes to "shared", who joined first) but for the lead just given.
    assert [a.rep.username for a in Assignment.objects.order_by("lead_id")] == ["shared", "other"]


def test_a_batch_writes_the_sla_records_notifications_places_and_owners(busy_team: Team, now: datetime) -> None:
    leads = [MQLFactory() for _ in range(3)]
    for lead in leads:
        route(lead, team=busy_team)

    with notifications.batched_deliveries():
        assignment_batch.assign_batch(leads=_batch_of(leads), now=now)

    assignments = list(Assignment.objects.filter(lead__in=leads).select_related("lead", "sla"))
    assert all(a.lead.owner_id == a.rep_id and a.sla.due_at == a.sla_due_at for a in assignments)
    assert SLARecord.objects.filter(assignment__in=assignments).count() == 3
    assert Notification.objects.filter(assignment__in=assignments).count() == 3
    busy_team.refresh_from_db()
    assert busy_team.turns_taken == 5  # the two open leads before, and three from the batch
    assert {a.lead.pipeline_step for a in assignments} == {"assigned"}


def test_a_batch_says_why_it_left_each_lead_unassigned(team: Team, now: datetime) -> None:
    empty = TeamFactory()
    pool = RepPool.objects.create(team=team, name="Nobody yet")
    in_nurture, no_team, nobody, withdrawn, pooled = (MQLFactory() for _ in range(5))
    route(in_nurture, track="start-up-nurture")
    route(nobody, team=empty)
    route(pooled, pool=pool)
    route(withdrawn, team=team)
    ConsentFactory(lead=withdrawn, status=ConsentStatus.CONFIRMED, withdrawn_at=now)
    batch = _batch_of([in_nurture, no_team, nobody, withdrawn, pooled])

    results = assignment_batch.assign_batch(leads=batch, now=now)

    assert [results[lead.pk] for lead in batch] == [
        "in nurture", "no team", "nobody available", "no consent", "nobody available",
    ]  # fmt: skip
    assert not Assignment.objects.exists()


def test_a_lead_assigned_meanwhile_is_not_assigned_again(team: Team, now: datetime) -> None:
    lead = MQLFactory()
    route(lead, team=team)
    batch = _batch_of([lead])
    services.assign_lead(lead=lead, team=team, now=now, notify=False)  # a manager, after the batch read the lead

    results = assignment_batch.assign_batch(leads=batch, now=now)

    assert results == {lead.pk: "not waiting"}
    assert Assignment.objects.filter(lead=lead).count() == 1


def test_a_lead_scoring_moved_to_nurture_after_the_batch_read_it_is_not_assigned(team: Team, now: datetime) -> None:
    lead = MQLFactory()
    route(lead, team=team)
    batch = _batch_of([lead])
    change_stage(lead=lead, to_stage=Stage.NURTURE, now=now, reason="Score fell below the nurture threshold")

    results = assignment_batch.assign_batch(leads=batch, now=now)

    assert results == {lead.pk: "not waiting"}
    assert not Assignment.objects.filter(lead=lead).exists()
    assert Lead.objects.get(pk=lead.pk).owner is None


def test_assigning_a_batch_takes_the_same_number_of_queries_whatever_its_size(
    busy_team: Team, now: datetime, django_assert_max_num_queries: Callable[..., Any]
) -> None:
    def count(size: int) -> int:
        leads = [MQLFactory() for _ in range(size)]
        for lead in leads:
            route(lead, team=busy_team)
        batch = _batch_of(leads)
        with batch_scope(), django_assert_max_num_queries(10_000) as queries:  # as the pipeline runs it
            assignment_batch.assign_batch(leads=batch, now=now)
        return len(queries)

    small = count(9)

    # The same three reps get them, so the owners are written with as many statements.
    assert count(30) == small


def test_a_lead_a_manager_assigned_while_the_batch_read_it_ends_assigned_not_parked(
    team: Team, rep: object, now: datetime
) -> None:
    lead = MQLFactory()
    route(lead, team=team)
    as_the_batch_read_it = _batch_of([lead])
    services.assign_lead(lead=lead, team=team, now=now, rep=rep, notify=False)  # the manager, meanwhile

    results = pipeline._assign_waiting(as_the_batch_read_it, now=now)

    assert results == {lead.pk: "not waiting"}
    assert as_the_batch_read_it[0].owner_id == rep.pk  # type: ignore[attr-defined]
