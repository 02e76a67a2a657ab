"""A rep works a lead in the browser: the live countdown ticks, they log a call and qualify the lead."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import ConsoleMessage, Page
from pytest_django.live_server_helper import LiveServer

from handoff import services
from handoff.demo import load_demo_handoff
from handoff.models import Team, TeamHours
from leads import demo
from leads import services as lead_services
from leads.models import ActivityKind, ConsentSource, Lead, LegalBasis, Stage
from tests.browser.signing_in import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCORE_BREAKDOWN = [
    {"name": "Senior marketing title", "points": 25, "reason": "VP Marketing"},
    {"name": "Target industry", "points": 15, "reason": "Software"},
    {"name": "Pricing page visits", "points": 20, "reason": "3 visits this week"},
    {"name": "Webinar attended", "points": 18, "reason": "Partner cloud summit"},
]


def open_round_the_clock(team: Team) -> None:
    """The countdown only ticks while the team is open; make sure it is, whenever the test runs."""
    team.hours.all().delete()
    TeamHours.objects.bulk_create(
        TeamHours(team=team, weekday=day, opens_at=time(0), closes_at=time(0)) for day in range(7)
    )


def fresh_mql_for(rep: User, team: Team) -> Lead:
    """A lead captured from a LinkedIn ad and scored into an MQL a moment ago, then assigned to ``rep``."""
    captured_at = timezone.now() - timedelta(minutes=20)
    lead = lead_services.capture_lead(
        details=lead_services.LeadDetails(
            email="nora.lindqvist@fjordsoftware.example",
            first_name="Nora",
            last_name="Lindqvist",
            company_name="Fjord Software",
            company_domain="fjordsoftware.example",
            job_title="VP Marketing",
            country="NO",
        ),
        consent=lead_services.ConsentDetails(
            legal_basis=LegalBasis.OPT_IN, text=demo.CONSENT_TEXT, source=ConsentSource.FORM, source_ref="whitepaper"
        ),
        touch=lead_services.TouchDetails(source="linkedin", medium="paid_social", campaign="q3-whitepaper"),
        activity_kind=ActivityKind.ASSET_DOWNLOADED,
        now=captured_at,
    ).lead
    Lead.objects.filter(pk=lead.pk).update(
        industry="Software", size_band="Mid-market", employee_count=120, seniority="vp", job_function="marketing",
        score=78, fit_score=40, engagement_score=38, score_breakdown=SCORE_BREAKDOWN, first_touch_source="linkedin",
        first_touch_medium="paid_social",
    )  # fmt: skip
    lead.refresh_from_db()
    lead_services.change_stage(lead=lead, to_stage=Stage.MQL, now=captured_at, reason="Scored 78: an MQL")
    services.assign_lead(lead=lead, team=team, now=timezone.now(), rep=rep, reason="Speaks Norwegian")
    return lead


def console_error(message: ConsoleMessage, errors: list[str]) -> None:
    # The browser asks for /favicon.ico on its own; the site has none, and that is not our page's fault.
    if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
        errors.append(message.text)


def test_rep_sees_a_live_countdown_logs_a_call_and_qualifies_the_lead(
    live_server: LiveServer, page: Page, artifacts: Path
) -> None:
    now = timezone.now()
    users = demo.ensure_demo_users(password="demo")
    demo.load_demo_leads(count=96, reps=[users[f"rep{i}"] for i in range(1, 5)], now=now)
    load_demo_handoff(users=users, now=now)
    enterprise = Team.objects.get(slug="enterprise")
    open_round_the_clock(enterprise)
    lead = fresh_mql_for(users["rep1"], enterprise)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: console_error(message, errors))

    sign_in(page, live_server.url, "rep1")
    assert page.url == f"{live_server.url}/inbox/"
    clock = page.locator(f'tr[data-lead-id="{lead.pk}"] [data-testid="sla-clock"]')
    before = clock.inner_text()
    page.screenshot(path=str(artifacts / "inbox-countdown-1.png"), full_page=True)
    page.wait_for_timeout(3000)
    after = clock.inner_text()
    page.screenshot(path=str(artifacts / "inbox-countdown-2.png"), full_page=True)

    assert before.startswith("due in ") and after.startswith("due in ")
    assert after != before

    page.click(f'tr[data-lead-id="{lead.pk}"] a')
    page.wait_for_url(f"{live_server.url}/inbox/lead/{lead.pk}/")
    page.select_option("#id_contact-kind", "call")
    page.fill("#id_contact-note", "Good call: evaluating lead routing tools, wants a demo with her team.")
    page.click("input[name=contact-submit]")
    page.wait_for_selector("text=Call with Nora Lindqvist logged. The SLA is met.")
    page.screenshot(path=str(artifacts / "lead-call-logged.png"), full_page=True)

    page.fill("#id_qualify-budget", "€40k approved for this year")
    page.fill("#id_qualify-authority", "Nora owns the budget; CFO signs off")
    page.fill("#id_qualify-need", "Leads wait days for a first call")
    page.fill("#id_qualify-timing", "Decision by end of quarter")
    page.click("input[name=qualify-submit]")
    page.wait_for_selector("text=Nora Lindqvist is now a sales-qualified lead (SQL).")
    page.screenshot(path=str(artifacts / "lead-qualified.png"), full_page=True)

    assert page.locator('[data-testid="lead-stage"]').inner_text() == "Sales-qualified (SQL)"
    assert Lead.objects.get(pk=lead.pk).stage == Stage.SQL
    assert errors == []


def test_manager_reassigns_a_breached_lead_from_the_team_queue(
    live_server: LiveServer, page: Page, artifacts: Path
) -> None:
    now = timezone.now()
    users = demo.ensure_demo_users(password="demo")
    demo.load_demo_leads(count=96, reps=[users[f"rep{i}"] for i in range(1, 5)], now=now)
    load_demo_handoff(users=users, now=now)

    sign_in(page, live_server.url, "manager", "/inbox/team/")
    page.screenshot(path=str(artifacts / "team-queue-breached.png"), full_page=True)
    breached_before = page.locator("input[name=bulk-ids]").count()
    page.locator("input[name=bulk-ids]").first.check()
    page.select_option("#id_bulk-to", label="Next in rotation (Mid-market)")
    page.fill("#id_bulk-reason", "Rep is on a customer visit all week")
    page.click("[data-testid=bulk-form] button[type=submit]")
    page.wait_for_selector("[data-testid=bulk-confirm]")
    page.click("[data-testid=bulk-confirm-submit]")
    page.wait_for_selector("text=1 lead reassigned.")
    page.screenshot(path=str(artifacts / "team-queue-reassigned.png"), full_page=True)

    assert breached_before >= 1
    assert page.locator("input[name=bulk-ids]").count() == breached_before - 1
