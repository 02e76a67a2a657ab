"""axe-core (vendored from the npm registry: tests/browser/assets/axe.min.js) on every page a rep, a manager or a
visitor uses: no serious or critical violation."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.test import override_settings
from django.utils import timezone
from playwright.sync_api import Page
from pytest_django.live_server_helper import LiveServer

from leads import spam
from leads.models import FieldKind
from leads.tests.factories import CaptureFormFactory, ConsentTextFactory, FormFieldFactory
from tests.browser.daily_work import assign_leads, demo_team, serious_violations
from tests.browser.signing_in import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CONSENT = "Yes, Acme may email me about its products. I can withdraw this at any time."


def test_the_inbox_lead_page_and_team_queue_have_no_serious_violations(
    live_server: LiveServer, page: Page, artifacts: Path
) -> None:
    users, team = demo_team()
    made = assign_leads(team, users["rep1"], 4)
    sign_in(page, live_server.url, "rep1", "/inbox/")
    found = {"inbox": serious_violations(page)}
    page.goto(f"{live_server.url}/inbox/lead/{made[0].lead_id}/")
    found["lead page"] = serious_violations(page)
    page.context.clear_cookies()
    sign_in(page, live_server.url, "manager", "/inbox/team/?show=open")
    found["team queue"] = serious_violations(page)
    page.goto(f"{live_server.url}/inbox/team/?show=unassigned")
    found["unassigned queue"] = serious_violations(page)

    assert found == {"inbox": [], "lead page": [], "team queue": [], "unassigned queue": []}


def test_the_reports_page_has_no_serious_violations(live_server: LiveServer, page: Page) -> None:
    from leads import demo
    from reports.demo import load_demo_reports

    now = timezone.now()
    users = demo.ensure_demo_users(password="demo")
    demo.load_demo_leads(count=40, reps=[users[f"rep{i}"] for i in range(1, 5)], now=now)
    load_demo_reports(users=users, now=now)
    sign_in(page, live_server.url, "manager", "/reports/")
    page.wait_for_selector("[data-rendered='true']")

    assert serious_violations(page) == []


def test_the_public_form_and_its_thank_you_page_have_no_serious_violations(
    live_server: LiveServer, page: Page, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spam, "MIN_FILL_DURATION", timedelta(0))  # no need to wait out the time trap
    form = CaptureFormFactory(slug="state-of-b2b", name="State of B2B", headline="The State of B2B 2026", asset_url="")
    for order, (label, kind, attribute) in enumerate(
        [("Work email", FieldKind.EMAIL, "email"), ("Company", FieldKind.TEXT, "company_name")]
    ):
        FormFieldFactory(form=form, order=order, label=label, kind=kind, lead_attribute=attribute, is_required=True)
    ConsentTextFactory(form=form, version=1, text=CONSENT)

    with override_settings(MEDIA_ROOT=tmp_path):
        page.goto(f"{live_server.url}/f/{form.slug}/")
        on_form = serious_violations(page)
        page.get_by_label("Work email").fill("ada@acme-analytics.example")
        page.get_by_label("Company*").fill("Acme Analytics")
        page.get_by_label(CONSENT).check()
        page.locator("form button[type=submit], form input[type=submit]").first.click()
        page.get_by_test_id("thank-you").wait_for()
        on_thank_you = serious_violations(page)

    assert (on_form, on_thank_you) == ([], [])
