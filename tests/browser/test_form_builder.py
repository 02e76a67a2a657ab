"""The form builder and the marketers' lists in admin at 1280 px: rows fit, fields reorder by drag and keyboard,
new forms start with email, name and company."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page
from pytest_django.live_server_helper import LiveServer

from leads import demo
from leads.models import CaptureForm, FieldKind, LeadAttribute, SubmissionStatus
from leads.tests.factories import (
    CaptureFormFactory,
    ConsentTextFactory,
    FormFieldFactory,
    LeadFactory,
    SubmissionFactory,
)
from tests.browser.signing_in import sign_in_to_admin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIELDS = [
    ("Work email", FieldKind.EMAIL, LeadAttribute.EMAIL),
    ("First name", FieldKind.TEXT, LeadAttribute.FIRST_NAME),
    ("Company", FieldKind.TEXT, LeadAttribute.COMPANY_NAME),
    ("Job title", FieldKind.TEXT, LeadAttribute.JOB_TITLE),
]


def four_field_form() -> CaptureForm:
    form = CaptureFormFactory(slug="pricing", name="Pricing sheet")
    for order, (label, kind, attribute) in enumerate(FIELDS, start=1):
        FormFieldFactory(
            form=form, order=order, label=label, kind=kind, lead_attribute=attribute, is_required=order == 1
        )
    ConsentTextFactory(form=form, version=1, text="Acme may email me.")
    return form


def labels_in_order(form: CaptureForm) -> list[str]:
    return list(form.fields.order_by("order", "id").values_list("label", flat=True))


def overflow(page: Page) -> int:
    """How far the page is wider than the window (0: no horizontal scroll)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_fields_reorder_by_dragging_and_by_keyboard_at_1280(
    live_server: LiveServer, page: Page, artifacts: Path
) -> None:
    demo.ensure_demo_users(password="demo")
    form = four_field_form()
    base = live_server.url
    change_url = f"/admin/leads/captureform/{form.pk}/change/"
    sign_in_to_admin(page, base, change_url)
    page.wait_for_selector(".form-builder[data-sortable=ready]")

    table = page.locator(".form-builder table").bounding_box()
    page.locator(".form-builder").screenshot(path=str(artifacts / "form-builder-1280.png"))
    assert overflow(page) == 0
    assert table is not None and table["x"] + table["width"] <= 1280

    # Drag "Job title" (row 4) above "Work email" (row 1) by its handle.
    handles = page.locator(".form-builder-handle")
    source, target = handles.nth(3).bounding_box(), handles.nth(0).bounding_box()
    # bounding_box() is None only for a hidden element; both handles are on screen.
    page.mouse.move(source["x"] + 5, source["y"] + 5)  # type: ignore[index]
    page.mouse.down()
    page.mouse.move(target["x"] + 5, target["y"] + 10, steps=12)  # type: ignore[index]
    page.mouse.move(target["x"] + 5, target["y"] + 2, steps=6)  # type: ignore[index]
    page.mouse.up()
    page.locator(".form-builder").screenshot(path=str(artifacts / "form-builder-dragged.png"))
    page.click("input[name=_continue]")
    page.wait_for_load_state("networkidle")

    assert labels_in_order(form) == ["Job title", "Work email", "First name", "Company"]

    # With the keyboard: focus the handle of "Company" (row 4) and move it up twice.
    page.wait_for_selector(".form-builder[data-sortable=ready]")
    page.locator(".form-builder-handle").nth(3).focus()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert page.locator(".form-builder-live").inner_text() == "Company moved to position 2 of 4."
    page.click("input[name=_continue]")
    page.wait_for_load_state("networkidle")

    assert labels_in_order(form) == ["Job title", "Company", "Work email", "First name"]


def test_a_new_form_starts_with_email_name_and_company(live_server: LiveServer, page: Page, artifacts: Path) -> None:
    demo.ensure_demo_users(password="demo")
    sign_in_to_admin(page, live_server.url, "/admin/leads/captureform/add/")

    page.fill("#id_name", "Webinar sign-up")
    page.fill("#id_headline", "Join the webinar")
    page.fill("#id_consent_text", "Acme may email me about the webinar.")
    page.screenshot(path=str(artifacts / "form-builder-new.png"), full_page=True)
    page.click("input[name=_save]")
    page.wait_for_load_state("networkidle")

    form = CaptureForm.objects.get(name="Webinar sign-up")
    assert list(form.fields.order_by("order").values_list("lead_attribute", "is_required")) == [
        (LeadAttribute.EMAIL, True),
        (LeadAttribute.FIRST_NAME, True),
        (LeadAttribute.LAST_NAME, False),
        (LeadAttribute.COMPANY_NAME, True),
    ]


def test_the_leads_and_submissions_lists_fit_1280(live_server: LiveServer, page: Page, artifacts: Path) -> None:
    demo.ensure_demo_users(password="demo")
    form = four_field_form()
    lead = LeadFactory(
        email="margaret.hamilton-longname@apollo-guidance.example", first_name="Margaret", last_name="Hamilton",
        company_name="Apollo Guidance Computer Laboratory", created_at=timezone.now(),
    )  # fmt: skip
    SubmissionFactory(form=form, lead=lead, payload={"email": lead.email}, ip_address="2001:db8::1234")
    SubmissionFactory(form=form, status=SubmissionStatus.SPAM, spam_reason="too_fast", payload={"email": "x@y.example"})
    base = live_server.url
    sign_in_to_admin(page, base, "/admin/leads/lead/")

    for name, url, must_show in [
        ("leads", "/admin/leads/lead/", ["Margaret Hamilton", "Apollo Guidance", "New · 0", "no owner", "Created"]),
        ("submissions", "/admin/leads/submission/", ["Suspected spam", "Sent faster", "2001:db8::1234"]),
    ]:
        page.goto(f"{base}{url}")
        page.screenshot(path=str(artifacts / f"admin-list-{name}-1280.png"), full_page=True)
        results = page.locator("#changelist .results")
        hidden = results.evaluate("el => el.scrollWidth - el.clientWidth")
        text = results.inner_text()
        assert (name, hidden) == (name, 0)
        assert [word for word in must_show if word.lower() not in text.lower()] == []
