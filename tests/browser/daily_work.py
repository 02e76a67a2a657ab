"""Shared set-up of the daily-work browser tests: demo people, a team open round the clock, leads, checks."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Page

from handoff import services
from handoff.models import Assignment, Team
from handoff.tests.factories import MQLFactory, TeamFactory
from leads import demo
from tests.browser.signing_in import DEMO_PASSWORD

AXE = Path(__file__).resolve().parent / "assets" / "axe.min.js"
ROUND_THE_CLOCK = {day: [(time(0), time(0))] for day in range(7)}
COMPANIES = ("Fjord Software", "Cobalt Freight", "Nimbus Health", "Acre Analytics", "Helix Robotics", "Orbit Foods")


def demo_team() -> tuple[dict[str, Any], Team]:
    users = demo.ensure_demo_users(password=DEMO_PASSWORD)
    team = TeamFactory(
        name="Enterprise",
        slug="enterprise-test",
        hours=ROUND_THE_CLOCK,
        members=[users["rep1"]],
        managers=[users["manager"]],
    )
    return users, team


def assign_leads(team: Team, rep: User, count: int, **lead_fields: Any) -> list[Assignment]:
    """``count`` MQLs assigned to ``rep``, one minute apart, alternating sources and campaigns."""
    now = timezone.now()
    made = []
    for i in range(count):
        fields = {
            "company_name": COMPANIES[i % len(COMPANIES)],
            "first_touch_source": ("linkedin", "google")[i % 2],
            "first_touch_campaign": ("spring-webinar", "pricing-ads")[i % 2],
            **lead_fields,
        }
        lead = MQLFactory(**fields)
        made.append(services.assign_lead(lead=lead, team=team, rep=rep, now=now - timedelta(minutes=count - i)))
    return made


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now, one line each."""
    page.evaluate(AXE.read_text())  # evaluated, not a <script>: the CSP allows no inline script
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{violation['id']} ({violation['impact']}): {node['target']} — {node['failureSummary'][:160]}"
        for violation in results["violations"]
        if violation["impact"] in ("serious", "critical")
        for node in violation["nodes"]
    ]


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the viewport (0: no sideways scrolling)."""
    return int(page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"))
