"""Marketers' changes to scoring models and rules; each change to the active model queues a rescore."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction

from scoring.models import ScoringModel, ScoringRule
from scoring.services.rescoring import request_rescore


def save_scoring_model(*, scoring_model: ScoringModel, by: User | None, now: datetime) -> ScoringModel:
    """Save the model; activating it deactivates the active one. Rescores when the active model changed."""
    scoring_model.full_clean()
    with transaction.atomic():
        if scoring_model.is_active:
            ScoringModel.objects.filter(is_active=True).exclude(pk=scoring_model.pk).update(is_active=False)
        scoring_model.save()
        if scoring_model.is_active:
            request_rescore(reason=f"Scoring model “{scoring_model.name}” saved", by=by, now=now)
    return scoring_model


def save_scoring_rule(*, rule: ScoringRule, by: User | None, now: datetime) -> ScoringRule:
    """Save the rule; rescores when it belongs (or belonged, before a move) to the active model."""
    rule.full_clean()
    with transaction.atomic():
        previous_model_id = ScoringRule.objects.filter(pk=rule.pk).values_list("scoring_model_id", flat=True).first()
        rule.save()
        if _touches_active_model(rule.scoring_model_id, previous_model_id):
            request_rescore(reason=f"Rule “{rule.name}” saved", by=by, now=now)
    return rule


def delete_scoring_rule(*, rule: ScoringRule, by: User | None, now: datetime) -> None:
    with transaction.atomic():
        model_id, name = rule.scoring_model_id, rule.name
        rule.delete()
        if _touches_active_model(model_id):
            request_rescore(reason=f"Rule “{name}” deleted", by=by, now=now)


def _touches_active_model(*model_ids: int | None) -> bool:
    return ScoringModel.objects.filter(pk__in=[pk for pk in model_ids if pk], is_active=True).exists()
