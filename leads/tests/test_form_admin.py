from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from core import roles
from leads.models import CaptureForm, ConsentText, Lead, SpamReason, SubmissionStatus
from leads.tests.factories import ConsentTextFactory, FormFieldFactory, SubmissionFactory
from tests.personas import client_for

pytestmark = pytest.mark.django_db


def form_data(**overrides: str) -> dict[str, Any]:
    """What the admin's add/change page posts for a form with an email field and a progressive question."""
    data = {
        "name": "Report 2026",
        "slug": "report-2026",
        "headline": "The 2026 report",
        "intro": "",
        "submit_label": "Get the report",
        "thank_you_text": "Thanks!",
        "asset_url": "https://cdn.acme.example/report.pdf",
        "redirect_url": "",
        "legal_basis": "opt_in",
        "allowed_origins": "https://www.acme.example",
        "progressive_questions": "2",
        "is_active": "on",
        "consent_text": "You may email me about Acme products.",
        "fields-TOTAL_FORMS": "2",
        "fields-INITIAL_FORMS": "0",
        "fields-0-order": "1",
        "fields-0-label": "Work email",
        "fields-0-kind": "email",
        "fields-0-lead_attribute": "email",
        "fields-0-is_required": "on",
        "fields-1-order": "2",
        "fields-1-label": "Team size",
        "fields-1-kind": "select",
        "fields-1-answer_key": "team_size",
        "fields-1-choices": "1-10\r\n11-50",
        "fields-1-is_progressive": "on",
        "consent_texts-TOTAL_FORMS": "0",
        "consent_texts-INITIAL_FORMS": "0",
    }
    return {**data, **overrides}


def test_marketing_may_build_forms_and_release_submissions() -> None:
    codenames = set(Group.objects.get(name=roles.MARKETING).permissions.values_list("codename", flat=True))

    assert {"add_captureform", "change_captureform", "add_formfield", "delete_formfield"} <= codenames
    assert {"view_consenttext", "view_submission", "change_submission"} <= codenames
    assert "delete_submission" not in codenames


def test_a_marketer_builds_a_form_with_ordered_fields_and_consent_version_1(marketer: object) -> None:
    response = client_for(marketer).post(reverse("admin:leads_captureform_add"), form_data())

    assert response.status_code == 302, response.context["adminform"].errors if response.context else ""
    form = CaptureForm.objects.get(slug="report-2026")
    assert list(form.fields.values_list("label", "is_progressive")) == [("Work email", False), ("Team size", True)]
    assert list(form.consent_texts.values_list("version", "text", "created_by")) == [
        (1, "You may email me about Acme products.", marketer.pk)  # type: ignore[attr-defined]
    ]


def test_editing_the_consent_text_in_admin_adds_version_2(marketer: object) -> None:
    client = client_for(marketer)
    client.post(reverse("admin:leads_captureform_add"), form_data())
    form = CaptureForm.objects.get()
    fields = {f"fields-{i}-id": str(pk) for i, pk in enumerate(form.fields.values_list("id", flat=True))}
    consent_versions = {"consent_texts-TOTAL_FORMS": "1", "consent_texts-INITIAL_FORMS": "1"}

    client.post(
        reverse("admin:leads_captureform_change", args=[form.pk]),
        form_data(
            consent_text="You may email and call me.", **{"fields-INITIAL_FORMS": "2"}, **fields, **consent_versions
        ),
    )

    assert list(ConsentText.objects.order_by("version").values_list("version", "text")) == [
        (1, "You may email me about Acme products."),
        (2, "You may email and call me."),
    ]


def test_a_forms_slug_is_kept_when_its_page_is_saved(marketer: object) -> None:
    client = client_for(marketer)
    client.post(reverse("admin:leads_captureform_add"), form_data())
    form = CaptureForm.objects.get()
    fields = {f"fields-{i}-id": str(pk) for i, pk in enumerate(form.fields.values_list("id", flat=True))}
    consent_versions = {"consent_texts-TOTAL_FORMS": "1", "consent_texts-INITIAL_FORMS": "1"}

    response = client.post(
        reverse("admin:leads_captureform_change", args=[form.pk]),
        form_data(slug="renamed", **{"fields-INITIAL_FORMS": "2"}, **fields, **consent_versions),
    )

    assert response.status_code == 302
    assert CaptureForm.objects.get(pk=form.pk).slug == form.slug != "renamed"


def test_the_form_admin_requires_a_required_email_or_phone_field(marketer: object) -> None:
    data = form_data(**{"fields-0-is_required": ""})

    response = client_for(marketer).post(reverse("admin:leads_captureform_add"), data)

    assert response.status_code == 200
    assert "a lead is someone we can reach" in response.content.decode()
    assert not CaptureForm.objects.exists()


def test_the_form_admin_refuses_the_same_answer_key_twice(marketer: object) -> None:
    data = form_data(
        **{
            "fields-TOTAL_FORMS": "3",
            "fields-2-order": "3",
            "fields-2-label": "Team",
            "fields-2-kind": "text",
            "fields-2-answer_key": "team_size",
        }
    )

    response = client_for(marketer).post(reverse("admin:leads_captureform_add"), data)

    assert "used twice: team_size" in response.content.decode()


def test_the_form_admin_refuses_a_redirect_to_another_site(marketer: object) -> None:
    data = form_data(redirect_url="https://evil.example/")

    response = client_for(marketer).post(reverse("admin:leads_captureform_add"), data)

    assert "must be on this site or on one of the allowed origins" in response.content.decode()


def test_the_form_page_in_admin_shows_embed_snippet_preview_and_versions(
    whitepaper: CaptureForm, marketer: object
) -> None:
    ConsentTextFactory(form=whitepaper, version=2, text="Second wording.")

    response = client_for(marketer).get(reverse("admin:leads_captureform_change", args=[whitepaper.pk]))

    html = response.content.decode()
    assert "&lt;script src=&quot;http://127.0.0.1:8000/f/state-of-b2b/embed.js&quot;&gt;&lt;/script&gt;" in html
    assert 'href="/f/state-of-b2b/preview/"' in html
    assert "Second wording." in html and "Yes, Acme may email me about its products." in html
    assert response.context["adminform"].form["consent_text"].initial == "Second wording."


def test_the_submission_list_filters_spam(whitepaper: CaptureForm, marketer: object) -> None:
    SubmissionFactory(form=whitepaper, payload={"email": "real@acme.example"})
    SubmissionFactory(
        form=whitepaper,
        payload={"email": "bot@spam.example"},
        status=SubmissionStatus.SPAM,
        spam_reason=SpamReason.HONEYPOT,
    )

    response = client_for(marketer).get(reverse("admin:leads_submission_changelist"), {"status__exact": "spam"})

    assert [s.payload["email"] for s in response.context["cl"].result_list] == ["bot@spam.example"]


def test_the_submission_search_finds_held_spam_by_email(whitepaper: CaptureForm, marketer: object) -> None:
    SubmissionFactory(form=whitepaper, payload={"email": "real@acme.example"})
    held = SubmissionFactory(form=whitepaper, payload={"email": "held@acme.example"}, status=SubmissionStatus.SPAM)

    response = client_for(marketer).get(reverse("admin:leads_submission_changelist"), {"q": "held@acme"})

    assert list(response.context["cl"].result_list) == [held]


def test_releasing_spam_from_admin_captures_the_lead(whitepaper: CaptureForm, marketer: object) -> None:
    held = SubmissionFactory(form=whitepaper, status=SubmissionStatus.SPAM, spam_reason=SpamReason.RATE_LIMITED)

    client_for(marketer).post(
        reverse("admin:leads_submission_changelist"), {"action": "release_from_spam", "_selected_action": [held.pk]}
    )

    held.refresh_from_db()
    assert held.status == SubmissionStatus.CAPTURED
    assert held.released_by == marketer
    assert held.lead == Lead.objects.get(email="ada@acme.example")


def test_submissions_cannot_be_added_in_admin(marketer: object) -> None:
    response = client_for(marketer).get(reverse("admin:leads_submission_add"))

    assert response.status_code == 403


def test_the_submission_page_shows_answers_and_attribution(whitepaper: CaptureForm, marketer: object) -> None:
    FormFieldFactory(form=whitepaper, label="Plan", kind="hidden", lead_attribute="", answer_key="plan")
    submission = SubmissionFactory(form=whitepaper, attribution={"utm_source": "linkedin"})

    response = client_for(marketer).get(reverse("admin:leads_submission_change", args=[submission.pk]))

    html = response.content.decode()
    assert "ada@acme.example" in html
    assert "linkedin" in html


def test_the_slug_s_help_text_shows_the_form_s_address_as_text(marketer: object) -> None:
    response = client_for(marketer).get(reverse("admin:leads_captureform_add"))

    html = response.content.decode()
    # The admin prints help text as HTML: an address written with "<slug>" would be swallowed as a tag.
    assert "/f/state-of-b2b/" in html
    assert "<slug>" not in html
