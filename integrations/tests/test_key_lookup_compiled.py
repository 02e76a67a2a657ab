"""The API key lookup is compiled once per connection, and still reads the key's row as it is now on every request."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from integrations.models import ApiKey, ApiKeyScope
from integrations.tests.factories import ApiKeyFactory, api_headers
from tests.personas import client_for

pytestmark = pytest.mark.django_db

# An empty submission: a 400 once the key is let in, so no form or lead is needed.
URL = "/api/submissions/"


def submit(api_key: ApiKey) -> tuple[int, object]:
    response = Client().post(URL, {}, content_type="application/json", headers=api_headers(api_key))
    return response.status_code, response.json()


def test_a_key_revoked_in_admin_stops_working_at_once(manager: User) -> None:
    api_key = ApiKeyFactory(scope=ApiKeyScope.CAPTURE)
    assert submit(api_key)[0] == 400  # let in: its lookup is compiled on this connection

    client_for(manager).post(
        reverse("admin:integrations_apikey_changelist"), {"action": "revoke", "_selected_action": [api_key.pk]}
    )

    assert submit(api_key) == (401, {"detail": "This API key has been revoked."})


def test_a_keys_new_scope_applies_at_once() -> None:
    api_key = ApiKeyFactory(scope=ApiKeyScope.CAPTURE)
    assert submit(api_key)[0] == 400

    ApiKey.objects.filter(pk=api_key.pk).update(scope=ApiKeyScope.READ)

    assert submit(api_key)[0] == 403


def test_a_deleted_key_is_refused_at_once() -> None:
    api_key = ApiKeyFactory(scope=ApiKeyScope.CAPTURE)
    assert submit(api_key)[0] == 400

    ApiKey.objects.filter(pk=api_key.pk).delete()

    assert submit(api_key) == (401, {"detail": "Invalid API key."})
