"""The consent proof bundle: every item for each consent, no raw IP, from admin and the API."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from integrations import proof
from integrations.models import ApiKeyScope
from integrations.tests.factories import ApiKeyFactory, api_headers
from leads.models import Consent, ConsentStatus, Lead
from leads.tests.factories import (
    FIXED_NOW,
    CaptureFormFactory,
    ConsentFactory,
    ConsentTextFactory,
    LeadFactory,
    SubmissionFactory,
)

pytestmark = pytest.mark.django_db

IP = "203.0.113.9"
CONFIRM_IP = "198.51.100.20"


def double_opt_in_lead() -> tuple[Lead, Consent]:
    form = CaptureFormFactory(name="Pipeline playbook", slug="pipeline-playbook", is_double_opt_in=True)
    text = ConsentTextFactory(form=form, version=3, text="Yes, Acme may email me. I can withdraw at any time.")
    lead = LeadFactory(email="ada@acme.example")
    consent = ConsentFactory(
        lead=lead,
        consent_text=text,
        text=text.text,
        text_version="3",
        source_ref=form.slug,
        given_at=FIXED_NOW,
        ip_address=IP,
        status=ConsentStatus.CONFIRMED,
        confirmed_at=FIXED_NOW + timedelta(minutes=7),
        confirmed_ip_address=CONFIRM_IP,
    )
    SubmissionFactory(
        form=form, consent_text=text, lead=lead, consent=consent, confirmation_sent_at=FIXED_NOW + timedelta(seconds=5)
    )
    return lead, consent


def test_bundle_holds_every_item() -> None:
    lead, consent = double_opt_in_lead()

    bundle = proof.consent_proof(lead=lead, now=FIXED_NOW + timedelta(days=1))

    [item] = bundle["consents"]
    assert bundle["lead"]["email"] == "ada@acme.example"
    assert item["form"] == {
        "id": consent.consent_text.form_id,  # type: ignore[union-attr]  # a form consent has its text
        "name": "Pipeline playbook",
        "slug": "pipeline-playbook",
    }
    assert item["consent_text_version"] == 3
    assert item["text"] == "Yes, Acme may email me. I can withdraw at any time."
    assert item["given_at"] == "2026-03-02T10:00:00Z"
    assert proof.ip_matches(IP, item["ip_hash"])
    assert item["double_opt_in"]["required"] is True
    assert item["double_opt_in"]["email_sent_at"] == "2026-03-02T10:00:05Z"
    assert item["double_opt_in"]["confirmed_at"] == "2026-03-02T10:07:00Z"
    assert proof.ip_matches(CONFIRM_IP, item["double_opt_in"]["confirmed_ip_hash"])
    assert item["legal_basis"] == "opt_in"
    assert item["withdrawn_at"] is None


def test_bundle_never_holds_the_raw_ip() -> None:
    lead, _ = double_opt_in_lead()

    bundle = proof.consent_proof(lead=lead, now=FIXED_NOW)

    assert IP not in json.dumps(bundle)
    assert CONFIRM_IP not in json.dumps(bundle)


def test_ip_hash_does_not_match_another_address() -> None:
    assert not proof.ip_matches("203.0.113.10", proof.hash_ip(IP))


def test_bundle_digest_detects_a_changed_copy() -> None:
    lead, _ = double_opt_in_lead()
    bundle = proof.consent_proof(lead=lead, now=FIXED_NOW)
    assert proof.is_intact(bundle)

    bundle["consents"][0]["text"] = "Something else"

    assert not proof.is_intact(bundle)


def test_html_bundle_shows_the_exact_text_and_the_hash() -> None:
    lead, _ = double_opt_in_lead()
    bundle = proof.consent_proof(lead=lead, now=FIXED_NOW)

    html = proof.render_consent_proof_html(bundle)

    assert "Yes, Acme may email me. I can withdraw at any time." in html
    assert bundle["consents"][0]["ip_hash"] in html
    assert "Pipeline playbook" in html
    assert IP not in html


def test_admin_downloads_the_json_bundle(marketer: User, client: Client) -> None:
    lead, _ = double_opt_in_lead()
    client.force_login(marketer)

    response = client.post(
        reverse("admin:leads_lead_changelist"),
        {"action": "download_consent_proof_json", "_selected_action": [lead.pk]},
    )

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="consent-proof-lead-{lead.pk}.json"'
    assert json.loads(response.content)["consents"][0]["consent_text_version"] == 3


def test_admin_downloads_the_html_bundle(marketer: User, client: Client) -> None:
    lead, _ = double_opt_in_lead()
    client.force_login(marketer)

    response = client.post(
        reverse("admin:leads_lead_changelist"),
        {"action": "download_consent_proof_html", "_selected_action": [lead.pk]},
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "Yes, Acme may email me." in response.content.decode()


def test_api_returns_the_bundle_to_a_read_key(client: Client) -> None:
    lead, _ = double_opt_in_lead()
    key = ApiKeyFactory(scope=ApiKeyScope.READ)

    response = client.get(reverse("api:lead_consent_proof", args=[lead.pk]), headers=api_headers(key))

    assert response.status_code == 200
    assert response.json()["consents"][0]["text"] == "Yes, Acme may email me. I can withdraw at any time."


def test_api_returns_html_when_asked(client: Client) -> None:
    lead, _ = double_opt_in_lead()
    key = ApiKeyFactory(scope=ApiKeyScope.READ)

    response = client.get(
        reverse("api:lead_consent_proof", args=[lead.pk]), {"format": "html"}, headers=api_headers(key)
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "Consent proof" in response.content.decode()


def test_api_hides_a_lead_the_caller_may_not_see(rep: User, client: Client) -> None:
    lead, _ = double_opt_in_lead()
    key = ApiKeyFactory(scope=ApiKeyScope.READ, user=rep)

    response = client.get(reverse("api:lead_consent_proof", args=[lead.pk]), headers=api_headers(key))

    assert response.status_code == 404


def test_api_refuses_a_capture_key(client: Client) -> None:
    lead, _ = double_opt_in_lead()
    key = ApiKeyFactory(scope=ApiKeyScope.CAPTURE)

    response = client.get(reverse("api:lead_consent_proof", args=[lead.pk]), headers=api_headers(key))

    assert response.status_code == 403
