"""/api/tokens/: anyone signed in makes, lists and revokes their own personal tokens."""

import hashlib

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from integrations.models import ApiKey
from integrations.tests.factories import ApiKeyFactory
from tests.personas import client_for

pytestmark = pytest.mark.django_db


def test_a_rep_makes_a_token_shown_once_and_stored_hashed(rep: User) -> None:
    response = client_for(rep).post(reverse("api:tokens"), {"name": "My script", "scope": "read"})

    token = ApiKey.objects.get()
    plaintext = response.context["issued"].plaintext
    assert (token.user, token.scope, token.hashed_key) == (rep, "read", hashlib.sha256(plaintext.encode()).hexdigest())
    assert plaintext in response.content.decode()


def test_the_new_token_page_is_not_cached(rep: User) -> None:
    response = client_for(rep).post(reverse("api:tokens"), {"name": "My script", "scope": "read"})

    assert "no-store" in response["Cache-Control"]


def test_the_list_shows_only_the_persons_own_tokens(rep: User, other_rep: User) -> None:
    ApiKeyFactory(user=rep, name="Mine")
    ApiKeyFactory(user=other_rep, name="Theirs")
    ApiKeyFactory(name="An integration")

    response = client_for(rep).get(reverse("api:tokens"))

    assert [token.name for token in response.context["tokens"]] == ["Mine"]


def test_a_person_revokes_their_own_token(rep: User) -> None:
    token = ApiKeyFactory(user=rep)

    response = client_for(rep).post(reverse("api:revoke_token", args=[token.pk]))

    token.refresh_from_db()
    assert (response.status_code, token.revoked_at is not None) == (302, True)


def test_another_persons_token_cannot_be_revoked(rep: User, other_rep: User) -> None:
    token = ApiKeyFactory(user=other_rep)

    response = client_for(rep).post(reverse("api:revoke_token", args=[token.pk]))

    token.refresh_from_db()
    assert (response.status_code, token.revoked_at) == (404, None)


def test_revoking_needs_a_post(rep: User) -> None:
    token = ApiKeyFactory(user=rep)

    assert client_for(rep).get(reverse("api:revoke_token", args=[token.pk])).status_code == 405


def test_anonymous_visitors_are_sent_to_sign_in() -> None:
    response = Client().get(reverse("api:tokens"))

    assert (response.status_code, response["Location"].startswith(reverse("login"))) == (302, True)
