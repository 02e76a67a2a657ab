"""The Lead admin's export and erase actions (integrations/privacy_admin.py), as a marketer uses them."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission, User
from django.contrib.messages import get_messages
from django.urls import reverse

from integrations import privacy_admin
from leads.admin import LeadAdmin
from leads.models import Activity, ActivityKind, Lead
from leads.tests.factories import FIXED_NOW, ConsentFactory, LeadFactory, UserFactory
from tests.personas import client_for

pytestmark = pytest.mark.django_db

LATER = FIXED_NOW + timedelta(days=30)
CONSENT_TEXT = "Yes, Acme may email me about its products. I can withdraw this at any time."


@pytest.fixture
def lead() -> Lead:
    return ConsentFactory(lead=LeadFactory(email="ada@acme.example", first_name="Ada"), text=CONSENT_TEXT).lead


def post_action(user: User, action: str, leads: list[Lead], **data: str) -> Any:
    return client_for(user).post(
        reverse("admin:leads_lead_changelist"),
        {"action": action, "_selected_action": [lead.pk for lead in leads], **data},
    )


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_the_lead_admin_offers_the_actions_once_after_its_own() -> None:
    privacy_admin.add_lead_actions()  # as a second ready() would

    assert LeadAdmin.actions[-2:] == privacy_admin.LEAD_ACTIONS
    assert LeadAdmin.actions.count(privacy_admin.erase_personal_data) == 1


def test_the_export_action_downloads_lead_id_json(lead: Lead, marketer: User) -> None:
    response = post_action(marketer, "export_personal_data", [lead])

    assert response["Content-Disposition"] == f'attachment; filename="lead-{lead.pk}.json"'
    assert json.loads(response.content)["consents"][0]["text"] == CONSENT_TEXT
    assert LogEntry.objects.get(object_id=str(lead.pk)).change_message == "Exported personal data (JSON)."


def test_the_export_action_refuses_several_leads(lead: Lead, marketer: User) -> None:
    response = post_action(marketer, "export_personal_data", [lead, LeadFactory()])

    assert response.status_code == 302
    assert messages_of(response) == ["Select exactly one lead: an export holds one person's data."]


def test_the_erase_action_asks_for_confirmation_first(lead: Lead, marketer: User) -> None:
    response = post_action(marketer, "erase_personal_data", [lead])

    assert response.status_code == 200
    assert b"This cannot be undone" in response.content
    assert b"ada@acme.example" in response.content
    assert Lead.objects.get(pk=lead.pk).erased_at is None


def test_the_erase_action_refuses_more_leads_than_can_be_reviewed(
    lead: Lead, marketer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(privacy_admin, "ERASE_AT_ONCE", 1)

    response = post_action(marketer, "erase_personal_data", [lead, LeadFactory()], confirmed="yes", reason="Phoned")

    assert messages_of(response) == ["Select at most 1 leads to erase at once."]
    assert Lead.objects.get(pk=lead.pk).erased_at is None


def test_the_erase_action_asks_again_without_a_reason(lead: Lead, marketer: User) -> None:
    response = post_action(marketer, "erase_personal_data", [lead], confirmed="yes", reason=" ")

    assert (response.status_code, response.context["needs_reason"]) == (200, True)
    assert Lead.objects.get(pk=lead.pk).erased_at is None


def test_the_erase_action_erases_after_confirmation(lead: Lead, marketer: User) -> None:
    with time_machine.travel(LATER, tick=False):
        response = post_action(marketer, "erase_personal_data", [lead], confirmed="yes", reason="Phoned, ticket 1234")

    lead = Lead.objects.get(pk=lead.pk)
    assert (lead.email, lead.erased_at) == (None, LATER)
    assert Activity.objects.get(lead=lead, kind=ActivityKind.DATA_ERASED).metadata["reason"] == "Phoned, ticket 1234"
    assert messages_of(response) == ["Erased the personal data of 1 lead(s)."]


def test_the_erase_action_leaves_a_lead_it_could_not_erase_unchanged(
    lead: Lead, marketer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(**kwargs: object) -> None:
        raise RuntimeError("webhook log unavailable")

    monkeypatch.setattr("integrations.services.erase_lead_personal_data", fail)

    response = post_action(marketer, "erase_personal_data", [lead], confirmed="yes", reason="Phoned")

    assert Lead.objects.get(pk=lead.pk).email == "ada@acme.example"
    assert messages_of(response)[-1] == "1 lead(s) could not be erased and were left unchanged; try again."


@pytest.mark.parametrize("action", ["erase_personal_data", "export_personal_data"])
def test_the_actions_need_the_erase_permission(lead: Lead, action: str) -> None:
    editor = UserFactory(username="editor", is_staff=True)
    editor.user_permissions.add(*Permission.objects.filter(codename__in=["view_lead", "change_lead"]))

    response = post_action(editor, action, [lead], confirmed="yes", reason="Phoned")

    assert (response.status_code, messages_of(response)) == (302, ["No action selected."])
    assert Lead.objects.get(pk=lead.pk).erased_at is None


def test_a_superuser_may_erase(lead: Lead) -> None:
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)

    post_action(admin, "erase_personal_data", [lead], confirmed="yes", reason="Phoned")

    assert Lead.objects.get(pk=lead.pk).erased_at is not None
