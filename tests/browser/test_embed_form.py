"""A visitor fills a form embedded with embed.js on a customer's page; a marketer then finds the lead in admin."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.test import override_settings
from playwright.sync_api import Page
from pytest_django.live_server_helper import LiveServer

from leads import demo, spam
from leads.models import ActivityKind, CaptureForm, FieldKind, Lead
from leads.tests.factories import CaptureFormFactory, ConsentTextFactory, FormFieldFactory
from tests.browser.signing_in import sign_in_to_admin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PERSONS_BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
CONSENT = "Yes, Acme may email me about its products. I can withdraw this at any time."
HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme · The State of B2B 2026</title></head>
<body style="font-family: sans-serif; margin: 2rem; background: #f4f1ea">
  <h1>Acme Analytics</h1>
  <p>Our yearly report on B2B demand generation. Fill in the form to download it.</p>
  <script src="{script}"></script>
</body></html>
"""


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def customer_site(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A customer's web site on a second local port: plain files served by http.server."""
    site = tmp_path / "site"
    site.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield site, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def media_root(tmp_path: Path) -> Iterator[Path]:
    with override_settings(MEDIA_ROOT=tmp_path / "media"):
        yield tmp_path / "media"


def whitepaper_form(allowed_origin: str) -> CaptureForm:
    form = CaptureFormFactory(
        slug="state-of-b2b", name="State of B2B", headline="The State of B2B 2026", submit_label="Get the report",
        asset_url="", allowed_origins=allowed_origin,
    )  # fmt: skip
    for order, (label, kind, attribute) in enumerate(
        [
            ("First name", FieldKind.TEXT, "first_name"),
            ("Last name", FieldKind.TEXT, "last_name"),
            ("Work email", FieldKind.EMAIL, "email"),
            ("Company", FieldKind.TEXT, "company_name"),
            ("Job title", FieldKind.TEXT, "job_title"),
            ("Country", FieldKind.COUNTRY, "country"),
        ]
    ):
        FormFieldFactory(form=form, order=order, label=label, kind=kind, lead_attribute=attribute, is_required=True)
    ConsentTextFactory(form=form, version=1, text=CONSENT)
    form.asset_file.save("state-of-b2b.txt", ContentFile(b"The State of B2B 2026\n\nChapter 1: Fewer, better leads.\n"))
    return form


def test_a_visitor_fills_the_embedded_form_and_the_marketer_finds_the_lead(
    live_server: LiveServer,
    page: Page,
    artifacts: Path,
    customer_site: tuple[Path, str],
    media_root: Path,
) -> None:
    site, site_origin = customer_site
    form = whitepaper_form(allowed_origin=site_origin)
    demo.ensure_demo_users(password="demo")
    script = f"{live_server.url}/f/{form.slug}/embed.js"
    (site / "report.html").write_text(HOST_PAGE.format(script=script), encoding="utf-8")
    host_url = f"{site_origin}/report.html?utm_source=linkedin&utm_medium=paid_social&utm_campaign=q3-report"

    # The visitor, on the customer's page, in a person's browser: headless Chrome says it is one, and a download
    # by an automated browser is not recorded.
    page.context.set_extra_http_headers({"User-Agent": PERSONS_BROWSER})
    page.goto(host_url)
    frame = page.frame_locator("iframe[data-leadsite-form]")
    frame.get_by_label("First name").fill("Ada")
    shown_at = time.monotonic()
    frame.get_by_label("Last name").fill("Lovelace")
    frame.get_by_label("Work email").fill("ada@acme-analytics.example")
    frame.get_by_label("Company*").fill("Acme Analytics")
    frame.get_by_label("Job title").fill("VP Marketing")
    frame.get_by_label("Country").select_option("GB")
    frame.get_by_label(CONSENT).check()
    page.screenshot(path=str(artifacts / "embed-form-filled.png"), full_page=True)
    # A person takes more than a few seconds to fill a form; the time trap holds anything faster as spam.
    time.sleep(max(0.0, spam.MIN_FILL_DURATION.total_seconds() + 0.5 - (time.monotonic() - shown_at)))
    frame.get_by_role("button", name="Get the report").click()
    frame.get_by_test_id("thank-you").wait_for()
    page.screenshot(path=str(artifacts / "embed-form-thank-you.png"), full_page=True)

    with page.expect_popup() as popup:
        frame.get_by_test_id("asset-link").click()
    asset = popup.value
    asset.wait_for_load_state()
    assert "Chapter 1: Fewer, better leads." in asset.content()
    asset.screenshot(path=str(artifacts / "embed-form-asset.png"))
    asset.close()

    lead = Lead.objects.get(email="ada@acme-analytics.example")
    touch = lead.touches.get()
    assert (touch.source, touch.medium, touch.campaign) == ("linkedin", "paid_social", "q3-report")
    assert touch.landing_page == host_url
    assert lead.activities.filter(kind=ActivityKind.ASSET_DOWNLOADED).exists()

    # The marketer, in admin.
    sign_in_to_admin(page, live_server.url, "/admin/leads/lead/")
    page.fill("#searchbar", "acme-analytics")
    page.press("#searchbar", "Enter")
    page.get_by_role("link", name="ada@acme-analytics.example").click()
    page.wait_for_load_state("networkidle")
    body = page.locator("body").inner_text()
    assert CONSENT in body
    assert "v1" in body
    assert "linkedin" in body and "paid_social" in body and "q3-report" in body
    page.screenshot(path=str(artifacts / "embed-form-admin-lead.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/leads/captureform/{form.pk}/change/")
    snippet = page.get_by_label("Embed snippet").input_value()
    assert snippet.endswith(f'/f/{form.slug}/embed.js"></script>')
    page.screenshot(path=str(artifacts / "embed-form-admin-form.png"), full_page=True)
