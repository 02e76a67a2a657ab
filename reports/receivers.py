"""Signal receivers: changes to older leads mark their creation day for the next rollup refresh.

Connected in ``ReportsConfig.ready()``: the lower apps send ``post_save`` and ``lead_event`` and never
import reports. A receiver only marks a day (``reports.rollups.mark_day_changed``); the recomputation is
the refresh's job. Leads created today or yesterday are skipped without a query: every refresh recomputes
those days anyway, so capture pays nothing for the reports.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import models
from django.utils import timezone

from handoff.models import Assignment, ContactLog
from leads import events
from leads.models import Activity, ActivityKind, Lead
from reports.rollups import mark_day_changed, mark_days_changed


def lead_saved(sender: type[Lead], instance: Lead, **kwargs: Any) -> None:
    """``post_save`` and ``post_delete`` of a lead (an edit in the admin, a deleted lead)."""
    if instance.created_at is not None:
        mark_day_changed(created_at=instance.created_at, now=timezone.now())


def lead_row_saved(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    """``post_save`` of a touch, a stage change, a submission or a form_submitted activity: the lead's
    path, milestones or forms changed."""
    if isinstance(instance, Activity) and instance.kind != ActivityKind.FORM_SUBMITTED:
        return
    lead_field = type(instance)._meta.get_field("lead")
    assert isinstance(lead_field, models.ForeignKey), "connected only for models with a foreign key to Lead"
    if lead_field.is_cached(instance):
        created_at = instance.lead.created_at  # type: ignore[attr-defined]
    else:
        lead_id = instance.lead_id  # type: ignore[attr-defined]
        created_at = Lead.objects.filter(pk=lead_id).values_list("created_at", flat=True).first()
    if created_at is not None:
        mark_day_changed(created_at=created_at, now=timezone.now())


# Handoff's changes written by ``update()``, which sends no ``post_save``: routing chose the lead's team and an SLA
# clock started (and a reassigned lead's clock stopped), or the sweep flagged a clock as breached.
_HANDOFF_EVENTS = frozenset({events.LEAD_ASSIGNED, events.LEAD_SLA_BREACHED})


def lead_assigned(sender: type[Lead], *, event: str, lead_id: int, **kwargs: Any) -> None:
    """``lead.assigned`` and ``lead.sla_breached``: the lead's team or its SLA clocks changed. Heard after the
    commit, so a crash in between loses this mark; ``rebuild_report_rollups`` repairs that."""
    if event not in _HANDOFF_EVENTS:
        return
    created_at = Lead.objects.filter(pk=lead_id).values_list("created_at", flat=True).first()
    if created_at is not None:
        mark_day_changed(created_at=created_at, now=timezone.now())


def contact_logged(sender: type[ContactLog], instance: ContactLog, created: bool, **kwargs: Any) -> None:
    """``post_save`` of a rep's contact: the first one meets the lead's SLA clock (an ``update()`` beside it).

    The clock's other changes mark the day through the lead: a clock stops when the lead is qualified, rejected or
    recycled (a stage change), reassigned (``lead.assigned``) or erased (``reports.services``).
    """
    if not created:
        return
    created_at = Assignment.objects.filter(pk=instance.assignment_id).values_list("lead__created_at", flat=True).first()
    if created_at is not None:
        mark_day_changed(created_at=created_at, now=timezone.now())


def leads_written_in_bulk(sender: type[Lead], *, lead_ids: list[int], now: datetime, **kwargs: Any) -> None:
    """``leads.events.leads_routed`` and ``lead_rows_written``: bulk writes that send no ``post_save`` changed older
    leads (routing decided again, so a lead's team may have changed; an import added touches to the people it merged).

    One query for the batch, and one mark for each of its creation days the next refresh would not recompute anyway.
    """
    mark_days_changed(created=Lead.objects.filter(pk__in=lead_ids).values_list("created_at", flat=True), now=now)
