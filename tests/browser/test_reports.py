"""The managers' reports page in a real browser: charts drawn from the demo data, and closed to reps."""

from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page
from pytest_django.live_server_helper import LiveServer

from leads import demo
from reports.demo import load_demo_reports
from tests.browser.signing_in import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHARTS = ("chart-volume", "chart-funnel", "chart-quality", "chart-cost-lead", "chart-cost-sql", "chart-attribution")


def test_manager_sees_the_report_charts_with_demo_data(live_server: LiveServer, page: Page, artifacts: Path) -> None:
    now = timezone.now()
    users = demo.ensure_demo_users(password="demo")
    demo.load_demo_leads(count=160, reps=[users[f"rep{i}"] for i in range(1, 5)], now=now)
    load_demo_reports(users=users, now=now)
    sign_in(page, live_server.url, "manager")

    page.goto(f"{live_server.url}/reports/")
    for chart in CHARTS:
        page.wait_for_selector(f"#{chart}[data-rendered='true']")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(artifacts / "reports-manager.png"), full_page=True)

    assert page.locator("h1").first.inner_text() == "Reports"
    for chart in CHARTS:
        box = page.locator(f"#{chart}").bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 100
    assert page.locator("[data-testid=table-quality] tbody tr").count() > 3


def test_rep_gets_403_on_the_reports(live_server: LiveServer, page: Page) -> None:
    demo.ensure_demo_users(password="demo")
    sign_in(page, live_server.url, "rep1")

    response = page.goto(f"{live_server.url}/reports/")

    assert response.status == 403  # type: ignore[union-attr]  # None only for a same-page (#anchor) goto
