"""``Idempotency-Key`` for POST views: a retry with the same key and credential gets the first response again.

A view opts in with the ``core.idempotency.idempotent`` decorator on its handler (the API views
live in apps that may not import this one, so this app registers ``run_idempotently`` there when it
starts). The view runs in one transaction with the claim on the key: its writes and the stored
response commit together, or neither does. Only a 2xx response is kept, so a request that failed
(invalid input, a conflict) can be corrected and sent again with the same key. The same key with a
different body or path is refused with 422; keys are kept for 24 hours.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.http import HttpResponse, RawPostDataException
from django.http.response import HttpResponseBase
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from integrations import services
from integrations.models import ApiKey, IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255

Handler = Callable[..., HttpResponseBase]


def run_idempotently(handler: Handler, view: object, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
    """Run ``handler`` once per ``Idempotency-Key`` and credential; replay its first 2xx response after that."""
    key = request.headers.get(HEADER)
    credential = _credential(request)
    if key is None or credential is None:
        return handler(view, request, *args, **kwargs)
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        return Response({"detail": f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters."}, status=400)
    request_hash = _request_hash(request)
    with transaction.atomic():
        earlier = services.claim_key(credential=credential, key=key, request_hash=request_hash, now=timezone.now())
        if earlier is not None:
            return _replay(earlier, request_hash=request_hash)
        response = handler(view, request, *args, **kwargs)
        if 200 <= response.status_code < 300:
            body, content_type = _rendered(response)
            services.keep_response(
                credential=credential, key=key, status_code=response.status_code, body=body, content_type=content_type
            )
        else:
            services.release_key(credential=credential, key=key)
    return response


def _credential(request: Request) -> str | None:
    # Anonymous requests are never replayed: anyone could then read someone else's response.
    if isinstance(request.auth, ApiKey):
        return f"key:{request.auth.pk}"
    if request.user.is_authenticated and request.user.pk is not None:
        return f"user:{request.user.pk}"
    return None


def _request_hash(request: Request) -> str:
    try:
        body = request.body
    except RawPostDataException:  # something parsed the body already; its parsed form will do
        body = json.dumps(request.data, sort_keys=True, default=str).encode()
    return hashlib.sha256(f"{request.method} {request.get_full_path()}\n".encode() + body).hexdigest()


def _rendered(response: HttpResponseBase) -> tuple[str, str]:
    if isinstance(response, Response):
        # The same renderer and settings DRF uses for the first response, so the replay is byte-identical.
        return JSONRenderer().render(response.data).decode(), "application/json"
    assert isinstance(response, HttpResponse)
    return response.content.decode(), response.get("Content-Type", "application/json")


def _replay(earlier: IdempotencyRecord, *, request_hash: str) -> HttpResponseBase:
    if earlier.request_hash != request_hash:
        return Response({"detail": f"This {HEADER} was already used for a different request."}, status=422)
    response = HttpResponse(earlier.body, status=earlier.status_code, content_type=earlier.content_type)
    response[REPLAYED_HEADER] = "true"
    return response
