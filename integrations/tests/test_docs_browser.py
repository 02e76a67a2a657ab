"""/api/docs/ in Debian's chromium: Swagger UI renders under the site's CSP and can call the API."""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth.models import User
from pytest_django.live_server_helper import LiveServer

from leads.tests.factories import TEST_PASSWORD, LeadFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def chromium_path() -> str:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("REQUIRE_BROWSER=1 but Debian's chromium is not installed (apt-get install chromium)")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    return executable


def record_an_activity_from_the_docs(chromium_path: str, base_url: str) -> tuple[str, list[str]]:
    """Sign in, open the docs, try the activities operation with its example; the status shown and the console."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        page.goto(f"{base_url}/api/docs/")
        page.fill("#id_username", "marketer")
        page.fill("#id_password", TEST_PASSWORD)
        page.click("button[type=submit]")
        page.click("#operations-activities-activities_create button.opblock-summary-control")
        page.click("button.try-out__btn")
        page.click("button.execute")
        status = page.locator(".live-responses-table tbody .response-col_status").first.inner_text().strip()
        browser.close()
    return status, console


def test_swagger_ui_runs_under_the_csp_and_records_an_activity(
    live_server: LiveServer, chromium_path: str, marketer: User
) -> None:
    LeadFactory(email="ada@acme.example")  # the lead the operation's example names

    # Playwright's sync API runs an event loop in its thread; a thread of its own keeps it away from the
    # test thread's database connection (and from the browser tests' session-wide Playwright).
    with ThreadPoolExecutor(max_workers=1) as pool:
        status, console = pool.submit(record_an_activity_from_the_docs, chromium_path, live_server.url).result()

    assert status == "201"
    assert [text for text in console if "Content Security Policy" in text] == []
