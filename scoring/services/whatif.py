"""What-if preview: what a rule or model change would do to the leads, before it is saved.

The leads are scored in batches exactly as bulk rescoring scores them (``lead_scoring.score_rows``:
the pure evaluator and the thresholds), nothing saved, so the numbers are what a rescore right after
saving does: how many leads enter and leave MQL, and the score distribution before (the stored
scores) and after. Erased leads are left out, as rescoring leaves them alone.

Scoring every lead takes about as long as a rescore, too long for a page at a million leads; above
`EXACT_UP_TO` leads the preview scores a systematic sample (every n-th id) and scales the counts up,
and the page says they are estimates.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import F

from leads.models import Lead, Stage
from scoring import selectors, thresholds
from scoring.models import ScoringModel, ScoringRule
from scoring.services.lead_scoring import score_rows
from scoring.services.rescoring import DEFAULT_BATCH_SIZE, id_batches

EXACT_UP_TO = 50_000  # leads scored one by one in a preview; above this, a sample
BUCKET_WIDTH = 10  # score histogram buckets: below 0, 0 to 9, 10 to 19, …


@dataclass(frozen=True)
class HistogramBucket:
    low: int  # the bucket holds scores low … low + BUCKET_WIDTH - 1; the lowest holds every negative score
    before: int
    after: int

    @property
    def label(self) -> str:
        return "below 0" if self.low < 0 else f"{self.low} to {self.low + BUCKET_WIDTH - 1}"


@dataclass(frozen=True)
class WhatIf:
    """The effect of scoring the current leads with a changed model."""

    is_active_model: bool
    lead_count: int
    sample_every: int  # 1: every lead was scored; n: every n-th lead, counts multiplied by n
    entering_mql: int
    leaving_mql: int
    held_missing_fields: int
    to_nurture: int
    disqualified: int
    histogram: tuple[HistogramBucket, ...]

    @property
    def is_estimate(self) -> bool:
        return self.sample_every > 1

    @property
    def largest_bucket(self) -> int:
        return max((max(b.before, b.after) for b in self.histogram), default=0)


def preview_rule_change(*, rule: ScoringRule, now: datetime) -> WhatIf:
    """Score the rule's model with `rule` (unsaved; new or changed) in place of its saved version."""
    model = rule.scoring_model
    others = [saved for saved in model.rules.all() if saved.pk != rule.pk] if model.pk else []
    return preview_scoring(model=model, rule_rows=[*others, rule], now=now)


def preview_model_change(*, model: ScoringModel, now: datetime) -> WhatIf:
    """Score the leads with `model`'s unsaved settings and its saved rules."""
    return preview_scoring(model=model, rule_rows=list(model.rules.all()) if model.pk else [], now=now)


def preview_scoring(*, model: ScoringModel, rule_rows: Iterable[ScoringRule], now: datetime) -> WhatIf:
    """The what-if numbers for `model` with `rule_rows`, as if it were the active model."""
    scoring = selectors.scoring_for(model=model, rule_rows=rule_rows)
    leads = Lead.objects.filter(erased_at__isnull=True)
    lead_count = leads.count()
    every = max(1, math.ceil(lead_count / EXACT_UP_TO))
    sample = leads if every == 1 else leads.alias(sample=F("id") % every).filter(sample=0)
    to_stage: Counter[str] = Counter()
    before: Counter[int] = Counter()
    after: Counter[int] = Counter()
    leaving_mql = 0
    for low, high in id_batches(sample, after_id=0, batch_size=DEFAULT_BATCH_SIZE * every):
        for lead in score_rows(sample.filter(id__gte=low, id__lt=high), scoring=scoring, now=now):
            to_stage[lead.target] += every
            before[_bucket(lead.score_before)] += every
            after[_bucket(lead.score)] += every
            if lead.stage == Stage.MQL and lead.target in (Stage.NURTURE, Stage.DISQUALIFIED):
                leaving_mql += every
    buckets = sorted(set(before) | set(after))
    return WhatIf(
        is_active_model=bool(model.is_active),
        lead_count=lead_count,
        sample_every=every,
        entering_mql=to_stage[Stage.MQL],
        leaving_mql=leaving_mql,
        held_missing_fields=to_stage[thresholds.HELD],
        to_nurture=to_stage[Stage.NURTURE],
        disqualified=to_stage[Stage.DISQUALIFIED],
        histogram=tuple(HistogramBucket(low, before[low], after[low]) for low in buckets),
    )


def _bucket(score: int) -> int:
    """The histogram bucket of a score: its lower bound, or -BUCKET_WIDTH for every negative score."""
    return -BUCKET_WIDTH if score < 0 else score // BUCKET_WIDTH * BUCKET_WIDTH
