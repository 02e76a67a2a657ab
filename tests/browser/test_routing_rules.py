"""Routing in a real browser: a marketer builds a rule from the pick lists, tests it on a lead, and the rep's lead
page says why the lead is theirs."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page
from pytest_django.live_server_helper import LiveServer

from handoff import services
from handoff.models import RoutingRule, Team
from handoff.services import routing as routing_services
from handoff.tests.factories import MQLFactory, TeamFactory
from leads import demo
from leads.models import SizeBand
from tests.browser.signing_in import sign_in_to_admin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_marketer_builds_a_rule_from_pick_lists_and_tests_it_on_a_lead(
    live_server: LiveServer, page: Page, artifacts: Path
) -> None:
    demo.ensure_demo_users(password="demo")
    SizeBand.objects.get_or_create(name="Enterprise", defaults={"min_employees": 1000})
    SizeBand.objects.get_or_create(name="SMB", defaults={"min_employees": 10, "max_employees": 199})
    team = TeamFactory(slug="enterprise", name="Enterprise")
    small = MQLFactory(email="cfo@tiny.example", size_band="SMB", country="GB")
    base = live_server.url
    sign_in_to_admin(page, base, "/admin/handoff/routingrule/add/")

    page.fill("#id_name", "Enterprise UK → enterprise team")
    page.select_option("#id_size_bands_from", "Enterprise")
    page.click("#id_size_bands_add")
    page.select_option("#id_countries_from", "GB")
    page.click("#id_countries_add")
    page.fill("#id_employee_min", "5000")
    page.fill("#id_employee_max", "100")
    page.select_option("#id_destination", "team")
    page.select_option("#id_team", str(team.pk))
    page.click("input[name=_continue]")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(artifacts / "routing-rule-invalid.png"), full_page=True)
    error = page.locator(".errorlist").first.inner_text()

    page.fill("#id_employee_max", "")
    page.click("input[name=_continue]")
    page.wait_for_load_state("networkidle")
    rule = RoutingRule.objects.get(name="Enterprise UK → enterprise team")
    page.screenshot(path=str(artifacts / "routing-rule-saved.png"), full_page=True)

    page.click("[data-testid=test-rule-link]")
    page.fill("#id_lead", small.email)
    page.click("input[type=submit][value='Test this rule']")
    page.wait_for_selector("[data-testid=rule-test-result]")
    verdict = page.locator("[data-testid=rule-test-verdict]").inner_text()
    page.screenshot(path=str(artifacts / "routing-rule-tester.png"), full_page=True)

    assert error == "Must not be below the minimum."
    assert (rule.size_bands, rule.countries, rule.employee_min, rule.team) == (["Enterprise"], ["GB"], 5000, team)
    assert verdict == "Does not match: size band “SMB” is not one of Enterprise."


def test_the_reps_lead_page_shows_why_the_lead_is_theirs(live_server: LiveServer, page: Page, artifacts: Path) -> None:
    users = demo.ensure_demo_users(password="demo")
    team: Team = TeamFactory(slug="london", name="London", members=[users["rep1"], users["rep2"]])
    RoutingRule.objects.create(name="UK → London", countries=["GB"], team=team)
    lead = MQLFactory(country="GB", first_name="Grace", last_name="Hopper")
    now = timezone.now()
    routing_services.route_lead(lead_id=lead.pk, now=now)
    assignment = services.assign_lead_step(lead_id=lead.pk, now=now)
    owner = lead.__class__.objects.get(pk=lead.pk).owner
    base = live_server.url

    page.goto(f"{base}/accounts/login/?next={reverse('handoff:lead', args=[lead.pk])}")
    page.fill("#id_username", owner.username)
    page.fill("#id_password", "demo")
    page.click("button[type=submit]")
    box = page.locator("[data-testid=decision-reasons]")
    box.wait_for()
    box.screenshot(path=str(artifacts / "lead-page-decision-reasons.png"))
    text = box.inner_text()

    assert assignment == "assigned"
    assert "Rule “UK → London” matched: country “GB” is one of GB." in text
    assert box.locator("[data-testid=assignment-candidates] tbody tr").count() == 2
