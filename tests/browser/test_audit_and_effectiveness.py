"""Issue 17 in a real browser: rule effectiveness with a what-if preview, an object's audit history, the audit
list and the retention dry run, each at 1280 px without horizontal scrolling."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from auditlog.context import set_actor
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Page
from pytest_django.live_server_helper import LiveServer

from leads import demo
from leads.models import Stage, SubmissionStatus
from leads.tests.factories import LeadFactory, SubmissionFactory
from scoring.models import ScoringRule
from scoring.tests.factories import ScoringModelFactory, ScoringRuleFactory
from tests.browser.signing_in import sign_in_to_admin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def overflow(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def rule_with_strong_data() -> ScoringRule:
    """A rule whose 60 leads reached SQL three times as often as 60 others (36 against 12): z ≈ 4.5."""
    model = ScoringModelFactory(name="Default", mql_threshold=50, nurture_threshold=10)
    rule = ScoringRuleFactory(scoring_model=model, name="ICP industry", points=15)
    ScoringRuleFactory(scoring_model=model, name="Director or above", points=10)
    item = {"rule_id": rule.pk, "name": rule.name, "kind": rule.kind, "dimension": "fit", "points": 15, "reason": ""}
    for n in range(60):
        LeadFactory(score=55, score_breakdown=[item], stage=Stage.SQL if n < 36 else Stage.MQL)
    for n in range(60):
        LeadFactory(score=30, score_breakdown=[], stage=Stage.SQL if n < 12 else Stage.NURTURE)
    return rule


def test_rule_effectiveness_suggests_and_previews(live_server: LiveServer, page: Page, artifacts: Path) -> None:
    demo.ensure_demo_users(password="demo")
    rule_with_strong_data()
    sign_in_to_admin(page, live_server.url, "/admin/")

    page.click("text=Scoring rule effectiveness")
    page.fill("#id_start", "2026-01-01")
    page.fill("#id_end", "2026-12-31")
    page.click("input[value=Show]")
    page.wait_for_load_state("networkidle")
    suggestion = page.locator("#rule-effectiveness tbody tr").first.locator("[data-col=suggested] strong")
    assert suggestion.inner_text() == "30"  # SQL lift 3: doubled at most
    page.screenshot(path=str(artifacts / "rule-effectiveness-1280.png"), full_page=True)
    assert overflow(page) == 0

    page.click("input[value=Preview]")
    page.wait_for_load_state("networkidle")

    assert page.locator("#preview").inner_text() == "Preview: “ICP industry” at 30 points"
    assert page.locator("[data-what-if=entering_mql]").is_visible()
    page.screenshot(path=str(artifacts / "rule-effectiveness-preview-1280.png"), full_page=True)


def test_history_and_audit_list_show_old_and_new_values(live_server: LiveServer, page: Page, artifacts: Path) -> None:
    demo.ensure_demo_users(password="demo")
    marketer = User.objects.get(username="marketer")
    rule = ScoringRuleFactory(scoring_model=ScoringModelFactory(), name="ICP industry", points=10)
    with set_actor(marketer):
        rule.points = 25
        rule.name = "ICP industry (software, fintech)"
        rule.save()
    sign_in_to_admin(page, live_server.url, f"/admin/scoring/scoringrule/{rule.pk}/history/")

    history = page.locator("#audit-history").inner_text()
    page.screenshot(path=str(artifacts / "audit-history-1280.png"), full_page=True)
    assert "10" in history and "25" in history and "marketer" in history
    assert overflow(page) == 0

    page.click("text=Search the whole audit log")
    page.fill("#searchbar", "software, fintech")
    page.press("#searchbar", "Enter")
    page.wait_for_load_state("networkidle")

    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert "ICP industry → ICP industry (software, fintech)" in rows.first.inner_text()
    page.screenshot(path=str(artifacts / "audit-list-1280.png"), full_page=True)
    assert overflow(page) == 0


def test_retention_policy_dry_run_then_switched_on(live_server: LiveServer, page: Page, artifacts: Path) -> None:
    demo.ensure_demo_users(password="demo")
    for _ in range(3):
        SubmissionFactory(status=SubmissionStatus.SPAM, submitted_at=timezone.now() - timedelta(days=45))
    sign_in_to_admin(page, live_server.url, "/admin/integrations/retentionpolicy/add/")
    page.fill("#id_name", "Spam after 30 days")
    page.select_option("#id_kind", "spam_submissions")
    page.fill("#id_age_days", "30")
    page.check("#id_is_active")
    page.click("input[name=_save]")
    assert "run “Dry run: count what is due” on it first" in page.locator(".errorlist").first.inner_text()
    page.uncheck("#id_is_active")
    page.click("input[name=_save]")

    page.check("#result_list tbody input[type=checkbox]")
    page.select_option("select[name=action]", "dry_run")
    page.click("button[name=index]")
    page.wait_for_load_state("networkidle")

    assert "Spam after 30 days: 3 record(s)" in page.locator(".messagelist").inner_text()
    page.screenshot(path=str(artifacts / "retention-dry-run-1280.png"), full_page=True)
