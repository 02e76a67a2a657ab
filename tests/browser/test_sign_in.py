from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page
from pytest_django.live_server_helper import LiveServer

from leads import demo
from tests.browser.signing_in import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("username", "landing_path", "heading"),
    [
        ("rep1", "/inbox/", "My inbox"),
        ("manager", "/reports/", "Reports"),
        ("marketer", "/admin/", "Site administration"),
    ],
)
def test_each_demo_login_lands_on_its_page(
    live_server: LiveServer, page: Page, artifacts: Path, username: str, landing_path: str, heading: str
) -> None:
    users = demo.ensure_demo_users(password="demo")
    demo.load_demo_leads(count=24, reps=[users[f"rep{i}"] for i in range(1, 5)], now=timezone.now())

    sign_in(page, live_server.url, username)  # from the front door, with no next page

    assert page.url == f"{live_server.url}{landing_path}"
    assert page.locator("h1").first.inner_text() == heading
    page.screenshot(path=str(artifacts / f"landing-{username}.png"), full_page=True)
