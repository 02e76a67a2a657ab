"""Signal receivers, connected in HandoffConfig.ready. Adapters, like tasks: each calls one service."""

from __future__ import annotations

import logging

from django_q.tasks import async_task

logger = logging.getLogger(__name__)

PIPELINE_TASK = "handoff.tasks.run_pipeline"


def wake_pipeline(sender: object, **kwargs: object) -> None:
    """``leads.events.pipeline_work_due``: queue a pipeline run."""
    queue_pipeline_run()


def queue_pipeline_run(*, spread: bool = True) -> None:
    """Queue ``handoff.tasks.run_pipeline``. The due work is on the leads already, so a broker that is down
    only delays it until the scheduled run; capture must not fail for it."""
    try:
        async_task(PIPELINE_TASK, spread)
    except Exception:
        logger.warning("Could not queue a pipeline run; the scheduled run will take the waiting leads", exc_info=True)
