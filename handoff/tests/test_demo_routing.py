"""The demo's owned leads are routed and assigned as the product would do it: routing's decision names the team
of each assignment, and the manager (never "Someone") assigned them."""

from __future__ import annotations

import io

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from handoff.models import Assignment, AssignmentOutcome, Membership, RoutingDecision, RoutingDestination, SLARecord
from leads.models import StageChange
from leads.tests.factories import FIXED_NOW

pytestmark = pytest.mark.django_db


def load_demo() -> None:
    with time_machine.travel(FIXED_NOW, tick=False):
        call_command("load_demo", demo_leads=64, stdout=io.StringIO())


@pytest.fixture
def demo() -> None:
    """The whole demo (``manage.py load_demo``) with 64 leads, loaded at a fixed instant."""
    load_demo()


def test_every_assigned_demo_lead_was_routed_to_its_assignments_team(demo: None) -> None:
    decisions = {decision.lead_id: decision.team_id for decision in RoutingDecision.objects.all()}
    assignments = list(Assignment.objects.all())

    assert {assignment.outcome for assignment in assignments} >= {"", AssignmentOutcome.QUALIFIED}  # open, finished
    assert [a.lead_id for a in assignments if decisions.get(a.lead_id, "none") != a.team_id] == []


def test_demo_leads_routed_to_a_pool_are_assigned_to_a_rep_of_the_pool(demo: None) -> None:
    pooled = dict(RoutingDecision.objects.filter(destination=RoutingDestination.POOL).values_list("lead_id", "pool_id"))
    assignments = list(Assignment.objects.filter(lead__in=list(pooled)))

    assert assignments
    assert all(Membership.objects.filter(user_id=a.rep_id, pools__pk=pooled[a.lead_id]).exists() for a in assignments)


def test_the_manager_assigned_every_demo_lead(demo: None) -> None:
    manager = get_user_model().objects.get(username="manager")

    assignments = list(Assignment.objects.all())

    assert assignments
    assert {assignment.assigned_by_id for assignment in assignments} == {manager.pk}
    assert [a.reasons["summary"] for a in assignments if not a.reasons["summary"].startswith("manager chose ")] == []


def test_a_reps_demo_lead_pages_say_where_routing_sent_each_lead_and_who_assigned_it(demo: None) -> None:
    rep = get_user_model().objects.get(username="rep1")
    client = Client()
    client.force_login(rep)
    lead_ids = list(Assignment.objects.open().filter(rep=rep).values_list("lead_id", flat=True))

    pages = [client.get(reverse("handoff:lead", args=[lead_id])).content.decode() for lead_id in lead_ids]

    assert lead_ids
    assert all('data-testid="routing-summary"' in page and "Not routed yet" not in page for page in pages)
    assert all("manager chose rep1" in page and "Someone" not in page for page in pages)


def test_loading_the_demo_again_routes_and_assigns_nothing_twice(demo: None) -> None:
    decisions = set(RoutingDecision.objects.values_list("lead_id", "team_id", "decided_at"))
    counts = (Assignment.objects.count(), SLARecord.objects.count(), StageChange.objects.count())

    load_demo()

    assert set(RoutingDecision.objects.values_list("lead_id", "team_id", "decided_at")) == decisions
    assert (Assignment.objects.count(), SLARecord.objects.count(), StageChange.objects.count()) == counts
