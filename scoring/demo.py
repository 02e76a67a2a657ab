"""Demo data for scoring: a realistic default model, some engagement, and the demo leads scored.

``load_demo`` runs ``load_demo_scoring`` (``ScoringConfig.load_demo``) after the leads and their
enrichment exist. Idempotent: the model is created once (a marketer's later edits are kept), the demo
activities once, and scoring the same leads again changes nothing. Leads owned by reps keep their
stage, as always when scores change.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import transaction

from leads.demo import BULK_PREFIX
from leads.enrichment.titles import Seniority
from leads.models import Activity, ActivityKind, Lead, Stage
from scoring import rules
from scoring.baseline import DEFAULT_BASELINE_FIELDS
from scoring.models import ScoringModel, ScoringRule
from scoring.services import rescore_all

DEFAULT_MODEL_NAME = "Default B2B model"
ICP_INDUSTRIES = ("Software", "Fintech", "Healthcare", "Logistics")
ICP_SIZE_BANDS = ("Mid-market", "Enterprise")
TERRITORY = ("US", "CA", "GB", "IE", "DE", "NL", "SE", "NO", "DK")
SENIORITY_ORDER = tuple(
    str(level)
    for level in (
        Seniority.STUDENT,
        Seniority.INDIVIDUAL,
        Seniority.MANAGER,
        Seniority.DIRECTOR,
        Seniority.VP,
        Seniority.C_LEVEL,
    )
)
DEMO_METADATA = {"demo": "scoring"}


@dataclass(frozen=True)
class RuleSeed:
    name: str
    kind: str
    points: int
    params: dict[str, Any] = field(default_factory=dict)
    dimension: str = rules.FIT
    cap: int | None = None


DEFAULT_RULES = (
    RuleSeed("ICP industry", "attribute_in", 20, {"field": "industry", "values": list(ICP_INDUSTRIES)}),
    # The size band, not the head count: the person states a band on the form when no directory knows the
    # company, and enrichment gives a known company's head count its band.
    RuleSeed("Mid-market and enterprise", "attribute_in", 15, {"field": "size_band", "values": list(ICP_SIZE_BANDS)}),
    RuleSeed(
        "Director and above",
        "ordered_at_least",
        15,
        {"field": "seniority", "order": list(SENIORITY_ORDER), "minimum": str(Seniority.DIRECTOR)},
    ),
    RuleSeed("Sales territory", "attribute_in", 5, {"field": "country", "values": list(TERRITORY)}),
    RuleSeed(
        "Webinar attendance",
        "activity",
        15,
        {"activity_kind": ActivityKind.WEBINAR_ATTENDED.value, "within_days": 90},
        rules.ENGAGEMENT,
        cap=30,
    ),
    RuleSeed(
        "Pricing-page visits",
        "activity",
        8,
        {"activity_kind": ActivityKind.PRICING_PAGE_VIEW.value, "within_days": 30},
        rules.ENGAGEMENT,
        cap=24,
    ),
    RuleSeed(
        "Content downloads",
        "activity",
        5,
        {"activity_kind": ActivityKind.FORM_SUBMITTED.value, "within_days": 90},
        rules.ENGAGEMENT,
        cap=15,
    ),
    RuleSeed("Free-mail address", "free_mail", 0, {"effect": rules.EFFECT_FLOOR, "floor_score": 15}),
    RuleSeed(
        "Competitors", "competitor_domain", 0, {"domains": ["rival-leads.example"], "effect": rules.EFFECT_DISQUALIFY}
    ),
    RuleSeed("Students", "student", 0, {"effect": rules.EFFECT_DISQUALIFY}),
)


def load_demo_scoring(*, users: dict[str, AbstractUser], now: datetime) -> str:
    """Install the default model, give some demo leads webinar and pricing-page activity, and score every lead."""
    model = install_default_model(now=now)
    added = add_demo_engagement(now=now)
    result = rescore_all(now=now)
    return (
        f"model “{model.name}” with {model.rules.count()} rules; {added} demo activities added; "
        f"{result.scored} leads scored ({result.to_mql} to MQL, {result.to_nurture} to nurture, "
        f"{result.disqualified} disqualified)"
    )


def install_default_model(*, now: datetime) -> ScoringModel:
    """Create the default model with its rules once; activate it when no model is active."""
    with transaction.atomic():
        model, created = ScoringModel.objects.get_or_create(
            name=DEFAULT_MODEL_NAME,
            defaults={
                "mql_threshold": 60,
                "nurture_threshold": 25,
                "engagement_half_life_days": 30,
                "baseline_fields": list(DEFAULT_BASELINE_FIELDS),
            },
        )
        if created:
            ScoringRule.objects.bulk_create(
                ScoringRule(
                    scoring_model=model,
                    order=10 * (index + 1),
                    name=seed.name,
                    kind=seed.kind,
                    dimension=seed.dimension,
                    points=seed.points,
                    cap=seed.cap,
                    params=seed.params,
                )
                for index, seed in enumerate(DEFAULT_RULES)
            )
        if not ScoringModel.objects.filter(is_active=True).exists():
            model.is_active = True
            model.save(update_fields=["is_active", "updated_at"])
    return model


# Leads the demo walked to sales (MQL, SQL, rejected) behaved like it: recent webinars and pricing-page
# visits, so their scores read as MQL-worthy; the others get the occasional touch, or none.
SALES_STAGES = (Stage.MQL, Stage.SQL, Stage.REJECTED)


def add_demo_engagement(*, now: datetime, seed: int = 7) -> int:
    """Webinar attendance and pricing-page visits for some realistic demo leads, once; returns how many were added."""
    if Activity.objects.filter(metadata__demo=DEMO_METADATA["demo"]).exists():
        return 0
    rng = random.Random(seed)
    activities = []
    demo_leads = Lead.objects.exclude(email__startswith=BULK_PREFIX).order_by("id").values_list("id", "stage")
    for lead_id, stage in demo_leads:
        engaged = stage in SALES_STAGES
        webinars = rng.choice((1, 2, 2)) if engaged else rng.choice((0, 0, 1, 1, 2))
        pricing_visits = rng.choice((1, 2, 3)) if engaged else rng.choice((0, 0, 0, 1, 2, 3))
        for _ in range(webinars):
            days = 20 if engaged else 80
            activities.append(_activity(lead_id, ActivityKind.WEBINAR_ATTENDED, rng=rng, now=now, max_days=days))
        for _ in range(pricing_visits):
            days = 10 if engaged else 25
            activities.append(_activity(lead_id, ActivityKind.PRICING_PAGE_VIEW, rng=rng, now=now, max_days=days))
    Activity.objects.bulk_create(activities, batch_size=1000)
    return len(activities)


def _activity(lead_id: int, kind: str, *, rng: random.Random, now: datetime, max_days: int) -> Activity:
    occurred_at = now - timedelta(days=rng.uniform(0, max_days))
    return Activity(lead_id=lead_id, kind=kind, occurred_at=occurred_at, metadata=dict(DEMO_METADATA), created_at=now)
