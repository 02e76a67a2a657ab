"""The managers' reports page in a real browser: charts drawn from the demo data, and closed to reps."""

from pathlib import Path

import pytest
from django.utils import timezone

from leads import demo
from reports.demo import load_demo_reports

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHARTS = ("chart-volume", "chart-funnel", "chart-quality", "chart-cost-lead", "chart-cost-sql", "chart-attribution")


def sign_in(page: object, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")  # type: ignore[attr-defined]
    page.fill("#id_username", username)  # type: ignore[attr-defined]
    page.fill("#id_password", "demo")  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_load_state("networkidle")  # type: ignore[attr-defined]


def test_manager_sees_the_report_charts_with_demo_data(live_server: object, page: object, artifacts: Path) -> None:
    now = timezone.now()
    users = demo.ensure_demo_users(password="demo")
    demo.load_demo_leads(count=160, reps=[users[f"rep{i}"] for i in range(1, 5)], now=now)
    load_demo_reports(users=users, now=now)
    sign_in(page, live_server.url, "manager")  # type: ignore[attr-defined]

    page.goto(f"{live_server.url}/reports/")  # type: ignore[attr-defined]
    for chart in CHARTS:
        page.wait_for_selector(f"#{chart}[data-rendered='true']")  # type: ignore[attr-defined]
    page.wait_for_load_state("networkidle")  # type: ignore[attr-defined]
    page.screenshot(path=str(artifacts / "reports-manager.png"), full_page=True)  # type: ignore[attr-defined]

    assert page.locator("h1").first.inner_text() == "Reports"  # type: ignore[attr-defined]
    for chart in CHARTS:
        box = page.locator(f"#{chart}").bounding_box()  # type: ignore[attr-defined]
        assert box is not None and box["width"] > 100 and box["height"] > 100
    assert page.locator("[data-testid=table-quality] tbody tr").count() > 3  # type: ignore[attr-defined]


def test_rep_gets_403_on_the_reports(live_server: object, page: object) -> None:
    demo.ensure_demo_users(password="demo")
    sign_in(page, live_server.url, "rep1")  # type: ignore[attr-defined]

    response = page.goto(f"{live_server.url}/reports/")  # type: ignore[attr-defined]

    assert response.status == 403
