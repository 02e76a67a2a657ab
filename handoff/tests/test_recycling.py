"""A recycled lead stays in nurture until the rep's date, whatever its score, and comes back to sales on that date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from handoff import services, tasks
from handoff.models import Assignment, Team
from handoff.services.actions import start_of_day
from handoff.tests.factories import route
from leads.models import Lead, Stage, StageChange
from scoring.models import ScoringModel
from scoring.services import score_lead
from scoring.tests.factories import ScoringModelFactory, ScoringRuleFactory
from tests.personas import client_for

pytestmark = pytest.mark.django_db

RECYCLE_ON = date(2026, 6, 1)  # London is on summer time (UTC+1) then
RECYCLE_DAY_STARTS = datetime(2026, 5, 31, 23, 0, tzinfo=UTC)


@pytest.fixture
def scoring_model(db: None) -> ScoringModel:
    """The active model: MQL at 60; a lead in Software scores 70."""
    model = ScoringModelFactory(name="Live")
    ScoringRuleFactory(scoring_model=model, points=70, params={"field": "industry", "values": ["Software"]})
    return model


@pytest.fixture
def recycled(assignment: Assignment, rep: object, scoring_model: ScoringModel, now: datetime) -> Lead:
    """A Software lead (score 70), routed to the London team, that ``rep`` recycled until 1 June."""
    Lead.objects.filter(pk=assignment.lead_id).update(industry="Software", routed_at=now)
    route(assignment.lead, team=assignment.team)
    services.recycle_lead(assignment=assignment, rep=rep, recycle_on=RECYCLE_ON, reason="Budget in Q3", now=now)
    return Lead.objects.get(pk=assignment.lead_id)


def _score_and_assign(lead: Lead, *, now: datetime) -> Lead:
    """What a new activity does: the pipeline scores the lead, then assigns it if it is an MQL."""
    score_lead(lead_id=lead.pk, now=now)
    services.assign_lead_step(lead_id=lead.pk, now=now)
    return Lead.objects.get(pk=lead.pk)


# --- Parking ---------------------------------------------------------------------------------------


def test_recycle_parks_the_lead_until_its_day_starts_in_the_teams_timezone(recycled: Lead) -> None:
    assert (recycled.stage, recycled.owner_id, recycled.nurture_ends_at) == (Stage.NURTURE, None, RECYCLE_DAY_STARTS)


def test_a_day_in_an_unknown_timezone_starts_at_midnight_utc() -> None:
    assert start_of_day(RECYCLE_ON, timezone_name="Mars/Olympus") == datetime(2026, 6, 1, tzinfo=UTC)


def test_a_new_score_before_the_date_does_not_bring_a_recycled_lead_back(recycled: Lead) -> None:
    lead = _score_and_assign(recycled, now=RECYCLE_DAY_STARTS - timedelta(minutes=1))

    assert (lead.score, lead.stage, lead.owner_id) == (70, Stage.NURTURE, None)
    assert not Assignment.objects.open().filter(lead=lead).exists()


def test_rotation_skips_an_mql_still_parked(recycled: Lead, now: datetime) -> None:
    Lead.objects.filter(pk=recycled.pk).update(stage=Stage.MQL, stage_changed_at=now)

    assigned = services.assign_waiting_leads(now=now + timedelta(hours=1))

    assert assigned == 0


def test_pipeline_step_skips_an_mql_still_parked(recycled: Lead, now: datetime) -> None:
    Lead.objects.filter(pk=recycled.pk).update(stage=Stage.MQL, stage_changed_at=now)

    services.assign_lead_step(lead_id=recycled.pk, now=now + timedelta(hours=1))

    assert not Assignment.objects.open().filter(lead=recycled).exists()


def test_assigning_a_recycled_lead_by_hand_ends_its_park(
    recycled: Lead, team: Team, manager: object, now: datetime
) -> None:
    services.assign_lead(lead=recycled, team=team, now=now, by=manager, reason="Asked for a call")

    recycled.refresh_from_db()
    assert recycled.nurture_ends_at is None


# --- Coming back on the date -----------------------------------------------------------------------


def test_return_leaves_a_lead_parked_until_its_day_starts(recycled: Lead) -> None:
    returned = services.return_recycled_leads(now=RECYCLE_DAY_STARTS - timedelta(minutes=1))

    recycled.refresh_from_db()
    assert (returned, recycled.stage, recycled.nurture_ends_at) == (0, Stage.NURTURE, RECYCLE_DAY_STARTS)


def test_return_on_the_date_makes_the_lead_an_mql_and_assigns_it(recycled: Lead, rep: object) -> None:
    returned = services.return_recycled_leads(now=RECYCLE_DAY_STARTS)

    lead = Lead.objects.get(pk=recycled.pk)
    assert (returned, lead.stage, lead.owner, lead.nurture_ends_at) == (1, Stage.MQL, rep, None)
    assert Assignment.objects.open().get(lead=lead).assigned_at == RECYCLE_DAY_STARTS


def test_return_records_that_the_recycle_date_was_reached(recycled: Lead) -> None:
    services.return_recycled_leads(now=RECYCLE_DAY_STARTS)

    change = StageChange.objects.get(lead=recycled, to_stage=Stage.MQL, changed_at=RECYCLE_DAY_STARTS)
    assert change.reason.startswith("Recycle date reached. Score 70 reached the MQL threshold")


def test_return_keeps_a_lead_that_no_longer_qualifies_in_nurture(recycled: Lead, scoring_model: ScoringModel) -> None:
    scoring_model.rules.update(points=30)

    returned = services.return_recycled_leads(now=RECYCLE_DAY_STARTS)

    recycled.refresh_from_db()
    assert (returned, recycled.stage, recycled.owner_id, recycled.nurture_ends_at) == (1, Stage.NURTURE, None, None)


def test_returning_twice_changes_nothing_the_second_time(recycled: Lead) -> None:
    later = RECYCLE_DAY_STARTS + timedelta(minutes=5)
    services.return_recycled_leads(now=RECYCLE_DAY_STARTS)
    before = (StageChange.objects.count(), Assignment.objects.count(), Lead.objects.get(pk=recycled.pk).updated_at)

    returned = services.return_recycled_leads(now=later)

    after = (StageChange.objects.count(), Assignment.objects.count(), Lead.objects.get(pk=recycled.pk).updated_at)
    assert (returned, after) == (0, before)


def test_return_finds_due_leads_in_one_query_when_none_is_due(
    recycled: Lead, django_assert_num_queries: object
) -> None:
    with django_assert_num_queries(1):  # type: ignore[operator]
        services.return_recycled_leads(now=RECYCLE_DAY_STARTS - timedelta(minutes=1))


def test_the_scheduled_task_brings_the_lead_back_at_the_clocks_time(recycled: Lead) -> None:
    with time_machine.travel(RECYCLE_DAY_STARTS + timedelta(minutes=3), tick=False):
        tasks.return_recycled_leads()

    assert Lead.objects.get(pk=recycled.pk).stage == Stage.MQL


# --- Showing the park ------------------------------------------------------------------------------


def test_lead_page_shows_until_when_a_recycled_lead_stays_in_nurture(recycled: Lead, manager: object) -> None:
    response = client_for(manager).get(reverse("handoff:lead", args=[recycled.pk]))

    assert "In nurture until 2026-06-01" in response.content.decode()


def test_lead_page_of_a_lead_back_from_nurture_shows_no_park(recycled: Lead, manager: object) -> None:
    services.return_recycled_leads(now=RECYCLE_DAY_STARTS)

    response = client_for(manager).get(reverse("handoff:lead", args=[recycled.pk]))

    assert response.status_code == 200
    assert "In nurture until" not in response.content.decode()


def test_the_park_has_its_migration() -> None:
    call_command("makemigrations", "leads", "--check", "--dry-run", verbosity=0)
