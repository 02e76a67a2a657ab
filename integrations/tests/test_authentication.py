"""API keys: stored hashed, and only a valid, live key gets in (``Authorization: Api-Key <key>``)."""

import hashlib
from datetime import timedelta

import pytest
from django.test import Client

from integrations import services
from integrations.models import ApiKey, ApiKeyScope
from integrations.tests.factories import ApiKeyFactory, api_headers, plaintext_of
from leads.tests.factories import FIXED_NOW, UserFactory

pytestmark = pytest.mark.django_db

SCHEMA = "/api/schema/"


def test_create_api_key_stores_only_the_hash() -> None:
    issued = services.create_api_key(name="Webinar sync", scope=ApiKeyScope.CAPTURE, now=FIXED_NOW)

    stored = ApiKey.objects.values().get(pk=issued.api_key.pk)
    assert issued.plaintext not in {str(value) for value in stored.values()}
    assert stored["hashed_key"] == hashlib.sha256(issued.plaintext.encode()).hexdigest()


def test_a_valid_key_is_let_in() -> None:
    api_key = ApiKeyFactory()

    response = Client().get(SCHEMA, headers=api_headers(api_key))

    assert response.status_code == 200


def test_a_wrong_key_is_refused_with_401() -> None:
    api_key = ApiKeyFactory()

    response = Client().get(SCHEMA, headers={"Authorization": f"Api-Key {api_key.prefix}.not-the-secret"})

    assert (response.status_code, response.json()) == (401, {"detail": "Invalid API key."})


def test_a_request_without_credentials_gets_a_401_with_the_api_key_challenge() -> None:
    response = Client().get(SCHEMA)

    assert (response.status_code, response["WWW-Authenticate"]) == (401, "Api-Key")


def test_a_revoked_key_is_refused_with_401() -> None:
    api_key = ApiKeyFactory(revoked_at=FIXED_NOW)

    response = Client().get(SCHEMA, headers=api_headers(api_key))

    assert (response.status_code, response.json()) == (401, {"detail": "This API key has been revoked."})


def test_an_expired_key_is_refused_with_401() -> None:
    api_key = ApiKeyFactory(expires_at=FIXED_NOW)

    response = Client().get(SCHEMA, headers=api_headers(api_key))

    assert (response.status_code, response.json()) == (401, {"detail": "This API key has expired."})


def test_a_deactivated_persons_token_is_refused_with_401() -> None:
    api_key = ApiKeyFactory(user=UserFactory(is_active=False))

    response = Client().get(SCHEMA, headers=api_headers(api_key))

    assert response.status_code == 401


def test_authenticating_records_when_the_key_was_last_used() -> None:
    api_key = ApiKeyFactory()

    services.authenticate_key(plaintext=plaintext_of(api_key), now=FIXED_NOW)

    api_key.refresh_from_db()
    assert api_key.last_used_at == FIXED_NOW


def test_last_used_is_written_at_most_once_a_minute() -> None:
    api_key = ApiKeyFactory(last_used_at=FIXED_NOW)

    services.authenticate_key(plaintext=plaintext_of(api_key), now=FIXED_NOW + timedelta(seconds=30))

    api_key.refresh_from_db()
    assert api_key.last_used_at == FIXED_NOW


def test_revoking_keeps_the_key_listed_but_unusable() -> None:
    api_key = ApiKeyFactory()

    services.revoke_api_keys(api_keys=ApiKey.objects.filter(pk=api_key.pk), now=FIXED_NOW)

    with pytest.raises(services.InvalidKey):
        services.authenticate_key(plaintext=plaintext_of(api_key), now=FIXED_NOW)
    assert ApiKey.objects.filter(pk=api_key.pk).exists()
