"""Project middleware: admin query strings without NUL, and django-csp's policy header built once per process.

``RejectNulInAdminQueryMiddleware`` refuses a NUL character in an admin page's query string with a 400 that names
the parameter. PostgreSQL cannot hold NUL in text, and admin hands its list filters, lookups in the query string and
autocomplete terms to the database as they came, so a NUL there was a 500. No admin parameter takes NUL:
it is refused once, here, for every admin page, including ones not written yet. Other pages validate their
parameters through forms, filtersets and serializers, which refuse NUL under the field's own name, and the
public form drops it from attribution rather than lose a visitor, so this check stays out of their way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from http import HTTPStatus
from typing import Any

import csp.middleware
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseBase


class RejectNulInAdminQueryMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        match = request.resolver_match
        if match is None or match.app_name != "admin":
            return None
        for name, values in request.GET.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                shown = name.replace("\x00", "\\0")
                return HttpResponseBadRequest(
                    f"The query parameter “{shown}” contains a NUL character, which is not allowed.",
                    content_type="text/plain; charset=utf-8",
                )
        return None


def _frozen(directives: Mapping[str, Any] | None) -> tuple[tuple[str, Any], ...] | None:
    """``directives`` as a hashable key, in their order (django-csp's header follows it): each list as a tuple, each
    set as the sorted tuple django-csp makes of it."""
    if directives is None:
        return None
    return tuple(
        (name, tuple(sorted(value)) if isinstance(value, set) else tuple(value) if isinstance(value, list) else value)
        for name, value in directives.items()
    )


@lru_cache(maxsize=256)
def _built_policy(
    config: tuple[tuple[str, Any], ...] | None,
    update: tuple[tuple[str, Any], ...] | None,
    replace: tuple[tuple[str, Any], ...] | None,
    report_only: bool,
) -> str:
    return build_policy(
        config=None if config is None else dict(config),
        update=None if update is None else dict(update),
        replace=None if replace is None else dict(replace),
        report_only=report_only,
    )


@receiver(setting_changed)
def _forget_built_policies(*, setting: str, **kwargs: object) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _built_policy.cache_clear()


class CSPMiddleware(csp.middleware.CSPMiddleware):
    """django-csp's middleware, building each distinct policy once per process instead of once per response.

    A policy depends on the settings and the view's overrides (``_csp_replace`` and the like) only, unless the page
    used a nonce: django-csp builds it anew for every response, which cost a form capture 3 % of its instructions.
    Here the header of a response without a nonce is django-csp's own ``build_policy`` of the same parts, kept per
    process (a few per form, each form's origins in its own); a response with a nonce, or a policy with a value that
    cannot be a key (a dict, say), goes through django-csp's own ``process_response``.
    """

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if getattr(request, "_csp_nonce", None) is not None or (
            response.status_code in (HTTPStatus.INTERNAL_SERVER_ERROR, HTTPStatus.NOT_FOUND) and settings.DEBUG
        ):
            return super().process_response(request, response)
        headers = []
        for report_only, header, exempt, setting in (
            (False, HEADER, "_csp_exempt", "CONTENT_SECURITY_POLICY"),
            (True, HEADER_REPORT_ONLY, "_csp_exempt_ro", "CONTENT_SECURITY_POLICY_REPORT_ONLY"),
        ):
            parts = self.get_policy_parts(request=request, response=response, report_only=report_only)
            try:
                key = (_frozen(parts.config), _frozen(parts.update), _frozen(parts.replace))
                policy = _built_policy(*key, report_only)
            except TypeError:  # a value that isn't hashable: django-csp's own way
                return super().process_response(request, response)
            headers.append((policy, header, exempt, setting))
        for policy, header, exempt, setting in headers:
            prefixes = tuple((getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES") or ())
            if (
                policy
                and header not in response
                and getattr(response, exempt, False) is False
                and not request.path_info.startswith(prefixes)
            ):
                response[header] = policy
        # As django-csp does: a nonce asked for after the header is written is an error, not a silent gap.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response
