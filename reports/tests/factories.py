from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import factory

from handoff.models import RoutingDecision, RoutingDestination, Team
from leads.models import Lead, Stage, StageChange, Touch
from leads.tests.factories import FIXED_NOW, LeadFactory
from reports.models import Spend
from tests.factories import ModelFactory

CHANNEL_OF_MEDIUM = {"cpc": "paid_search", "paid_social": "paid_social", "email": "email", "podcast": "podcast",
                     "webinar": "webinar", "event": "event", "": "direct"}  # fmt: skip


class TouchFactory(ModelFactory[Touch]):
    class Meta:
        model = Touch

    lead = factory.SubFactory(LeadFactory)
    occurred_at = FIXED_NOW
    source = "google"
    medium = "cpc"
    campaign = "brand-search"
    channel = "paid_search"
    is_meaningful = True


class StageChangeFactory(ModelFactory[StageChange]):
    class Meta:
        model = StageChange

    lead = factory.SubFactory(LeadFactory)
    from_stage = Stage.NEW
    to_stage = Stage.MQL
    changed_at = FIXED_NOW


class SpendFactory(ModelFactory[Spend]):
    class Meta:
        model = Spend

    source = "google"
    campaign = "brand-search"
    month = date(2026, 2, 1)
    amount = Decimal("1000.00")
    currency = "EUR"


@dataclass(frozen=True)
class Step:
    """One touch of a journey, ``hours`` after the lead was created."""

    medium: str
    hours: float = 0
    source: str = "src"
    campaign: str = ""
    is_meaningful: bool = True


def journey(
    *steps: Step,
    created_at: datetime = FIXED_NOW,
    stage: str = Stage.NEW,
    moves: Sequence[tuple[str, float]] = (),
    routing_team: str = "",
    **lead_fields: object,
) -> Lead:
    """A lead with these touches (the first meaningful one fixed as its first touch, as capture does) and
    stage changes ``(to_stage, hours after creation)``, ending in ``stage``; routed to the team
    ``routing_team`` (a slug) if one is given."""
    lead = LeadFactory(created_at=created_at, stage=stage, **lead_fields)
    if routing_team:
        routed_to(lead, routing_team)
    touches = [
        TouchFactory(
            lead=lead,
            occurred_at=created_at + timedelta(hours=step.hours),
            source=step.source if step.medium else "",
            medium=step.medium,
            campaign=step.campaign,
            channel=CHANNEL_OF_MEDIUM[step.medium],
            is_meaningful=step.is_meaningful,
        )
        for step in steps
    ]
    first = next((touch for touch in touches if touch.is_meaningful), None)
    if first is not None:
        Lead.objects.filter(pk=lead.pk).update(
            first_touch=first,
            first_touch_at=first.occurred_at,
            first_touch_source=first.source,
            first_touch_medium=first.medium,
            first_touch_campaign=first.campaign,
            first_touch_channel=first.channel,
        )
    previous: str = Stage.NEW
    for to_stage, hours in moves:
        StageChangeFactory(
            lead=lead, from_stage=previous, to_stage=to_stage, changed_at=created_at + timedelta(hours=hours)
        )
        previous = to_stage
    lead.refresh_from_db()
    return lead


def routed_to(lead: Lead, slug: str) -> Lead:
    """Record that routing sent ``lead`` to the team ``slug`` (made if missing)."""
    team = Team.objects.get_or_create(slug=slug, defaults={"name": slug})[0]
    RoutingDecision.objects.create(lead=lead, destination=RoutingDestination.TEAM, team=team, decided_at=FIXED_NOW)
    return lead
