"""Routing: where a lead sales do not have yet goes (a team, a rep pool, or a nurture track), and why.

The matching is pure (``handoff.routing``); this module loads the active rules (once per pipeline batch),
builds the lead's facts, stores the decision with its reasons (``RoutingDecision``) and, when the
destination is a nurture track, asks for the lead to be enrolled there (``leads.events.request_nurture``).
The decision is authoritative: the assignment step hands an MQL to sales only when routing sent it to a
team or pool (or to nothing in particular: the default team), never when it sent it to a nurture track.

Routing decides again every time the pipeline runs for a lead nobody owns (its score, stage or
firmographics changed), so a lead that warms up or is re-enriched is re-routed; once a rep owns it, the
decision stands as it was when sales took it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import BooleanField, Case, Exists, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce

from core.batch import once_per_batch
from core.bulk import update_each
from handoff import routing
from handoff.models import RoutingDecision, RoutingDestination, RoutingRule
from leads import events
from leads.models import Consent, ConsentStatus, Lead, Stage
from leads.services import mark_leads_routed, mark_routed

# Stages routing decides for: marketing's. Sales' outcomes (sql, rejected) and disqualified leads keep
# the last decision as it was.
ROUTED_STAGES = (Stage.NEW, Stage.NURTURE, Stage.MQL)
CONDITION_FIELDS = (
    "size_bands", "industries", "countries", "seniorities", "job_functions", "sources",
    "employee_min", "employee_max", "score_min", "score_max",
)  # fmt: skip


@dataclass(frozen=True)
class Decision:
    """What routing decided for one lead, before it is stored."""

    rule: RoutingRule
    reasons: dict[str, Any]


def conditions_of(rule: RoutingRule) -> routing.RoutingConditions:
    return routing.RoutingConditions.build(**{name: getattr(rule, name) for name in CONDITION_FIELDS})


def facts_of(lead: Lead) -> routing.RoutingFacts:
    return routing.RoutingFacts(
        size_band=lead.size_band, employee_count=lead.employee_count, industry=lead.industry, country=lead.country,
        seniority=lead.seniority, job_function=lead.job_function, score=lead.score, source=lead.first_touch_source,
    )  # fmt: skip


def active_rules() -> list[RoutingRule]:
    """The active rules in the order they are tried: by order, the default rule last."""
    rules = RoutingRule.objects.filter(is_active=True).select_related("team", "pool__team")
    return list(rules.order_by("is_default", "order", "id"))


def decide(lead: Lead, rules: list[RoutingRule]) -> Decision | None:
    """The first matching rule among ``rules`` (else the default rule) with the reasons; None without any rule."""
    by_id = {rule.pk: rule for rule in rules}
    match = routing.first_match(
        [(rule.pk, conditions_of(rule)) for rule in rules if not rule.is_default], facts_of(lead)
    )
    passed_over = [{"rule": by_id[row.rule_id].name, "failed": row.failed.detail} for row in match.passed_over]
    if match.rule_id is not None:
        rule = by_id[match.rule_id]
        held = [check.detail for check in match.held]
        why = f"Rule “{rule.name}” matched: {'; '.join(held)}." if held else f"Rule “{rule.name}” has no conditions."
    else:
        rule_or_none = next((rule for rule in rules if rule.is_default), None)
        if rule_or_none is None:
            return None
        rule, held = rule_or_none, []
        why = f"No other rule matched; the default rule “{rule.name}” applies."
    reasons = {
        "rule": rule.name,
        "rule_id": rule.pk,
        "is_default": rule.is_default,
        "held": held,
        "passed_over": passed_over,
        "destination": _destination_words(rule),
        "summary": why,
    }
    return Decision(rule=rule, reasons=reasons)


def route_lead(*, lead_id: int, now: datetime, send_to_nurture: bool = True) -> RoutingDecision | None:
    """Decide where the lead goes and store it with its reasons; returns the lead's decision (None: never routed).

    A lead sales own, or whose stage is sales' or disqualified, or that a rep recycled until a date still to
    come, keeps the decision it has. A lead whose destination becomes a nurture track (or another track) is sent
    there once, after commit; deciding the same again sends nothing more, unless its stage changed since (becoming
    an MQL ended its enrollment) or its consent came back (a withdrawal ended it). Safe to run again: it rewrites
    the same decision. Without ``send_to_nurture`` the caller asks for the enrollment itself
    (``route_back_to_nurture``).
    """
    lead = Lead.objects.filter(pk=lead_id).first()
    if lead is None:
        return None
    previous = _previous_decisions().filter(lead_id=lead_id).first()
    decided = _decide_for(lead, previous, now=now)
    if decided is None:
        return previous
    stored, decision = decided
    with transaction.atomic():
        stored, _ = RoutingDecision.objects.update_or_create(lead_id=lead_id, defaults=_values_of(stored))
        mark_routed(lead_id=lead_id, now=now)
    if send_to_nurture:
        _send_to_nurture(stored, previous, decision, lead=lead)
    return stored


def route_back_to_nurture(*, lead_id: int, now: datetime, reason: str) -> RoutingDecision | None:
    """Route a recycled lead whose date came without it being an MQL again, and ask for it to be enrolled (after
    commit) in the track routing gives it, or the default nurture track when routing gives none, as a new lead in
    nurture would be. Asked whatever routing decided before: the rep's recycle enrollment ends on that date.
    """
    decision = route_lead(lead_id=lead_id, now=now, send_to_nurture=False)
    if decision is not None and decision.destination == RoutingDestination.NURTURE and decision.nurture_track:
        why = f"{reason} {decision.reasons.get('summary', '')}".strip()
        events.request_nurture(
            lead_id=lead_id, source=events.NURTURE_FROM_ROUTING, track=decision.nurture_track, reason=why
        )
    else:
        events.request_nurture(lead_id=lead_id, source=events.NURTURE_BELOW_THRESHOLD, reason=reason)
    return decision


def route_leads(*, leads: Iterable[Lead], now: datetime) -> list[int]:
    """``route_lead`` for a batch of leads read in full: the decisions stored with one ``INSERT`` for new ones and
    one ``UPDATE`` for the others, the leads marked routed with one more. Returns the ids of the leads routed."""
    leads = list(leads)
    previous = {decision.lead_id: decision for decision in _previous_decisions().filter(lead__in=leads)}
    decided = []
    for lead in leads:
        outcome = _decide_for(lead, previous.get(lead.pk), now=now)
        if outcome is not None:
            decided.append(outcome)
    if not decided:
        return []
    with transaction.atomic():
        RoutingDecision.objects.bulk_create([stored for stored, _ in decided if stored.pk not in previous])
        update_each([stored for stored, _ in decided if stored.pk in previous], _STORED)
        mark_leads_routed(lead_ids=[stored.pk for stored, _ in decided], now=now)
        for stored, decision in decided:
            _send_to_nurture(stored, previous.get(stored.pk), decision, lead=stored.lead)
    return [stored.pk for stored, _ in decided]


# The columns a decision stores (its lead is its key).
_STORED = ["rule", "rule_name", "destination", "team", "pool", "nurture_track", "reasons", "decided_at"]


def _decide_for(
    lead: Lead, previous: RoutingDecision | None, *, now: datetime
) -> tuple[RoutingDecision, Decision] | None:
    """The decision to store for ``lead`` (unsaved), or None when it keeps ``previous`` (or no rule exists)."""
    if lead.owner_id is not None or lead.stage not in ROUTED_STAGES:
        return None
    if lead.nurture_ends_at is not None and lead.nurture_ends_at > now:
        return None  # a rep recycled it until a date: their decision stands until then
    decision = decide(lead, once_per_batch(active_rules))
    if decision is None:
        return None
    rule = decision.rule
    team = rule.pool.team if rule.destination == RoutingDestination.POOL and rule.pool else rule.team
    stored = RoutingDecision(
        lead=lead, rule=rule, rule_name=rule.name, destination=rule.destination,
        team=team if rule.destination != RoutingDestination.NURTURE else None,
        pool=rule.pool if rule.destination == RoutingDestination.POOL else None,
        nurture_track=rule.nurture_track if rule.destination == RoutingDestination.NURTURE else "",
        reasons=decision.reasons, decided_at=now,
    )  # fmt: skip
    return stored, decision


def _values_of(stored: RoutingDecision) -> dict[str, Any]:
    return {name: getattr(stored, name) for name in _STORED}


def _send_to_nurture(
    stored: RoutingDecision, previous: RoutingDecision | None, decision: Decision, *, lead: Lead
) -> None:
    """Ask for the lead to be enrolled in its track (after commit), unless it was routed there already and neither its
    stage changed nor its consent came back since: becoming an MQL or withdrawing consent ends an enrollment, so a
    lead routed there again after it is asked again (the nurture app keeps an enrollment still active, and resumes
    an ended one after the emails it had)."""
    if stored.destination == RoutingDestination.NURTURE and not _already_in(previous, stored.nurture_track, lead=lead):
        events.request_nurture(
            lead_id=stored.pk,
            source=events.NURTURE_FROM_ROUTING,
            track=stored.nurture_track,
            reason=decision.reasons["summary"],
        )


def _already_in(previous: RoutingDecision | None, track: str, *, lead: Lead) -> bool:
    return (
        previous is not None
        and previous.destination == RoutingDestination.NURTURE
        and previous.nurture_track == track
        and lead.stage_changed_at <= previous.decided_at
        and not previous.has_consent_back  # type: ignore[attr-defined]
    )


def _previous_decisions() -> QuerySet[RoutingDecision]:
    """The stored decisions, each with ``has_consent_back``: its lead has a usable consent it lacked at some time
    since the decision (withdrawn after it, or none usable then: a double opt-in still pending). Its enrollment
    ended then (or was sent nothing), so a lead that opted back in is sent to its track again, as after a change of
    stage; another consent given while one is usable changes nothing."""
    decided_at = OuterRef("decided_at")
    consents = Consent.objects.filter(lead_id=OuterRef("lead_id")).annotate(
        usable_from=Coalesce("confirmed_at", "given_at")
    )
    usable = consents.filter(status=ConsentStatus.CONFIRMED)
    usable_since = usable.filter(withdrawn_at__isnull=True, usable_from__gt=decided_at)
    # A withdrawal withdraws every consent of the lead: one usable now was given (or confirmed) after it.
    withdrawn_since = consents.filter(withdrawn_at__gt=decided_at)
    usable_then = usable.filter(
        Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gt=decided_at), usable_from__lte=decided_at
    )
    # A lead with no consent on record then predates consent records: that counted as usable (``usable_consent_q``).
    none_usable_then = Exists(consents.filter(given_at__lte=decided_at)) & ~Exists(usable_then)
    consent_back = Case(
        When(Exists(usable_since) & (Exists(withdrawn_since) | none_usable_then), then=Value(True)),
        default=Value(False),
    )
    # Asked only of a decision for a nurture track (``_already_in``): the subqueries run for those rows alone.
    has_consent_back = Case(
        When(destination=RoutingDestination.NURTURE, then=consent_back),
        default=Value(False),
        output_field=BooleanField(),
    )
    return RoutingDecision.objects.select_related("team", "pool").annotate(has_consent_back=has_consent_back)


def _destination_words(rule: RoutingRule) -> str:
    if rule.destination == RoutingDestination.NURTURE:
        return f"nurture track “{track_name(rule.nurture_track)}”"
    if rule.destination == RoutingDestination.POOL and rule.pool is not None:
        return f"rep pool “{rule.pool.name}” of {rule.pool.team}"
    return f"team {rule.team}" if rule.team is not None else "no team"


def track_name(key: str) -> str:
    """A nurture track's name for people, from the tracks the nurture app registers (the key if unknown)."""
    return dict(events.nurture_track_choices()).get(key, key)


@dataclass(frozen=True)
class RuleTest:
    """The admin's "test this rule on a lead": whether it matches, each condition checked, the first that failed."""

    matches: bool
    checks: list[routing.Check]
    failed: routing.Check | None
    decided_by: str  # which rule routing as a whole would pick for the lead now, and why


def try_rule_on_lead(*, rule: RoutingRule, lead: Lead) -> RuleTest:
    """Check ``rule`` (saved or not) against ``lead`` without storing anything."""
    checks = routing.explain(conditions_of(rule), facts_of(lead))
    failed = next((check for check in checks if not check.held), None)
    whole = decide(lead, active_rules())
    decided_by = whole.reasons["summary"] + f" → {whole.reasons['destination']}" if whole else "No active rule at all."
    return RuleTest(matches=failed is None, checks=checks, failed=failed, decided_by=decided_by)
