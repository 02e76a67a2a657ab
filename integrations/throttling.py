"""Rate limits per credential: each API key (personal or integration) has its own budget.

Rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (``api_key``, ``user``, ``anon``) and are
read on every request, so a test or a settings override takes effect without a restart. Counters
live in the default cache, which every process shares, and in each process's memory while that cache
does not answer (``core.ratelimit``): an API client is never refused because Redis is down.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from core.ratelimit import rate_limit_cache
from integrations.models import ApiKey

if TYPE_CHECKING:  # rest_framework.views imports this module while it is being defined
    from rest_framework.views import APIView


class _LiveRateThrottle(SimpleRateThrottle):
    # The stub asks for a whole BaseCache; SimpleRateThrottle only calls get() and set(), which this has.
    cache = rate_limit_cache  # type: ignore[assignment]

    def __init__(self) -> None:
        # DRF copies the rates into a class attribute at import time; read the current settings instead.
        # drf-stubs type this setting's values as numbers; they are rates such as "600/min", as THROTTLE_RATES says.
        self.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES  # type: ignore[assignment]
        super().__init__()

    def cache_key(self, ident: object) -> str:
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ApiKeyRateThrottle(_LiveRateThrottle):
    """Requests made with an API key, counted per key."""

    scope = "api_key"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        return self.cache_key(request.auth.pk) if isinstance(request.auth, ApiKey) else None


class SessionRateThrottle(_LiveRateThrottle):
    """Requests from a signed-in browser session (the docs page), counted per person."""

    scope = "user"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if isinstance(request.auth, ApiKey) or not request.user.is_authenticated:
            return None
        return self.cache_key(request.user.pk)


class AnonymousRateThrottle(_LiveRateThrottle):
    """Requests without credentials, counted per client address (only public views get that far)."""

    scope = "anon"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_key(self.get_ident(request))
