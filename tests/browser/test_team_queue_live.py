"""A manager's team queue updates itself: a new assignment and a reassignment appear without reload."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page
from pytest_django.live_server_helper import LiveServer

from handoff import services
from handoff.models import Membership
from handoff.tests.factories import MQLFactory
from tests.browser.daily_work import assign_leads, demo_team
from tests.browser.signing_in import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_new_assignment_and_a_reassignment_appear_in_the_queue_without_reload(
    live_server: LiveServer, page: Page, artifacts: Path
) -> None:
    users, team = demo_team()
    Membership.objects.create(team=team, user=users["rep2"])
    assign_leads(team, users["rep1"], 1)
    page.add_init_script("window.localStorage.setItem('inbox-poll-ms', '500')")
    sign_in(page, live_server.url, "manager", "/inbox/team/?show=open")
    page.wait_for_function("() => document.title.startsWith('(0)')")
    page.evaluate("window.__notReloaded = true")

    lead = MQLFactory(first_name="Ingrid", last_name="Arrival", company_name="Live Update AS")
    arrived = services.assign_lead(lead=lead, team=team, rep=users["rep1"], now=timezone.now())
    row = page.locator("tr", has=page.locator(f'a[href="/inbox/lead/{lead.pk}/"]'))
    row.wait_for(timeout=10000)
    announced = page.inner_text("[data-live-status]")
    services.reassign_lead(
        assignment=arrived, now=timezone.now(), by=users["manager"], reason="Rep away", rep=users["rep2"]
    )
    page.wait_for_function(
        f"() => [...document.querySelectorAll('tr')].some(r => r.querySelector('a[href=\"/inbox/lead/{lead.pk}/\"]')"
        " && r.innerText.includes('Robin Rep'))",
        timeout=10000,
    )
    page.screenshot(path=str(artifacts / "team-queue-live-update.png"), full_page=True)

    assert page.evaluate("window.__notReloaded") is True
    assert announced == "A lead was assigned in your teams."
