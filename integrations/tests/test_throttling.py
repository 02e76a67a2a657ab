"""Each API key has its own rate limit (rates from settings; small ones here)."""

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pytest_django import Settings
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from integrations.models import ApiKey
from integrations.tests.factories import ApiKeyFactory, api_headers
from tests.personas import client_for

pytestmark = pytest.mark.django_db


class PingView(APIView):
    required_scope = "read"

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


@pytest.fixture(autouse=True)
def _small_rates(settings: Settings) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_key": "2/min", "user": "2/min", "anon": "2/min"},
    }


def ping(api_key: ApiKey) -> int:
    return PingView.as_view()(APIRequestFactory().get("/", headers=api_headers(api_key))).status_code


def test_a_key_over_its_rate_gets_429() -> None:
    api_key = ApiKeyFactory()

    assert [ping(api_key) for _ in range(3)] == [200, 200, 429]


def test_the_429_says_when_to_retry() -> None:
    api_key = ApiKeyFactory()
    for _ in range(2):
        ping(api_key)

    response = PingView.as_view()(APIRequestFactory().get("/", headers=api_headers(api_key)))

    assert int(response["Retry-After"]) > 0


def test_another_key_keeps_its_own_budget() -> None:
    busy, other = ApiKeyFactory(), ApiKeyFactory()
    for _ in range(3):
        ping(busy)

    assert ping(other) == 200


def test_two_tokens_of_one_person_are_counted_apart(marketer: User) -> None:
    first, second = ApiKeyFactory(user=marketer), ApiKeyFactory(user=marketer)
    for _ in range(3):
        ping(first)

    assert ping(second) == 200


def test_a_signed_in_session_is_counted_per_person(marketer: User) -> None:
    client = client_for(marketer)

    assert [client.get("/api/schema/").status_code for _ in range(3)] == [200, 200, 429]


def test_anonymous_requests_to_a_protected_view_are_refused_before_counting() -> None:
    assert [Client().get("/api/schema/").status_code for _ in range(3)] == [401, 401, 401]
