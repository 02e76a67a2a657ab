"""Scoring one lead: on capture and after enrichment (a pipeline step), and after each new activity."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from leads import services as lead_services
from leads.models import Lead, Stage
from leadsite.batch import once_per_batch
from scoring import baseline, rules, selectors, thresholds

logger = logging.getLogger(__name__)

SCORE_FIELDS = ["score", "fit_score", "engagement_score", "score_breakdown", "scored_at"]


def score_lead(*, lead_id: int, now: datetime, occasion: str = "") -> Lead:
    """Score the lead with the active model, store the result and its reasons, then apply the thresholds.

    The pipeline step (``scoring.services.score_lead``) and the rescore after a new activity.
    Idempotent: run twice with the same data and `now`, it stores the same score and moves the
    stage at most once. Without an active model, or once its personal data is erased, the lead is left
    as it is. ``occasion`` (why the lead is scored now, e.g. "Recycle date reached.") starts the reason
    of a stage change it causes.
    """
    lead = Lead.objects.get(pk=lead_id)
    scoring = once_per_batch("scoring.active", selectors.active_scoring)
    if scoring is None or lead.erased_at is not None:  # an erased lead keeps the score it had
        return lead
    facts = selectors.lead_facts(lead)
    activities = selectors.activity_facts(lead_id=lead.pk, lookback_days=scoring.lookback_days, now=now)
    result = rules.score(facts, activities, scoring.rule_specs, scoring.spec, now)

    scores = (result.total, result.fit, result.engagement, breakdown_json(result.breakdown))
    # Like bulk rescoring, an unchanged score is not written again: scored_at is when it last changed.
    if lead.scored_at is None or scores != (lead.score, lead.fit_score, lead.engagement_score, lead.score_breakdown):
        lead.score, lead.fit_score, lead.engagement_score, lead.score_breakdown = scores
        lead.scored_at = now
        lead.save(update_fields=SCORE_FIELDS)

    target = thresholds.target_stage(
        stage=lead.stage,
        is_owned=lead.owner_id is not None,
        is_parked=thresholds.is_parked(nurture_ends_at=lead.nurture_ends_at, now=now),
        total=result.total,
        is_disqualified=result.disqualified,
        has_baseline=not baseline.missing_fields(lead, scoring.baseline_fields),
        spec=scoring.spec,
    )
    if target and target != thresholds.HELD:
        move_stage(lead=lead, to_stage=target, scoring=scoring, now=now, occasion=occasion)
    return lead


def breakdown_json(outcomes: Iterable[rules.RuleOutcome]) -> list[dict[str, Any]]:
    """The breakdown as stored on the lead (``Lead.score_breakdown``); bulk rescoring writes the same shape."""
    return [
        {
            "rule_id": outcome.rule_id,
            "name": outcome.name,
            "kind": outcome.kind,
            "dimension": outcome.dimension,
            "points": outcome.points,
            "reason": outcome.reason,
        }
        for outcome in outcomes
    ]


def move_stage(*, lead: Lead, to_stage: str, scoring: selectors.Scoring, now: datetime, occasion: str = "") -> bool:
    """Move the lead through the stage service with the score as the reason; False when someone got there first."""
    reason = " ".join(filter(None, [occasion, stage_reason(lead, to_stage, scoring)]))
    try:
        lead_services.change_stage(lead=lead, to_stage=to_stage, now=now, reason=reason)
    except lead_services.StageTransitionError:
        # A rep or another scoring run changed the stage since we read it; their change stands.
        logger.info("Lead %s was not moved to %s: its stage changed meanwhile", lead.pk, to_stage)
        return False
    return True


def stage_reason(lead: Lead, to_stage: str, scoring: selectors.Scoring) -> str:
    """Why scoring moved the lead, in the words of its StageChange row."""
    model = f"scoring model “{scoring.name}”"
    if to_stage == Stage.MQL:
        return f"Score {lead.score} reached the MQL threshold ({scoring.spec.mql_threshold}) of {model}."
    if to_stage == Stage.NURTURE:
        return f"Score {lead.score} is below the nurture threshold ({scoring.spec.nurture_threshold}) of {model}."
    names = _disqualifying_rule_names(lead.score_breakdown, scoring)
    return f"Disqualified by {model}: {', '.join(names) or 'a disqualifying rule'}."


def _disqualifying_rule_names(breakdown: Any, scoring: selectors.Scoring) -> list[str]:
    ids = {rule.id for rule in scoring.rule_specs if rule.params.get("effect") == rules.EFFECT_DISQUALIFY}
    items = breakdown if isinstance(breakdown, list) else []
    return [str(item.get("name")) for item in items if isinstance(item, Mapping) and item.get("rule_id") in ids]
