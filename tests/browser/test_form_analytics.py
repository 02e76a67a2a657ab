"""Form analytics in a real browser: a visitor's view and start are counted, a headless bot's view is not, and the
marketer reads both on the analytics pages with their charts."""

from __future__ import annotations

from pathlib import Path

import pytest

from leads import demo
from leads.models import FieldKind, FormDailyStat
from leads.tests.factories import CaptureFormFactory, ConsentTextFactory, FormFieldFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def test_views_and_starts_reach_the_analytics_pages(
    live_server: object, chromium: object, page: object, artifacts: Path
) -> None:
    demo.ensure_demo_users(password="demo")
    form = CaptureFormFactory(slug="pricing", name="Pricing sheet")
    FormFieldFactory(form=form, order=1, label="Work email", kind=FieldKind.EMAIL, lead_attribute="email",
                     is_required=True)  # fmt: skip
    ConsentTextFactory(form=form, version=1, text="Acme may email me.")
    base = live_server.url  # type: ignore[attr-defined]

    visitor = chromium.new_context(user_agent=DESKTOP, viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    tab = visitor.new_page()
    with tab.expect_request(f"{base}/f/pricing/start/"):
        tab.goto(f"{base}/f/pricing/")
        tab.get_by_label("Work email").click()
    visitor.close()
    page.goto(f"{base}/f/pricing/")  # type: ignore[attr-defined]  # headless Chrome says so: a bot view

    stats = FormDailyStat.objects.get(form=form)
    assert (stats.views, stats.bot_views, stats.starts) == (1, 1, 1)

    page.goto(f"{base}/admin/login/?next=/admin/leads/captureform/analytics/")  # type: ignore[attr-defined]
    page.fill("#id_username", "marketer")  # type: ignore[attr-defined]
    page.fill("#id_password", "demo")  # type: ignore[attr-defined]
    page.click("input[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_selector("#chart-forms[data-rendered='true']")  # type: ignore[attr-defined]
    page.screenshot(path=str(artifacts / "form-analytics-compare.png"), full_page=True)  # type: ignore[attr-defined]
    row = page.locator("[data-form=pricing]").inner_text()  # type: ignore[attr-defined]
    assert row.split("\t")[:4] == ["Pricing sheet", "1", "1", "1"]

    page.get_by_role("link", name="Pricing sheet").click()  # type: ignore[attr-defined]
    page.wait_for_selector("#chart-form-daily[data-rendered='true']")  # type: ignore[attr-defined]
    page.screenshot(path=str(artifacts / "form-analytics-form.png"), full_page=True)  # type: ignore[attr-defined]
    assert page.get_by_test_id("views").inner_text() == "1"  # type: ignore[attr-defined]
    assert page.get_by_test_id("starts").inner_text() == "1"  # type: ignore[attr-defined]
