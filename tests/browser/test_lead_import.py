"""A marketer imports a badge-scan list in admin: upload, map, preview in the worker, import with progress."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page
from pytest_django.live_server_helper import LiveServer

from leads import demo, imports
from leads.models import Lead, LeadImport
from leads.suppression import suppress_address
from leads.tests.factories import LeadFactory
from tests.browser.signing_in import sign_in_to_admin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCANS = (
    "Badge ID;E-mail;First Name;Last Name;Company;Job Title\n"
    "B-001;ann@newco.example;Ann;Smith;Newco;CTO\n"
    "B-002;ben@known.example;Ben;Stone;Known Ltd;VP Sales\n"
    "B-003;not an email;Cy;Young;Beta;\n"
    "B-004;gone@erased.example;Gone;Person;Goneco;\n"
    "B-005;dee@beta.example;Dee;Lee;Beta;Head of Ops\n"
)
NOTICE = "By having your badge scanned you agree that Acme may contact you about its products."


def test_marketer_imports_a_badge_scan_list(
    live_server: LiveServer, page: Page, artifacts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo.ensure_demo_users(password="demo")
    LeadFactory(email="ben@known.example", company_name="Known Ltd", job_title="")
    suppress_address(email="gone@erased.example", reason="Erased on request", now=timezone.now())
    # The test is the worker: the page must show the preview and the import waiting, then follow them.
    monkeypatch.setattr(imports.services, "enqueue_after_commit", lambda task, object_id=None: None)
    scans = tmp_path / "web-summit-scans.csv"
    scans.write_text(SCANS, encoding="utf-8")
    base = live_server.url

    sign_in_to_admin(page, base, "/admin/leads/leadimport/")
    page.get_by_role("link", name="Import leads").click()
    page.set_input_files("#id_file", str(scans))
    page.fill("#id_new_event", "Web Summit 2026")
    page.fill("#id_consent_text", NOTICE)
    page.screenshot(path=str(artifacts / "import-1-upload.png"), full_page=True)
    page.click("input[type=submit]")

    # Columns are guessed from their names; the badge id is kept as a custom answer.
    page.get_by_label("Badge ID").select_option("answer:")
    assert page.get_by_label("E-mail").input_value() == "email"
    assert page.get_by_label("Job Title").input_value() == "job_title"
    page.screenshot(path=str(artifacts / "import-2-map.png"), full_page=True)
    page.click("input[type=submit]")

    # The preview runs in the worker: the page says so and follows it, then shows what it found.
    page.get_by_test_id("preview-progress").wait_for()
    assert page.get_by_test_id("import-status").get_attribute("data-status") == "previewing"
    page.screenshot(path=str(artifacts / "import-3-previewing.png"), full_page=True)
    imports.run_preview(batch_id=LeadImport.objects.get().pk, clock=timezone.now)
    page.wait_for_selector("[data-testid=import-status][data-status=previewed]")

    # The preview: what will happen, and each row that will not be imported, before anything is written.
    messages = page.get_by_test_id("row-messages")
    assert "is not an email address" in messages.inner_text()
    assert "suppressed" in messages.inner_text()
    assert page.get_by_test_id("count-created").inner_text() == "2"
    assert page.get_by_test_id("count-merged").inner_text() == "1"
    assert not Lead.objects.filter(email="ann@newco.example").exists()
    page.screenshot(path=str(artifacts / "import-3-preview.png"), full_page=True)
    page.get_by_test_id("start-import").click()

    # Waiting for the worker: the progress bar is shown and polled; the worker runs; the page follows.
    progress = page.get_by_test_id("import-progress")
    progress.wait_for()
    assert page.get_by_test_id("import-status").get_attribute("data-status") == "queued"
    page.screenshot(path=str(artifacts / "import-4-queued.png"), full_page=True)
    imports.run_import(batch_id=LeadImport.objects.get().pk, clock=timezone.now)
    page.wait_for_selector("[data-testid=import-status][data-status=done]")
    assert progress.get_attribute("value") == "100"
    page.screenshot(path=str(artifacts / "import-5-done.png"), full_page=True)

    page.get_by_test_id("imported-leads").click()
    page.wait_for_load_state("networkidle")
    listed = page.locator("#result_list").inner_text()
    page.screenshot(path=str(artifacts / "import-6-leads.png"), full_page=True)
    assert "ann@newco.example" in listed and "ben@known.example" in listed and "dee@beta.example" in listed
    assert "gone@erased.example" not in listed
    assert Lead.objects.get(email="ben@known.example").job_title == "VP Sales"
