"""The lead pipeline: what happens after a capture commits, in order. Each step is idempotent.

    1. enrich   (leads: providers -> attributes, provenance)
    2. score    (scoring: pure evaluator -> total/fit/engagement/breakdown)
    3. route    (leads: routing rule -> team or nurture track)
    4. assign   (handoff: weighted round-robin -> owner, SLA due time)

Steps are looked up by dotted path so that each app owns its step; a step receives the lead id and
``now`` and must be safe to run twice (a task can be retried after a worker dies).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.utils.module_loading import import_string

PIPELINE_STEPS: tuple[str, ...] = ()


def process_lead(*, lead_id: int, now: datetime, steps: tuple[str, ...] | None = None) -> None:
    """Run every pipeline step for one lead, in order."""
    for dotted in PIPELINE_STEPS if steps is None else steps:
        step: Callable[..., object] = import_string(dotted)
        step(lead_id=lead_id, now=now)
