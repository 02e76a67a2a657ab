"""``Idempotency-Key`` for the API's POST views: opt in with ``@idempotent`` on the handler.

    from leads.api.idempotency import IDEMPOTENCY_KEY_PARAMETER, IDEMPOTENCY_RESPONSES, idempotent

    class SubmissionsView(APIView):
        @extend_schema(parameters=[IDEMPOTENCY_KEY_PARAMETER], responses={201: ..., **IDEMPOTENCY_RESPONSES})
        @idempotent
        def post(self, request: Request) -> Response: ...

The store and the logic live in the integrations app (``integrations.idempotency``), which leads (and
handoff and reports) may not import, so this decorator reaches it by dotted path, as
``leads.services`` reaches the pipeline task.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http.response import HttpResponseBase
from django.utils.module_loading import import_string
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from leads.api.serializers import ErrorDetailSerializer

RUNNER = "integrations.idempotency.run_idempotently"

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
        run: Callable[..., HttpResponseBase] = import_string(RUNNER)
        return run(handler, view, request, *args, **kwargs)

    return wrapper
