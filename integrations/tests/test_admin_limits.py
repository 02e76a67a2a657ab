"""Keys, tokens and webhooks in admin never reach further than the person at the keyboard (issue 14, breaks 3, 4).

An integration key acts for no person and sees every lead, so a manager (who sees their teams' leads) may
not issue or widen one; a personal token is changed only by its person, though any staff may revoke it;
webhook deliveries are shown by the lead they carry.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.http import HttpResponseBase
from django.urls import reverse

from handoff import services
from handoff.models import Team
from handoff.tests.factories import MQLFactory, TeamFactory
from integrations.models import ApiKey, ApiKeyScope
from integrations.tests.factories import ApiKeyFactory, WebhookDeliveryFactory, WebhookEndpointFactory
from leads.tests.factories import FIXED_NOW
from tests.personas import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(rep: User, manager: User) -> Team:
    return TeamFactory(slug="london", members=[rep], managers=[manager])


def add_key(user: User, scope: str) -> HttpResponseBase:
    return client_for(user).post(reverse("admin:integrations_apikey_add"), {"name": "Sync", "scope": scope})


def change_key(user: User, api_key: ApiKey, scope: str) -> HttpResponseBase:
    return client_for(user).post(
        reverse("admin:integrations_apikey_change", args=[api_key.pk]), {"name": api_key.name, "scope": scope}
    )


# --- Integration keys ------------------------------------------------------------------------------------


@pytest.mark.parametrize("scope", [ApiKeyScope.FULL, ApiKeyScope.READ, ApiKeyScope.CAPTURE])
def test_a_manager_cannot_issue_an_integration_key(manager: User, scope: str) -> None:
    response = add_key(manager, scope)

    assert (response.status_code, ApiKey.objects.exists()) == (403, False)


def test_a_marketer_issues_a_full_key(marketer: User) -> None:
    add_key(marketer, ApiKeyScope.FULL)

    assert ApiKey.objects.get().scope == ApiKeyScope.FULL


def test_a_manager_cannot_widen_a_capture_key_to_full(manager: User) -> None:
    api_key = ApiKeyFactory(scope=ApiKeyScope.CAPTURE)

    response = change_key(manager, api_key, ApiKeyScope.FULL)

    api_key.refresh_from_db()
    assert (response.status_code, api_key.scope) == (403, ApiKeyScope.CAPTURE)


def test_the_scopes_offered_are_the_ones_the_person_may_issue(marketer: User) -> None:
    page = client_for(marketer).get(reverse("admin:integrations_apikey_add"))

    assert [value for value, _ in page.context["adminform"].form.fields["scope"].choices] == ["capture", "read", "full"]


# --- Personal tokens --------------------------------------------------------------------------------------


def test_staff_cannot_widen_someone_elses_personal_token(manager: User, rep: User) -> None:
    token = ApiKeyFactory(user=rep, scope=ApiKeyScope.READ)

    response = change_key(manager, token, ApiKeyScope.FULL)

    token.refresh_from_db()
    assert (response.status_code, token.scope) == (403, ApiKeyScope.READ)


def test_a_marketer_cannot_widen_someone_elses_personal_token(marketer: User, rep: User) -> None:
    token = ApiKeyFactory(user=rep, scope=ApiKeyScope.READ)

    change_key(marketer, token, ApiKeyScope.FULL)

    token.refresh_from_db()
    assert token.scope == ApiKeyScope.READ


def test_staff_may_revoke_someone_elses_personal_token(manager: User, rep: User) -> None:
    token = ApiKeyFactory(user=rep, scope=ApiKeyScope.READ)

    client_for(manager).post(
        reverse("admin:integrations_apikey_changelist"), {"action": "revoke", "_selected_action": [token.pk]}
    )

    token.refresh_from_db()
    assert token.revoked_at is not None


def test_a_person_may_rename_their_own_token_in_admin(marketer: User) -> None:
    token = ApiKeyFactory(user=marketer, scope=ApiKeyScope.READ)

    client_for(marketer).post(
        reverse("admin:integrations_apikey_change", args=[token.pk]), {"name": "Laptop", "scope": "read"}
    )

    token.refresh_from_db()
    assert token.name == "Laptop"


# --- Webhooks ------------------------------------------------------------------------------------------


def test_a_manager_sees_only_the_deliveries_about_their_teams_leads(manager: User, team: Team, other_rep: User) -> None:
    mine = services.assign_lead(lead=MQLFactory(), team=team, now=FIXED_NOW).lead
    theirs = services.assign_lead(lead=MQLFactory(), team=TeamFactory(members=[other_rep]), now=FIXED_NOW).lead
    endpoint = WebhookEndpointFactory()
    shown = WebhookDeliveryFactory(endpoint=endpoint, payload={"lead": {"id": mine.pk}})
    WebhookDeliveryFactory(endpoint=endpoint, payload={"lead": {"id": theirs.pk}})

    page = client_for(manager).get(reverse("admin:integrations_webhookdelivery_changelist"))

    assert list(page.context["cl"].result_list) == [shown]


def test_a_manager_cannot_point_a_webhook_endpoint_elsewhere(manager: User) -> None:
    endpoint = WebhookEndpointFactory(url="https://93.184.216.34/hook")

    response = client_for(manager).post(
        reverse("admin:integrations_webhookendpoint_change", args=[endpoint.pk]),
        {"name": "CRM", "url": "https://93.184.216.35/hook", "events": ["lead.mql"], "is_active": "on"},
    )

    endpoint.refresh_from_db()
    assert (response.status_code, endpoint.url) == (403, "https://93.184.216.34/hook")


def test_a_manager_cannot_add_a_webhook_endpoint(manager: User) -> None:
    response = client_for(manager).get(reverse("admin:integrations_webhookendpoint_add"))

    assert response.status_code == 403
