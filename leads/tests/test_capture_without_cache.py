"""Capture never waits on the cache: with Redis down, submissions are stored and rate limits count per process."""

import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from core.ratelimit import rate_limit_cache
from integrations.models import ApiKey, ApiKeyScope
from integrations.tests.factories import ApiKeyFactory, api_headers
from leads import spam
from leads.models import CaptureForm, Lead, SpamReason, Submission, SubmissionStatus

pytestmark = pytest.mark.django_db

# A Redis that is not there: nothing listens on port 1, so every cache call fails to connect.
UNREACHABLE_REDIS = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
}
URL = "/api/submissions/"
ANSWERS = {"first_name": "Ada", "email": "ada@acme.example", "company_name": "Acme"}
SUBMISSION = {"form": "state-of-b2b", "answers": ANSWERS, "consent": {"given": True}}


@pytest.fixture
def unreachable_cache(settings: Any) -> Iterator[None]:
    # Changing CACHES makes Django drop its cache connections, so `cache` now points at the dead Redis.
    settings.CACHES = UNREACHABLE_REDIS
    yield
    # The fallback counters live in this process for the whole test run; start the next test without them.
    rate_limit_cache.local.clear()


def post_submission(api_key: ApiKey | None = None) -> Any:
    headers = api_headers(api_key or ApiKeyFactory(scope=ApiKeyScope.CAPTURE))
    return Client().post(URL, SUBMISSION, content_type="application/json", headers=headers)


def fill_and_send(client: Client, form: CaptureForm, clock: time_machine.Traveller, **answers: str) -> HttpResponse:
    """Open the public form, take a person's time to fill it in, and send it."""
    page = client.get(reverse("leads:form", args=[form.slug]))
    clock.shift(timedelta(seconds=20))
    data = {"token": page.context["token"], **ANSWERS, "consent": "on", **answers}
    return client.post(reverse("leads:form", args=[form.slug]), data)


def ratelimit_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "core.ratelimit"]


@pytest.mark.usefixtures("unreachable_cache")
def test_a_form_submission_is_stored_while_the_cache_is_unreachable(
    whitepaper: CaptureForm, clock: time_machine.Traveller
) -> None:
    response = fill_and_send(Client(), whitepaper, clock)

    assert response.status_code == 200
    assert Submission.objects.get().status == SubmissionStatus.CAPTURED
    assert Lead.objects.filter(email="ada@acme.example").exists()


@pytest.mark.usefixtures("unreachable_cache")
def test_an_api_submission_is_stored_while_the_cache_is_unreachable(whitepaper: CaptureForm) -> None:
    response = post_submission()

    assert response.status_code // 100 == 2, response.content
    assert Submission.objects.get().status == SubmissionStatus.CAPTURED


@pytest.mark.usefixtures("unreachable_cache")
def test_the_form_rate_limit_counts_in_this_process_while_the_cache_is_unreachable(
    whitepaper: CaptureForm, clock: time_machine.Traveller
) -> None:
    client = Client(REMOTE_ADDR="198.51.100.23")

    for i in range(spam.RATE_LIMIT + 1):
        fill_and_send(client, whitepaper, clock, email=f"person{i}@acme.example")

    assert Submission.objects.filter(spam_reason=SpamReason.RATE_LIMITED).count() == 1


@pytest.mark.usefixtures("unreachable_cache")
def test_the_api_rate_limit_counts_in_this_process_while_the_cache_is_unreachable(
    whitepaper: CaptureForm, settings: Any
) -> None:
    rates = {"api_key": "1/min", "user": "1/min", "anon": "1/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    api_key = ApiKeyFactory(scope=ApiKeyScope.CAPTURE)

    statuses = [post_submission(api_key).status_code for _ in range(2)]

    assert statuses == [201, 429]


@pytest.mark.usefixtures("unreachable_cache")
def test_an_unreachable_cache_is_logged_as_a_warning(whitepaper: CaptureForm, caplog: pytest.LogCaptureFixture) -> None:
    post_submission()

    assert [record.levelname for record in ratelimit_warnings(caplog)] == ["WARNING"]


@pytest.mark.usefixtures("unreachable_cache")
def test_the_warning_is_not_repeated_on_every_request(
    whitepaper: CaptureForm, caplog: pytest.LogCaptureFixture, clock: time_machine.Traveller
) -> None:
    for _ in range(3):
        post_submission()

    assert len(ratelimit_warnings(caplog)) == 1


@pytest.mark.usefixtures("unreachable_cache")
def test_the_warning_is_repeated_a_minute_later(
    whitepaper: CaptureForm, caplog: pytest.LogCaptureFixture, clock: time_machine.Traveller
) -> None:
    post_submission()
    clock.shift(timedelta(minutes=1, seconds=1))

    post_submission()

    assert len(ratelimit_warnings(caplog)) == 2
