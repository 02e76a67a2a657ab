"""Admin: integration keys and webhook secrets are shown once; marketers and managers manage them."""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

import pytest
from django.contrib.auth.models import Group, User
from django.contrib.messages import get_messages
from django.urls import reverse
from pytest_django.fixtures import Settings

from core import roles
from integrations.models import ApiKey, ApiKeyScope, WebhookEndpoint
from integrations.tests.factories import ApiKeyFactory, WebhookDeliveryFactory, WebhookEndpointFactory
from leads.tests.dns import fake_dns
from tests.personas import client_for

if TYPE_CHECKING:
    # What the test client answers (django-stubs' name): a response with .wsgi_request.
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

pytestmark = pytest.mark.django_db


def shown_code(response: TestResponse) -> str:
    """The key or secret in the one admin message that shows it."""
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    (code,) = [match.group(1) for m in messages if (match := re.search(r"<code>([^<]+)</code>", m))]
    return code


def test_adding_a_key_shows_it_once_and_stores_only_its_hash(marketer: User) -> None:
    response = client_for(marketer).post(
        reverse("admin:integrations_apikey_add"), {"name": "Webinar sync", "scope": ApiKeyScope.CAPTURE}
    )

    plaintext = shown_code(response)
    api_key = ApiKey.objects.get()
    assert (api_key.name, api_key.scope, api_key.user, api_key.created_by) == (
        "Webinar sync",
        "capture",
        None,
        marketer,
    )
    assert api_key.hashed_key == hashlib.sha256(plaintext.encode()).hexdigest()


def test_the_key_page_never_shows_the_key_again(marketer: User) -> None:
    response = client_for(marketer).post(reverse("admin:integrations_apikey_add"), {"name": "Sync", "scope": "read"})
    plaintext = shown_code(response)

    page = client_for(marketer).get(reverse("admin:integrations_apikey_change", args=[ApiKey.objects.get().pk]))

    assert plaintext.split(".")[1] not in page.content.decode()


def test_admin_revokes_selected_keys(manager: User) -> None:
    api_key = ApiKeyFactory()

    client_for(manager).post(
        reverse("admin:integrations_apikey_changelist"), {"action": "revoke", "_selected_action": [api_key.pk]}
    )

    api_key.refresh_from_db()
    assert api_key.revoked_at is not None


def endpoint_form(url: str) -> dict[str, object]:
    return {"name": "CRM", "url": url, "events": ["lead.mql", "lead.sql"], "is_active": "on"}


def test_adding_an_endpoint_shows_its_signing_secret_once(marketer: User, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"crm.example": ["93.184.216.34"]})

    response = client_for(marketer).post(
        reverse("admin:integrations_webhookendpoint_add"),
        {
            "name": "CRM",
            "url": "https://crm.example/hooks/leadsite",
            "events": ["lead.mql", "lead.sql"],
            "is_active": "on",
        },
    )

    endpoint = WebhookEndpoint.objects.get()
    assert (shown_code(response), endpoint.events) == (endpoint.secret, ["lead.mql", "lead.sql"])


def test_an_endpoint_inside_a_private_network_is_a_field_error(marketer: User) -> None:
    response = client_for(marketer).post(
        reverse("admin:integrations_webhookendpoint_add"), endpoint_form("http://10.0.0.5/hook")
    )

    assert response.context["adminform"].form.errors["url"] == [
        "This address points into a private network (10.0.0.5); set OUTBOUND_ALLOW_PRIVATE_NETWORKS=1 to allow it."
    ]
    assert not WebhookEndpoint.objects.exists()


def test_an_endpoint_whose_name_resolves_privately_is_a_field_error(
    marketer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dns(monkeypatch, {"crm.example": ["169.254.169.254"]})

    response = client_for(marketer).post(
        reverse("admin:integrations_webhookendpoint_add"), endpoint_form("https://crm.example/hooks")
    )

    assert "crm.example → 169.254.169.254" in response.context["adminform"].form.errors["url"][0]


def test_an_endpoint_whose_name_does_not_resolve_is_a_field_error(
    marketer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dns(monkeypatch, {})

    response = client_for(marketer).post(
        reverse("admin:integrations_webhookendpoint_add"), endpoint_form("https://crm.example/hooks")
    )

    assert response.context["adminform"].form.errors["url"] == ["The host name crm.example does not resolve."]


def test_changing_an_endpoint_to_a_private_address_is_a_field_error(marketer: User) -> None:
    endpoint = WebhookEndpointFactory(url="https://93.184.216.34/hook")

    response = client_for(marketer).post(
        reverse("admin:integrations_webhookendpoint_change", args=[endpoint.pk]), endpoint_form("http://[::1]:6379/")
    )

    endpoint.refresh_from_db()
    assert "private network (::1)" in response.context["adminform"].form.errors["url"][0]
    assert endpoint.url == "https://93.184.216.34/hook"


def test_with_the_setting_an_internal_endpoint_can_be_added(marketer: User, settings: Settings) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = True

    client_for(marketer).post(reverse("admin:integrations_webhookendpoint_add"), endpoint_form("http://10.0.0.5/hook"))

    assert WebhookEndpoint.objects.get().url == "http://10.0.0.5/hook"


def test_rotating_shows_the_new_secret(marketer: User) -> None:
    endpoint = WebhookEndpointFactory()

    response = client_for(marketer).post(
        reverse("admin:integrations_webhookendpoint_changelist"),
        {"action": "rotate_secret", "_selected_action": [endpoint.pk]},
    )

    endpoint.refresh_from_db()
    assert shown_code(response) == endpoint.secret != "whsec_test-secret-for-signatures"


def test_the_delivery_log_shows_response_codes(marketer: User) -> None:
    WebhookDeliveryFactory(response_code=503)

    response = client_for(marketer).get(reverse("admin:integrations_webhookdelivery_changelist"))

    assert response.status_code == 200
    assert "503" in response.content.decode()


@pytest.mark.parametrize("group", [roles.MARKETING, roles.SALES_MANAGER])
def test_marketers_and_managers_manage_keys_and_webhooks_but_delete_nothing(group: str) -> None:
    granted = {
        p.codename for p in Group.objects.get(name=group).permissions.filter(content_type__app_label="integrations")
    }

    assert granted == {
        "add_apikey", "change_apikey", "view_apikey",
        "add_webhookendpoint", "change_webhookendpoint", "view_webhookendpoint",
        "view_webhookdelivery", "change_webhookdelivery",
        # Retention policies erase leads: only the role that may erase (Marketing) edits them.
        *(("add_retentionpolicy", "change_retentionpolicy", "view_retentionpolicy", "view_retentionrun")
          if group == roles.MARKETING else ()),
    }  # fmt: skip


def test_reps_get_no_admin_permissions_on_integrations() -> None:
    granted = Group.objects.get(name=roles.SALES_REP).permissions.filter(content_type__app_label="integrations")

    assert not granted.exists()


def test_every_integrations_admin_page_opens(marketer: User) -> None:
    api_key, delivery = ApiKeyFactory(user=marketer), WebhookDeliveryFactory()
    pages = [
        reverse("admin:integrations_apikey_changelist"),
        reverse("admin:integrations_apikey_add"),
        reverse("admin:integrations_apikey_change", args=[api_key.pk]),
        reverse("admin:integrations_webhookendpoint_changelist"),
        reverse("admin:integrations_webhookendpoint_add"),
        reverse("admin:integrations_webhookendpoint_change", args=[delivery.endpoint.pk]),
        reverse("admin:integrations_webhookdelivery_changelist"),
        reverse("admin:integrations_webhookdelivery_change", args=[delivery.pk]),
    ]

    client = client_for(marketer)

    assert {page: client.get(page).status_code for page in pages} == dict.fromkeys(pages, 200)
