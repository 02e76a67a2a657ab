"""Where the rate limits count: the shared cache (Redis), or this process's memory while it fails or
when the only shared cache is the database cache.

Nothing on the capture path may depend on Redis or the cache being up (DESIGN.md). The API's per-key limits
(``integrations.throttling``) count here (the public form's per-address limit counts stored submissions):
in the shared cache, which every process sees, and, for as long as it does not answer, in a per-process
memory cache. While degraded, each process allows the full rate on its own, so a client gets at most the
rate times the number of processes: looser, but a flood from one address or key is still slowed, and no
visitor is refused because a counter could not be read. Letting everything through would drop that
protection exactly when the system is weakest; a database-backed fallback would put a write per request
on the database the submissions need. For the same reason the database cache (the default without
``REDIS_URL``) is never used for counting: each process counts on its own there too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.db import DatabaseError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

T = TypeVar("T")

# What the cache backends we configure raise when their store does not answer: Redis (down, refused,
# timed out) and the database cache (locked, gone). Anything else is a bug and is raised.
STORE_ERRORS = (RedisError, DatabaseError, OSError)
# Say it once a minute per process: a line per request would bury the log while Redis is down.
WARNING_INTERVAL_SECONDS = 60
_WARNED_KEY = "core.ratelimit:warned"


class RateLimitCache:
    """The few cache operations the rate limits use, on the shared cache with a per-process fallback."""

    def __init__(self) -> None:
        # One store per process, shared by its threads (LocMemCache locks itself).
        self.local = LocMemCache("leads-rate-limits", {"OPTIONS": {"MAX_ENTRIES": 50_000}})

    def get(self, key: str, default: Any = None) -> Any:
        return self._on_store(lambda store: store.get(key, default))

    def set(self, key: str, value: Any, timeout: float | None) -> None:
        self._on_store(lambda store: store.set(key, value, timeout))

    def _on_store(self, operation: Callable[[BaseCache], T]) -> T:
        shared = caches["default"]
        if isinstance(shared, DatabaseCache):
            # Counting there would cost every request a write transaction of its own on the database that
            # captures write to: the per-process count is the lesser evil (and Redis the way to share it).
            return operation(self.local)
        try:
            return operation(shared)
        except STORE_ERRORS:
            self._warn_now_and_then()
            return operation(self.local)

    def _warn_now_and_then(self) -> None:
        # add() only succeeds when the marker has expired, so one process warns at most once an interval.
        if self.local.add(_WARNED_KEY, True, timeout=WARNING_INTERVAL_SECONDS):
            logger.warning(
                "The shared cache does not answer; rate limits count in this process's memory until it does",
                exc_info=True,
            )


rate_limit_cache = RateLimitCache()
