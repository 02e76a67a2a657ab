"""The routing rule admin: conditions from pick lists, validation, "test this rule on a lead", and the reasons shown
on the lead's and the assignment's admin pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from django.urls import reverse

from handoff import services
from handoff.models import RepPool, RoutingRule, Team
from handoff.services import routing as routing_services
from handoff.tests.factories import MQLFactory
from leads.models import SizeBand
from leads.tests.factories import LeadFactory
from tests.personas import client_for

pytestmark = pytest.mark.django_db


def rule_form(**values: Any) -> dict[str, Any]:
    """A complete add form: a team rule with no conditions, with ``values`` on top."""
    return {"name": "Rule", "order": 10, "is_active": "on", "destination": "team", "team": "", "pool": "",
            "nurture_track": "", **values}  # fmt: skip


def test_a_rule_is_built_from_the_pick_lists(marketer: object, team: Team) -> None:
    SizeBand.objects.get_or_create(name="Enterprise", defaults={"min_employees": 1000})

    response = client_for(marketer).post(
        reverse("admin:handoff_routingrule_add"),
        rule_form(name="Enterprise UK", size_bands=["Enterprise"], countries=["GB", "IE"], seniorities=["vp"],
                  team=team.pk),
    )  # fmt: skip

    assert response.status_code == 302
    rule = RoutingRule.objects.get(name="Enterprise UK")
    assert (rule.size_bands, rule.countries, rule.seniorities, rule.team) == (
        ["Enterprise"],
        ["GB", "IE"],
        ["vp"],
        team,
    )


def test_a_value_not_in_the_pick_list_is_refused(marketer: object, team: Team) -> None:
    response = client_for(marketer).post(
        reverse("admin:handoff_routingrule_add"), rule_form(name="Typo", countries=["UK"], team=team.pk)
    )

    assert response.status_code == 200
    assert "Select a valid choice. UK is not one of the available choices." in response.content.decode()
    assert not RoutingRule.objects.filter(name="Typo").exists()


def test_a_minimum_above_the_maximum_is_refused(marketer: object, team: Team) -> None:
    response = client_for(marketer).post(
        reverse("admin:handoff_routingrule_add"),
        rule_form(name="Backwards", employee_min=1000, employee_max=10, team=team.pk),
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["employee_max"] == ["Must not be below the minimum."]


@pytest.mark.parametrize(
    ("destination", "field", "message"),
    [
        ("team", "team", "Choose the team this rule hands leads to."),
        ("pool", "pool", "Choose the rep pool this rule hands leads to."),
        ("nurture", "nurture_track", "Choose the nurture track."),
    ],
)
def test_a_rule_without_its_destination_is_refused(
    marketer: object, destination: str, field: str, message: str
) -> None:
    response = client_for(marketer).post(
        reverse("admin:handoff_routingrule_add"), rule_form(name="Nowhere", destination=destination)
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field] == [message]
    assert not RoutingRule.objects.filter(name="Nowhere").exists()


def test_a_pool_rule_takes_the_pools_team(marketer: object, team: Team) -> None:
    pool = RepPool.objects.create(team=team, name="Seniors")

    client_for(marketer).post(
        reverse("admin:handoff_routingrule_add"), rule_form(name="To seniors", destination="pool", pool=pool.pk)
    )

    assert RoutingRule.objects.values_list("pool", "team").get(name="To seniors") == (pool.pk, team.pk)


def test_a_nurture_rule_offers_the_live_tracks_and_keeps_the_key(marketer: object, monkeypatch: Any) -> None:
    monkeypatch.setattr(routing_services.events, "nurture_track_choices", lambda: [("saas-onboarding", "SaaS")])

    response = client_for(marketer).post(
        reverse("admin:handoff_routingrule_add"),
        rule_form(name="To SaaS", destination="nurture", nurture_track="saas-onboarding"),
    )

    assert response.status_code == 302
    assert RoutingRule.objects.values_list("nurture_track", "team").get(name="To SaaS") == ("saas-onboarding", None)


def test_the_default_routing_rule_cannot_be_deleted(marketer: object) -> None:
    default = RoutingRule.objects.get(is_default=True)

    response = client_for(marketer).post(
        reverse("admin:handoff_routingrule_delete", args=[default.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert RoutingRule.objects.filter(is_default=True).exists()


def test_deleting_a_team_a_rule_names_is_refused_with_the_rule_named(team: Team, rules_user: object) -> None:
    RoutingRule.objects.create(name="UK → London", countries=["GB"], team=team)

    response = client_for(rules_user).post(reverse("admin:handoff_team_delete", args=[team.pk]), {"post": "yes"})

    assert Team.objects.filter(pk=team.pk).exists()
    assert "UK → London" in response.content.decode()


@pytest.fixture
def rules_user(db: None) -> object:
    from leads.tests.factories import UserFactory

    return UserFactory(username="admin", is_staff=True, is_superuser=True)


# --- Test this rule on a lead -----------------------------------------------------------------------------------


def test_the_tester_says_a_lead_matches(marketer: object, team: Team) -> None:
    rule = RoutingRule.objects.create(name="UK", countries=["GB"], score_min=50, team=team)
    lead = LeadFactory(country="GB", score=60)

    response = client_for(marketer).get(reverse("admin:handoff_routingrule_test", args=[rule.pk]), {"lead": lead.email})

    assert response.context["result"].matches is True
    assert "<strong>Matches.</strong> Every condition holds." in response.content.decode()


def test_the_tester_names_the_condition_that_failed(marketer: object, team: Team) -> None:
    rule = RoutingRule.objects.create(name="UK", countries=["GB"], score_min=50, team=team)
    lead = LeadFactory(country="GB", score=20)

    response = client_for(marketer).get(reverse("admin:handoff_routingrule_test", args=[rule.pk]), {"lead": lead.pk})

    assert "<strong>Does not match:</strong> score 20 is not at least 50." in response.content.decode()


def test_the_tester_says_so_when_no_lead_is_found(marketer: object, team: Team) -> None:
    rule = RoutingRule.objects.create(name="UK", countries=["GB"], team=team)

    response = client_for(marketer).get(
        reverse("admin:handoff_routingrule_test", args=[rule.pk]), {"lead": "nobody@nowhere.example"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["lead"] == ["No lead has this id or email address."]


def test_the_rule_page_links_to_the_tester(marketer: object, team: Team) -> None:
    rule = RoutingRule.objects.create(name="UK", countries=["GB"], team=team)

    response = client_for(marketer).get(reverse("admin:handoff_routingrule_change", args=[rule.pk]))

    assert reverse("admin:handoff_routingrule_test", args=[rule.pk]) in response.content.decode()


def test_a_rep_cannot_use_the_tester(rep: object, team: Team) -> None:
    rule = RoutingRule.objects.create(name="UK", countries=["GB"], team=team)

    response = client_for(rep).get(reverse("admin:handoff_routingrule_test", args=[rule.pk]), {"lead": "1"})

    assert response.status_code == 302  # to the admin login: reps are not staff


# --- Reasons in admin -----------------------------------------------------------------------------------------


def test_the_lead_admin_page_shows_the_routing_and_assignment_reasons(
    marketer: object, team: Team, now: datetime
) -> None:
    RoutingRule.objects.create(name="UK → London", countries=["GB"], team=team)
    lead = MQLFactory(country="GB")
    routing_services.route_lead(lead_id=lead.pk, now=now)
    services.assign_lead_step(lead_id=lead.pk, now=now)

    page = client_for(marketer).get(reverse("admin:leads_lead_change", args=[lead.pk])).content.decode()

    assert "Rule “UK → London” matched: country “GB” is one of GB." in page
    assert "rep1 was the only rep of London available." in page


def test_the_assignment_admin_page_shows_why_this_rep(manager: object, team: Team, now: datetime) -> None:
    assignment = services.assign_lead(lead=MQLFactory(), team=team, now=now)

    page = client_for(manager).get(reverse("admin:handoff_assignment_change", args=[assignment.pk])).content.decode()

    assert "rep1 was the only rep of London available." in page
    assert 'data-testid="assignment-candidates"' in page


def test_the_rule_list_says_where_each_rule_sends_leads(marketer: object, team: Team) -> None:
    RoutingRule.objects.create(name="UK → London", countries=["GB"], employee_min=200, team=team)

    page = client_for(marketer).get(reverse("admin:handoff_routingrule_changelist")).content.decode()

    assert "Team: London" in page
    assert "country: GB; employees at least 200" in page
    assert "Nurture: general-nurture" in page
