"""Form analytics in a real browser: a visitor's view and start are counted, a headless bot's view is not, and the
marketer reads both on the analytics pages with their charts."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page
from pytest_django.live_server_helper import LiveServer

from leads import demo
from leads.models import FieldKind, FormDailyStat
from leads.tests.factories import CaptureFormFactory, ConsentTextFactory, FormFieldFactory
from tests.browser.signing_in import sign_in_to_admin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def test_views_and_starts_reach_the_analytics_pages(
    live_server: LiveServer, chromium: Browser, page: Page, artifacts: Path
) -> None:
    demo.ensure_demo_users(password="demo")
    form = CaptureFormFactory(slug="pricing", name="Pricing sheet")
    FormFieldFactory(form=form, order=1, label="Work email", kind=FieldKind.EMAIL, lead_attribute="email",
                     is_required=True)  # fmt: skip
    ConsentTextFactory(form=form, version=1, text="Acme may email me.")
    base = live_server.url

    visitor = chromium.new_context(user_agent=DESKTOP, viewport={"width": 1280, "height": 900})
    tab = visitor.new_page()
    with tab.expect_request(f"{base}/f/pricing/start/"):
        tab.goto(f"{base}/f/pricing/")
        tab.get_by_label("Work email").click()
    visitor.close()
    page.goto(f"{base}/f/pricing/")  # headless Chrome says so: a bot view

    stats = FormDailyStat.objects.get(form=form)
    assert (stats.views, stats.bot_views, stats.starts) == (1, 1, 1)

    sign_in_to_admin(page, base, "/admin/leads/captureform/analytics/")
    page.wait_for_selector("#chart-forms[data-rendered='true']")
    page.screenshot(path=str(artifacts / "form-analytics-compare.png"), full_page=True)
    row = page.locator("[data-form=pricing]").inner_text()
    assert row.split("\t")[:4] == ["Pricing sheet", "1", "1", "1"]

    page.get_by_role("link", name="Pricing sheet").click()
    page.wait_for_selector("#chart-form-daily[data-rendered='true']")
    page.screenshot(path=str(artifacts / "form-analytics-form.png"), full_page=True)
    assert page.get_by_test_id("views").inner_text() == "1"
    assert page.get_by_test_id("starts").inner_text() == "1"
