"""A circuit breaker whose state lives in Django's cache, so every worker process shares it.

After ``failure_threshold`` consecutive failures the circuit opens for ``reset_after``: calls are
refused at once instead of piling up behind a dead service. When that time has passed one trial call
is let through (half-open); a success closes the circuit, a failure opens it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache


@dataclass(frozen=True)
class CircuitBreaker:
    key: str
    failure_threshold: int = 5
    reset_after: timedelta = timedelta(seconds=60)

    @property
    def _failures_key(self) -> str:
        return f"breaker:{self.key}:failures"

    @property
    def _open_until_key(self) -> str:
        return f"breaker:{self.key}:open_until"

    def is_open(self, *, now: datetime) -> bool:
        open_until = cache.get(self._open_until_key)
        return open_until is not None and now < open_until

    def record_success(self) -> None:
        cache.delete_many([self._failures_key, self._open_until_key])

    def record_failure(self, *, now: datetime) -> None:
        # add() then incr() keeps the count right when several workers fail at once.
        cache.add(self._failures_key, 0, timeout=int(self.reset_after.total_seconds()) * 10)
        failures = cache.incr(self._failures_key)
        if failures >= self.failure_threshold:
            cache.set(self._open_until_key, now + self.reset_after, timeout=int(self.reset_after.total_seconds()) + 60)
