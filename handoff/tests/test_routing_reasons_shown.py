"""The reasons of routing and assignment where people read them: the API's lead detail and the rep's lead page."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.test import Client
from django.urls import reverse

from handoff import services
from handoff.models import RoutingRule, Team
from handoff.services import routing as routing_services
from handoff.tests.factories import MQLFactory, route
from integrations.tests.factories import ApiKeyFactory, api_headers
from leads.models import Lead
from tests.personas import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def routed_and_assigned(team: Team, now: datetime) -> Lead:
    """An MQL from the UK that the rule "UK → London" sent to the London team, where rep1 took it."""
    RoutingRule.objects.create(name="UK → London", countries=["GB"], team=team)
    lead = MQLFactory(country="GB")
    routing_services.route_lead(lead_id=lead.pk, now=now)
    services.assign_lead_step(lead_id=lead.pk, now=now)
    return lead


def test_the_api_lead_detail_carries_the_routing_decision_and_its_reasons(routed_and_assigned: Lead) -> None:
    key = ApiKeyFactory(scope="read")

    body = Client().get(f"/api/leads/{routed_and_assigned.pk}/", headers=api_headers(key)).json()

    assert {name: body["routing"][name] for name in ("destination", "team", "rule", "nurture_track")} == {
        "destination": "team",
        "team": "london",
        "rule": "UK → London",
        "nurture_track": "",
    }
    assert body["routing"]["reasons"]["held"] == ["country “GB” is one of GB"]
    assert body["routing_team"] == "london"


def test_the_api_lead_detail_says_why_the_rep_got_the_lead(routed_and_assigned: Lead) -> None:
    key = ApiKeyFactory(scope="read")

    body = Client().get(f"/api/leads/{routed_and_assigned.pk}/", headers=api_headers(key)).json()

    reasons = body["sla"]["reasons"]
    assert (reasons["how"], reasons["summary"]) == ("rotation", "rep1 was the only rep of London available.")
    assert [(row["rep"], row["weight"], row["open"], row["chosen"]) for row in reasons["candidates"]] == [
        ("rep1", 1, 0, True)
    ]


def test_an_unrouted_lead_has_no_routing_in_the_api(db: None) -> None:
    lead = MQLFactory()

    body = Client().get(f"/api/leads/{lead.pk}/", headers=api_headers(ApiKeyFactory(scope="read"))).json()

    assert (body["routing"], body["routing_team"]) == (None, "")


def test_the_reps_lead_page_shows_why_the_lead_is_theirs(rep: object, routed_and_assigned: Lead) -> None:
    page = client_for(rep).get(reverse("handoff:lead", args=[routed_and_assigned.pk])).content.decode()

    assert "Why this lead is here" in page
    assert "Rule “UK → London” matched: country “GB” is one of GB." in page
    assert "rep1 was the only rep of London available." in page


def test_the_personal_data_export_says_where_routing_sent_the_lead_and_why(routed_and_assigned: Lead) -> None:
    exported = services.lead_personal_data(lead=routed_and_assigned)["handoff"]["routing"]

    assert (exported["destination"], exported["team"], exported["rule"]) == ("team", "London", "UK → London")
    assert exported["reasons"]["held"] == ["country “GB” is one of GB"]


def test_the_team_queue_names_the_team_routing_chose(manager: object, team: Team) -> None:
    route(MQLFactory(), team=team)

    page = client_for(manager).get(reverse("handoff:team_queue"), {"show": "unassigned"}).content.decode()

    assert ">London</td>" in page
    assert ">no team</td>" not in page
