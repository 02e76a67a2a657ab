"""POST /api/leads/{id}/withdraw-consent/: marketers and full-scope integration keys may; sales may not."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from integrations.tests.factories import ApiKeyFactory, api_headers
from leads.models import Activity, Consent, ConsentStatus, Lead
from leads.tests.factories import FIXED_NOW, ConsentFactory, LeadFactory
from tests.personas import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead() -> Lead:
    lead = LeadFactory()
    ConsentFactory(lead=lead)
    ConsentFactory(lead=lead, status=ConsentStatus.PENDING, given_at=FIXED_NOW - timedelta(days=1))
    return lead


def url(lead_id: object) -> str:
    return f"/api/leads/{lead_id}/withdraw-consent/"


def post_with_key(lead_id: object, key: object, data: object = None) -> object:
    return Client().post(url(lead_id), data or {}, content_type="application/json", headers=api_headers(key))


def active_consents(lead: Lead) -> int:
    return Consent.objects.filter(lead=lead, withdrawn_at__isnull=True).count()


def test_an_integration_key_withdraws_and_gets_the_lead_consents(lead: Lead, clock: time_machine.Traveller) -> None:
    response = post_with_key(lead.pk, ApiKeyFactory(scope="full"), {"note": "Unsubscribed in the email tool"})

    body = response.json()
    assert (response.status_code, body["lead_id"], body["withdrawn"]) == (200, lead.pk, 2)
    assert [consent["withdrawn_at"] for consent in body["consents"]] == ["2026-03-02T10:00:00Z"] * 2
    assert Activity.objects.get(lead=lead).metadata == {
        "source": "api",
        "note": "Unsubscribed in the email tool",
        "consents": 2,
    }


def test_a_repeat_withdraws_nothing_more(lead: Lead) -> None:
    key = ApiKeyFactory(scope="full")
    post_with_key(lead.pk, key)

    response = post_with_key(lead.pk, key)

    assert (response.status_code, response.json()["withdrawn"]) == (200, 0)
    assert Activity.objects.filter(lead=lead).count() == 1


def test_a_marketer_withdraws_with_a_session_and_is_recorded_as_who(lead: Lead, marketer: object) -> None:
    response = client_for(marketer).post(url(lead.pk), {"note": "Phoned"}, content_type="application/json")

    assert (response.status_code, active_consents(lead)) == (200, 0)
    assert Activity.objects.get(lead=lead).metadata["by"] == marketer.pk  # type: ignore[attr-defined]


def test_a_marketer_token_withdraws(lead: Lead, marketer: object) -> None:
    response = post_with_key(lead.pk, ApiKeyFactory(user=marketer, scope="full"))

    assert (response.status_code, active_consents(lead)) == (200, 0)


@pytest.mark.parametrize("scope", ["capture", "read"])
def test_a_key_without_the_full_scope_is_refused(lead: Lead, scope: str) -> None:
    response = post_with_key(lead.pk, ApiKeyFactory(scope=scope))

    assert (response.status_code, active_consents(lead)) == (403, 2)


def test_a_rep_is_refused_even_for_their_own_lead(lead: Lead, rep: object) -> None:
    Lead.objects.filter(pk=lead.pk).update(owner=rep)

    response = post_with_key(lead.pk, ApiKeyFactory(user=rep, scope="full"))

    assert (response.status_code, active_consents(lead)) == (403, 2)


def test_a_manager_is_refused(lead: Lead, manager: object) -> None:
    response = post_with_key(lead.pk, ApiKeyFactory(user=manager, scope="full"))

    assert (response.status_code, active_consents(lead)) == (403, 2)


def test_anonymous_is_refused(lead: Lead) -> None:
    response = Client().post(url(lead.pk), {}, content_type="application/json")

    assert (response.status_code, active_consents(lead)) == (401, 2)


@pytest.mark.parametrize("lead_id", ["999999", "abc", "1" * 30])
def test_an_unknown_or_malformed_lead_is_a_json_404(lead_id: str) -> None:
    response = post_with_key(lead_id, ApiKeyFactory(scope="full"))

    assert (response.status_code, response.json()) == (404, {"detail": "No lead has this id."})


def test_a_too_long_note_is_a_400_and_withdraws_nothing(lead: Lead) -> None:
    response = post_with_key(lead.pk, ApiKeyFactory(scope="full"), {"note": "x" * 1001})

    assert (response.status_code, list(response.json()), active_consents(lead)) == (400, ["note"], 2)


def test_consent_withdrawn_cannot_be_recorded_as_a_bare_activity(lead: Lead) -> None:
    body = {"lead_id": lead.pk, "kind": "consent_withdrawn", "occurred_at": "2026-03-02T09:00:00Z"}

    response = Client().post(
        "/api/activities/", body, content_type="application/json", headers=api_headers(ApiKeyFactory(scope="full"))
    )

    assert (response.status_code, Activity.objects.count()) == (400, 0)
