"""Idempotency-Key: a retry with the same key and credential gets the first response, and the work is done once."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.http.response import HttpResponseBase
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from core.idempotency import idempotent
from integrations import services
from integrations.models import ApiKey, IdempotencyRecord
from integrations.tests.factories import ApiKeyFactory, api_headers
from leads.models import Lead
from leads.tests.factories import FIXED_NOW

pytestmark = pytest.mark.django_db


class SlowCreateLeadView(APIView):
    """Like CreateLeadView, but slow enough for a second request to arrive while the first one runs."""

    required_scope = "capture"

    @idempotent
    def post(self, request: Request) -> Response:
        # DRF types request.data as dict | list; these views are only sent a JSON object.
        lead = Lead.objects.create(email=request.data["email"])  # type: ignore[call-overload]
        time.sleep(0.3)
        return Response({"id": lead.pk}, status=201)


class CreateLeadView(APIView):
    """Stands in for any POST view that opts in: it creates a lead, or answers 400 for a bad email."""

    required_scope = "capture"

    @idempotent
    def post(self, request: Request) -> Response:
        # DRF types request.data as dict | list; these views are only sent a JSON object.
        if "@" not in request.data["email"]:  # type: ignore[call-overload]
            return Response({"detail": "Not an email address."}, status=400)
        lead = Lead.objects.create(email=request.data["email"])  # type: ignore[call-overload]
        return Response({"id": lead.pk, "email": lead.email}, status=201)


def post(api_key: ApiKey, body: dict[str, str], key: str | None = "retry-1") -> HttpResponseBase:
    headers = {**api_headers(api_key), **({"Idempotency-Key": key} if key is not None else {})}
    request = APIRequestFactory().post("/", body, format="json", headers=headers)
    response = CreateLeadView.as_view()(request)
    return response.render() if isinstance(response, Response) else response


def test_a_retry_gets_the_first_status_and_body() -> None:
    api_key = ApiKeyFactory()
    first = post(api_key, {"email": "ada@acme.example"})

    retry = post(api_key, {"email": "ada@acme.example"})

    # post() returns what the view returned, an HttpResponseBase; an APIView returns a rendered Response.
    assert (retry.status_code, retry.content) == (first.status_code, first.content)  # type: ignore[attr-defined]


def test_a_retry_does_the_work_once() -> None:
    api_key = ApiKeyFactory()

    for _ in range(2):
        post(api_key, {"email": "ada@acme.example"})

    assert Lead.objects.count() == 1


def test_a_replayed_response_says_so() -> None:
    api_key = ApiKeyFactory()
    post(api_key, {"email": "ada@acme.example"})

    retry = post(api_key, {"email": "ada@acme.example"})

    assert retry["Idempotent-Replayed"] == "true"


def test_the_same_key_with_a_different_body_is_refused_with_422() -> None:
    api_key = ApiKeyFactory()
    post(api_key, {"email": "ada@acme.example"})

    response = post(api_key, {"email": "grace@acme.example"})

    assert (response.status_code, Lead.objects.count()) == (422, 1)


def test_the_same_key_from_another_credential_is_another_request() -> None:
    post(ApiKeyFactory(), {"email": "ada@acme.example"})

    response = post(ApiKeyFactory(), {"email": "grace@acme.example"})

    assert (response.status_code, Lead.objects.count()) == (201, 2)


def test_a_failed_request_is_not_kept_so_a_corrected_retry_runs() -> None:
    api_key = ApiKeyFactory()
    post(api_key, {"email": "not-an-address"})

    response = post(api_key, {"email": "ada@acme.example"})

    assert response.status_code == 201


def test_without_the_header_every_request_runs() -> None:
    api_key = ApiKeyFactory()

    for _ in range(2):
        post(api_key, {"email": f"ada{_}@acme.example"}, key=None)

    assert (Lead.objects.count(), IdempotencyRecord.objects.count()) == (2, 0)


def test_a_key_longer_than_255_characters_is_refused() -> None:
    response = post(ApiKeyFactory(), {"email": "ada@acme.example"}, key="k" * 256)

    assert (response.status_code, Lead.objects.count()) == (400, 0)


def test_a_response_older_than_a_day_is_not_replayed() -> None:
    api_key = ApiKeyFactory()
    post(api_key, {"email": "ada@acme.example"})
    IdempotencyRecord.objects.update(created_at=FIXED_NOW - timedelta(days=2))

    response = post(api_key, {"email": "grace@acme.example"})

    assert (response.status_code, Lead.objects.count()) == (201, 2)


def test_pruning_forgets_responses_older_than_a_day() -> None:
    IdempotencyRecord.objects.create(
        credential="key:1", key="old", request_hash="x", created_at=FIXED_NOW - timedelta(hours=25)
    )
    IdempotencyRecord.objects.create(
        credential="key:1", key="new", request_hash="x", created_at=FIXED_NOW - timedelta(hours=23)
    )

    services.prune_idempotency_records(now=FIXED_NOW)

    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises writers; the race needs PostgreSQL")
def test_two_concurrent_requests_with_one_key_do_the_work_once() -> None:
    api_key = ApiKeyFactory()
    barrier = threading.Barrier(2)
    bodies: list[bytes] = []

    def send() -> None:
        try:
            barrier.wait()
            headers = {**api_headers(api_key), "Idempotency-Key": "race"}
            request = APIRequestFactory().post("/", {"email": "ada@acme.example"}, format="json", headers=headers)
            response = SlowCreateLeadView.as_view()(request)
            bodies.append(response.render().content if isinstance(response, Response) else response.content)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert (Lead.objects.count(), len(bodies), len(set(bodies))) == (1, 2, 1)
