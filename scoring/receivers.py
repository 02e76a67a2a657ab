"""Signal receivers: changes to older leads mark their creation day for the next effectiveness refresh.

Connected in ``ScoringConfig.ready()``. A receiver only marks a day
(``scoring.effectiveness_rollups.mark_days_changed``); the recomputation is the refresh's job. Leads created
today or yesterday are skipped without a query: every refresh recomputes those days anyway. Scores are
marked where scoring stores them (``scoring.services.lead_scoring.rescore_leads``), not here: they are
written by one UPDATE statement per batch, which sends no signal.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from leads.models import Lead, StageChange
from scoring.effectiveness_rollups import mark_days_changed


def stage_changed(sender: type[StageChange], instance: StageChange, **kwargs: Any) -> None:
    """``post_save`` of a stage change: whether the lead reached MQL or SQL may have changed."""
    created_at = _created_at(instance.lead) if StageChange.lead.is_cached(instance) else None
    if created_at is None:
        created_at = Lead.objects.filter(pk=instance.lead_id).values_list("created_at", flat=True).first()
    if created_at is not None:
        mark_days_changed(created=[created_at], now=timezone.now())


def lead_deleted(sender: type[Lead], instance: Lead, **kwargs: Any) -> None:
    """``post_delete`` of a lead (an import undone): its day has one lead fewer."""
    created_at = _created_at(instance)
    if created_at is not None:
        mark_days_changed(created=[created_at], now=timezone.now())


def _created_at(lead: Lead) -> datetime | None:
    """The lead's ``created_at`` when the instance holds it (not deferred), without a query."""
    return None if "created_at" in lead.get_deferred_fields() else lead.created_at
