"""The site's CSP middleware writes the headers django-csp's own writes, building each distinct policy once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import csp.middleware
import pytest
from csp.constants import NONCE, NONE, SELF
from csp.exceptions import CSPNonceError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.test import RequestFactory, override_settings

from core import middleware
from core.middleware import CSPMiddleware

HEADERS = ("Content-Security-Policy", "Content-Security-Policy-Report-Only")


def _plain(response: HttpResponse) -> HttpResponse:
    return response


def _replaced(response: HttpResponse) -> HttpResponse:
    response._csp_replace = {"form-action": [SELF, "https://www.example.com"], "frame-ancestors": [SELF]}  # type: ignore[attr-defined]
    return response


def _updated(response: HttpResponse) -> HttpResponse:
    response._csp_update = {"img-src": {"https://cdn.example.com", "https://a.example.com"}}  # type: ignore[attr-defined]
    return response


def _updated_with_new_directives(response: HttpResponse) -> HttpResponse:
    response._csp_update = {  # type: ignore[attr-defined]
        "media-src": ["https://media.example.com"], "worker-src": [SELF], "manifest-src": [SELF],
        "img-src": ["https://cdn.example.com"],
    }  # fmt: skip
    return response


def _exempt(response: HttpResponse) -> HttpResponse:
    response._csp_exempt = True  # type: ignore[attr-defined]
    return response


def _own_config(response: HttpResponse) -> HttpResponse:
    response._csp_config = {"default-src": [NONE], "upgrade-insecure-requests": True}  # type: ignore[attr-defined]
    return response


def _respond(
    middleware_class: type[csp.middleware.CSPMiddleware],
    get_response: Callable[[HttpRequest], HttpResponse],
    request: HttpRequest,
) -> HttpResponseBase:
    response = middleware_class(get_response)(request)
    assert isinstance(response, HttpResponseBase)  # a sync middleware's answer
    return response


def _served(
    middleware_class: type[csp.middleware.CSPMiddleware], view: Callable[[HttpResponse], HttpResponse]
) -> dict[str, str | None]:
    response = _respond(middleware_class, lambda request: view(HttpResponse("ok")), RequestFactory().get("/f/form/"))
    return {header: response.get(header) for header in HEADERS}


@pytest.mark.parametrize(
    "view",
    [_plain, _replaced, _updated, _updated_with_new_directives, _exempt, _own_config],
    ids=["plain", "replace", "update", "new directives", "exempt", "config"],
)
def test_each_response_gets_the_headers_django_csp_gives_it(view: Callable[[HttpResponse], HttpResponse]) -> None:
    expected = _served(csp.middleware.CSPMiddleware, view)
    assert _served(CSPMiddleware, view) == expected
    assert _served(CSPMiddleware, view) == expected  # and again, from what was kept


@override_settings(
    CONTENT_SECURITY_POLICY_REPORT_ONLY={"DIRECTIVES": {"default-src": [SELF], "report-uri": "/csp-report/"}}
)
def test_a_report_only_policy_is_written_beside_the_enforced_one() -> None:
    headers = _served(CSPMiddleware, _plain)
    assert headers == _served(csp.middleware.CSPMiddleware, _plain)
    assert headers["Content-Security-Policy-Report-Only"] == "default-src 'self'; report-uri /csp-report/"


def test_a_changed_setting_is_used_from_the_next_response_on() -> None:
    before = _served(CSPMiddleware, _plain)["Content-Security-Policy"]
    with override_settings(CONTENT_SECURITY_POLICY={"DIRECTIVES": {"default-src": [NONE]}}):
        assert _served(CSPMiddleware, _plain)["Content-Security-Policy"] == "default-src 'none'"
    assert _served(CSPMiddleware, _plain)["Content-Security-Policy"] == before


@override_settings(CONTENT_SECURITY_POLICY={"DIRECTIVES": {"default-src": [SELF], "script-src": [SELF, NONCE]}})
def test_a_page_that_used_a_nonce_gets_it_in_its_own_header() -> None:
    def get_response(request: HttpRequest) -> HttpResponse:
        return HttpResponse(f"<script nonce='{request.csp_nonce}'></script>")  # type: ignore[attr-defined]

    policies = set()
    for _ in range(2):
        request = RequestFactory().get("/")
        response = _respond(CSPMiddleware, get_response, request)
        assert f"'nonce-{request._csp_nonce}'" in response["Content-Security-Policy"]  # type: ignore[attr-defined]
        policies.add(response["Content-Security-Policy"])
    assert len(policies) == 2


def test_a_nonce_asked_for_after_the_header_is_written_is_an_error() -> None:
    request = RequestFactory().get("/")
    _respond(CSPMiddleware, lambda request: HttpResponse("ok"), request)
    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)  # type: ignore[attr-defined]


def test_the_same_policy_is_built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    middleware._built_policy.cache_clear()
    calls: list[dict[str, object]] = []
    real = middleware.build_policy

    def counted(**kwargs: Any) -> str:
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(middleware, "build_policy", counted)
    for _ in range(3):
        _served(CSPMiddleware, _replaced)
    assert len(calls) == 2  # the enforced policy and the (empty) report-only one, once each
