"""Why a lead is not an MQL yet, in words a marketer acts on: the points missing and the fields that would give them.

A lead waits below the MQL threshold, or above it under "MQL — missing fields" for a baseline field or a
usable consent. Both are shown on the lead's admin page and in the marketers' lead list (``LeadAdmin``
asks ``why_not_mql``, installed by ``ScoringConfig.ready``: leads imports no higher app). Computed from
what the lead holds and the active model's rules, with no query per lead beyond the model (read once per
batch, see ``core.batch``) and the consents (prefetched by the list).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.batch import once_per_batch
from leads.models import Lead, Stage
from scoring import baseline, rules, selectors

# Stages a lead is still marketing's in: the only ones "not an MQL yet" makes sense for.
_WAITING_STAGES = (Stage.NEW, Stage.NURTURE)


@dataclass(frozen=True)
class UnknownFact:
    """A fit rule that gives nothing because the fact it reads is unknown, and what it could give."""

    field: str
    rule: str
    points: int


@dataclass(frozen=True)
class Hold:
    """What stands between a lead and MQL: points short of the threshold, fields it lacks."""

    points_short: int
    threshold: int
    unknown_facts: tuple[UnknownFact, ...]
    missing_fields: tuple[str, ...]

    def __str__(self) -> str:
        parts = []
        if self.points_short > 0:
            gains = ", ".join(
                f"{rules.field_label(fact.field)} unknown (“{fact.rule}” +{fact.points})" for fact in self.unknown_facts
            )
            parts.append(
                f"{self.points_short} points short of the MQL threshold of {self.threshold}"
                + (f"; could gain: {gains}" if gains else "")
            )
        if self.missing_fields:
            parts.append(f"missing: {', '.join(self.missing_fields)}")
        text = "; ".join(parts)
        return f"{text[:1].upper()}{text[1:]}." if text else ""


def unknown_facts(facts: rules.LeadFacts, rule_specs: tuple[rules.RuleSpec, ...]) -> tuple[UnknownFact, ...]:
    """The fit rules with positive points whose fact is blank for this lead (pure)."""
    found = []
    for rule in rule_specs:
        kind = rules.RULE_KINDS.get(rule.kind)
        field = rule.params.get("field") if isinstance(rule.params, dict) else None
        if not isinstance(kind, rules.FactRuleKind) or rule.dimension != rules.FIT or rule.points <= 0:
            continue
        if isinstance(field, str) and facts.value_of(field) in (None, "", []):
            found.append(UnknownFact(field=field, rule=rule.name, points=rules.apply_cap(rule.points, rule.cap)))
    return tuple(found)


def hold_of(lead: Lead, scoring: selectors.Scoring) -> Hold | None:
    """Why ``lead`` is not an MQL under ``scoring``, or None when nothing holds it (or it is past marketing)."""
    if lead.stage not in _WAITING_STAGES or lead.owner_id is not None:
        return None
    threshold = scoring.spec.mql_threshold
    short = max(threshold - lead.score, 0)
    unknown = unknown_facts(selectors.lead_facts(lead), scoring.rule_specs) if short else ()
    missing = tuple(baseline.missing_fields(lead, scoring.baseline_fields))
    if not short and not missing:
        return None
    return Hold(points_short=short, threshold=threshold, unknown_facts=unknown, missing_fields=missing)


def why_not_mql(lead: Lead) -> str:
    """``hold_of`` in words under the active model ("" when nothing holds the lead or no model is active)."""
    scoring = once_per_batch(selectors.active_scoring)
    if scoring is None:
        return ""
    hold = hold_of(lead, scoring)
    return str(hold) if hold is not None else ""
