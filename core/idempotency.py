"""``Idempotency-Key`` for the API's POST views: opt in with ``@idempotent`` on the handler.

    from core.idempotency import IDEMPOTENCY_KEY_PARAMETER, IDEMPOTENCY_RESPONSES, idempotent

    class SubmissionsView(APIView):
        @extend_schema(parameters=[IDEMPOTENCY_KEY_PARAMETER], responses={201: ..., **IDEMPOTENCY_RESPONSES})
        @idempotent
        def post(self, request: Request) -> Response: ...

The store and the logic live in the integrations app (``integrations.idempotency``), which leads (and
handoff and reports) may not import: integrations registers its runner here when it starts
(``register_runner`` in ``IntegrationsConfig.ready``). Without a runner the handler simply runs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http.response import HttpResponseBase
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from core.api import ErrorDetailSerializer

Runner = Callable[..., HttpResponseBase]
_runner: list[Runner] = []


def register_runner(run: Runner) -> None:
    """``run(handler, view, request, *args, **kwargs)`` runs every ``@idempotent`` handler from now on."""
    _runner[:] = [run]


IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    name="Idempotency-Key",
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any unique string (a UUID is good) naming this request. A retry with the same key from the same "
        "credential within 24 hours returns the first successful response (status and body, with the header "
        "`Idempotent-Replayed: true`) instead of doing the work again. Failed requests are not kept."
    ),
)


IDEMPOTENCY_RESPONSES = {
    422: OpenApiResponse(
        ErrorDetailSerializer, description="The Idempotency-Key was already used for a different request."
    ),
}


def idempotent(handler: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Make a DRF view's handler (``post``) honour the ``Idempotency-Key`` header."""

    @functools.wraps(handler)
    def wrapper(view: object, request: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not _runner:
            return handler(view, request, *args, **kwargs)
        return _runner[0](handler, view, request, *args, **kwargs)

    return wrapper
