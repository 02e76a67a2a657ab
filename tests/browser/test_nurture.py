"""A marketer builds a nurture track in admin, previews it with a real lead, sends a test, and reads the report."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page
from pytest_django.live_server_helper import LiveServer

from leads import demo
from leads.tests.factories import FIXED_NOW, ConsentFactory, LeadFactory
from nurture import sending, services
from nurture.models import Track
from tests.browser.signing_in import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BODY = "Hi **{{ first_name }}**,\n\nHere is [the report]({{ asset_link }}) for {{ company }}."


def test_a_marketer_builds_previews_tests_and_reports_on_a_track(
    live_server: LiveServer, page: Page, artifacts: Path
) -> None:
    demo.ensure_demo_users(password="demo")
    lead = LeadFactory(
        first_name="Grace", company_name="Hopper & Co", email="grace@hopper.example", created_at=timezone.now()
    )
    ConsentFactory(lead=lead)
    base = live_server.url
    sign_in(page, base, "marketer")

    page.goto(f"{base}/admin/nurture/track/add/")
    page.fill("#id_name", "Start-up nurture")
    page.select_option("#id_status", "live")
    page.click("text=Add another Step")
    page.fill("#id_steps-0-position", "1")
    page.fill("#id_steps-0-delay_days", "0")
    page.fill("#id_steps-0-subject", "{{ first_name }}, your start-up playbook")
    page.fill("#id_steps-0-body", BODY)
    page.fill("#id_steps-0-asset_url", "https://cdn.example.com/playbook.pdf")
    page.screenshot(path=str(artifacts / "nurture-track-form.png"), full_page=True)
    page.click("input[name=_save]")
    page.wait_for_load_state("networkidle")
    track = Track.objects.get(key="start-up-nurture")
    assert track.steps.count() == 1

    page.click("text=Preview and test")
    page.fill("#id_lead", "grace@hopper.example")
    page.click("input[value='Preview with this lead']")
    subject = page.locator("[data-testid=preview-subject]").first.inner_text()
    preview = page.locator("[data-testid=preview-html]").first.inner_html()
    page.screenshot(path=str(artifacts / "nurture-preview.png"), full_page=True)
    page.click("[data-testid=send-test-1]")
    page.wait_for_load_state("networkidle")
    sent_note = page.locator(".messagelist").inner_text()

    assert subject == "Grace, your start-up playbook"
    assert "<strong>Grace</strong>" in preview and "Hopper &amp; Co" in preview
    assert "Sent 1 test email(s) to marketer@" in sent_note
    assert [m.subject for m in mail.outbox] == ["[Test] Grace, your start-up playbook"]

    services.enroll_lead(lead_id=lead.pk, track=track, source="routing", reason="Start-ups", now=FIXED_NOW)
    assert sending.send_due_steps(now=FIXED_NOW).sent == 1

    page.goto(f"{base}/reports/nurture/")
    page.wait_for_selector("#chart-nurture[data-rendered='true']")
    page.screenshot(path=str(artifacts / "nurture-report.png"), full_page=True)
    row = page.locator("[data-testid=track-start-up-nurture] [data-testid=step-1]")
    assert row.locator("[data-measure=sent]").inner_text() == "1"
    assert page.locator("[data-testid=track-start-up-nurture] [data-testid=enrolled]").inner_text() == "1"
