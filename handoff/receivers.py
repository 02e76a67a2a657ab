"""Signal receivers, connected in HandoffConfig.ready. Adapters, like tasks: each calls one service."""

from __future__ import annotations

import logging

from django.core.cache import cache

from core.queue import async_task

logger = logging.getLogger(__name__)

PIPELINE_TASK = "handoff.tasks.run_pipeline"
# Set while a queued pipeline run has not started yet; a run clears it as it starts (``run_started``).
WAKE_PENDING_KEY = "handoff:pipeline-wake-pending"
# A pending mark older than this is ignored (its task may be lost): the next capture queues another run.
WAKE_PENDING_SECONDS = 10


def wake_pipeline(sender: object, **kwargs: object) -> None:
    """``leads.events.pipeline_work_due``: queue a pipeline run, unless one is queued and not started yet."""
    queue_pipeline_run()


def queue_pipeline_run(*, spread: bool = True, coalesce: bool = True) -> None:
    """Queue ``handoff.tasks.run_pipeline``, once for every burst of captures.

    Every capture asks for a run; a run takes every lead due when it claims, so while a queued run has
    not started yet, another adds nothing and only floods the broker. The mark is the cache's (``add``
    is atomic in Redis and the database cache alike) and expires, so a run the broker lost is asked for
    again ``WAKE_PENDING_SECONDS`` later. A cache that does not answer costs only the coalescing: the run
    is queued. A run that queues its continuation, or a second run to share a backlog, passes
    ``coalesce=False``: that run is wanted beside any queued one. The due work is on the leads already,
    so a broker that is down only delays it until the scheduled run; capture must not fail for it.
    """
    try:
        # ``get`` first: with the database cache (no Redis) ``add`` is a write transaction, which on SQLite
        # takes the write lock; while a run is pending, which is most of a burst, a read answers.
        if coalesce and (
            cache.get(WAKE_PENDING_KEY) or not cache.add(WAKE_PENDING_KEY, 1, timeout=WAKE_PENDING_SECONDS)
        ):
            return
        if not coalesce:
            cache.set(WAKE_PENDING_KEY, 1, timeout=WAKE_PENDING_SECONDS)  # captures meanwhile need no run of their own
    except Exception:
        logger.warning("Could not read the pipeline wake-up mark; queueing a run anyway", exc_info=True)
    try:
        async_task(PIPELINE_TASK, spread)
    except Exception:
        logger.warning("Could not queue a pipeline run; the scheduled run will take the waiting leads", exc_info=True)


def run_started() -> None:
    """A pipeline run is starting: work that becomes due from now on needs a new wake-up."""
    try:
        cache.delete(WAKE_PENDING_KEY)
    except Exception:
        logger.warning("Could not clear the pipeline wake-up mark; it expires by itself", exc_info=True)
