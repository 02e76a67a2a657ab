"""Refuse a NUL character in an admin page's query string with a 400 that names the parameter.

PostgreSQL cannot hold NUL in text, and admin hands its list filters, lookups in the query string and
autocomplete terms to the database as they came, so a NUL there was a 500. No admin parameter takes NUL:
it is refused once, here, for every admin page, including ones not written yet. Other pages validate their
parameters through forms, filtersets and serializers, which refuse NUL under the field's own name, and the
public form drops it from attribution rather than lose a visitor, so this check stays out of their way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest


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
