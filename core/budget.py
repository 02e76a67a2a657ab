"""A worker's time budget: a long run (an import, a preview, a rollup build) stops once its budget is spent and
queues the rest, so it never outlives its task's timeout. Time comes from the caller's ``clock``, never read here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta


def time_is_up_after(
    *, budget: timedelta | None, clock: Callable[[], datetime] | None, started_at: datetime | None = None
) -> Callable[[], bool]:
    """A check of whether ``budget`` has been spent, by ``clock``, since ``started_at`` (default: ``clock()`` now).

    Without a budget or a clock the time is never up.
    """
    if budget is None or clock is None:
        return lambda: False
    start = clock() if started_at is None else started_at
    return lambda: clock() - start >= budget
