"""Factories for the scoring tests; each gives a valid object with no arguments."""

from __future__ import annotations

import factory

from leads.tests.factories import FIXED_NOW
from scoring.models import Dimension, RescoreJob, ScoringModel, ScoringRule


class ScoringModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScoringModel

    name = factory.Sequence(lambda n: f"Model {n}")
    is_active = True
    mql_threshold = 60
    nurture_threshold = 20
    engagement_half_life_days = 30
    baseline_fields = factory.LazyFunction(lambda: ["first_name", "company_name", "email_or_phone"])


class ScoringRuleFactory(factory.django.DjangoModelFactory):
    """An ICP-industry fit rule; pass kind, params and dimension for another."""

    class Meta:
        model = ScoringRule

    scoring_model = factory.SubFactory(ScoringModelFactory)
    order = factory.Sequence(lambda n: n)
    name = factory.Sequence(lambda n: f"Rule {n}")
    kind = "attribute_in"
    dimension = Dimension.FIT
    points = 20
    params = factory.LazyFunction(lambda: {"field": "industry", "values": ["Software", "Fintech"]})


class RescoreJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RescoreJob

    created_at = FIXED_NOW
