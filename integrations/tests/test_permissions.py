"""What each credential may do: a key's scope against the view's ``required_scope``, a person's permissions."""

import pytest
from django.contrib.auth.models import User
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from integrations.models import ApiKeyScope
from integrations.tests.factories import ApiKeyFactory, api_headers
from leads.models import Lead
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


class ReadView(APIView):
    required_scope = "read"

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class CaptureView(APIView):
    required_scope = "capture"

    def post(self, request: Request) -> Response:
        return Response({"ok": True}, status=201)


class UndeclaredView(APIView):
    def get(self, request: Request) -> Response:
        return Response({"ok": True})

    def post(self, request: Request) -> Response:
        return Response({"ok": True}, status=201)


class AddActivityView(CaptureView):
    required_permissions = ("leads.add_activity",)


class MyLeadsView(APIView):
    required_scope = "read"

    def get(self, request: Request) -> Response:
        # Only called with a person's key: its request.user is that User, never AnonymousUser.
        return Response(sorted(Lead.objects.owned_by(request.user).values_list("email", flat=True)))  # type: ignore[arg-type]


def status_of(view: type[APIView], method: str, scope: str = ApiKeyScope.FULL, user: object = None) -> int:
    api_key = ApiKeyFactory(scope=scope, user=user)
    request = getattr(APIRequestFactory(), method)("/", headers=api_headers(api_key), format="json")
    return view.as_view()(request).status_code


@pytest.mark.parametrize(
    ("scope", "view", "method", "expected"),
    [
        (ApiKeyScope.CAPTURE, CaptureView, "post", 201),
        (ApiKeyScope.CAPTURE, ReadView, "get", 403),
        (ApiKeyScope.READ, ReadView, "get", 200),
        (ApiKeyScope.READ, CaptureView, "post", 403),
        (ApiKeyScope.FULL, ReadView, "get", 200),
        (ApiKeyScope.FULL, CaptureView, "post", 201),
    ],
)
def test_an_integration_key_may_do_what_its_scope_allows(
    scope: str, view: type[APIView], method: str, expected: int
) -> None:
    assert status_of(view, method, scope) == expected


def test_a_view_without_a_declared_scope_lets_a_read_key_get() -> None:
    assert status_of(UndeclaredView, "get", ApiKeyScope.READ) == 200


def test_a_view_without_a_declared_scope_refuses_a_capture_key_a_get() -> None:
    assert status_of(UndeclaredView, "get", ApiKeyScope.CAPTURE) == 403


def test_a_view_without_a_declared_scope_lets_a_full_key_post() -> None:
    assert status_of(UndeclaredView, "post", ApiKeyScope.FULL) == 201


def test_a_view_without_a_declared_scope_refuses_a_capture_key_a_post() -> None:
    assert status_of(UndeclaredView, "post", ApiKeyScope.CAPTURE) == 403


def test_an_integration_key_needs_no_django_permissions() -> None:
    assert status_of(AddActivityView, "post", ApiKeyScope.CAPTURE) == 201


def test_a_reps_token_lacks_the_permissions_the_rep_lacks(rep: User) -> None:
    assert status_of(AddActivityView, "post", user=rep) == 403


def test_a_marketers_token_has_the_marketers_permissions(marketer: User) -> None:
    assert status_of(AddActivityView, "post", user=marketer) == 201


def test_a_personal_tokens_scope_limits_it_further(marketer: User) -> None:
    assert status_of(AddActivityView, "post", ApiKeyScope.READ, user=marketer) == 403


def test_a_reps_token_acts_as_the_rep_and_sees_only_the_reps_leads(rep: User, other_rep: User) -> None:
    LeadFactory(email="mine@acme.example", owner=rep)
    LeadFactory(email="theirs@acme.example", owner=other_rep)
    api_key = ApiKeyFactory(user=rep)

    response = MyLeadsView.as_view()(APIRequestFactory().get("/", headers=api_headers(api_key)))

    assert response.data == ["mine@acme.example"]


def test_the_refusal_says_which_scope_is_needed() -> None:
    api_key = ApiKeyFactory(scope=ApiKeyScope.READ)

    response = CaptureView.as_view()(APIRequestFactory().post("/", headers=api_headers(api_key), format="json"))

    assert "it needs “capture”" in response.data["detail"]
