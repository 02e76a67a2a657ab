"""Reads for scoring: the active model as plain specs, a lead's facts, and the lists admin shows."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property, lru_cache

from django.db.models import QuerySet

from leads.enrichment.domains import classify_email_domain
from leads.models import Activity, Lead, Stage
from leads.normalise import email_domain
from scoring import baseline, rules
from scoring.models import LeadMissingMqlFields, RescoreJob, RescoreStatus, ScoringModel, ScoringRule

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Scoring:
    """A scoring model and its active, valid rules, as plain data for the evaluator."""

    model_id: int | None
    name: str
    spec: rules.ScoringModelSpec
    rule_specs: tuple[rules.RuleSpec, ...]
    baseline_fields: tuple[str, ...]

    @property
    def lookback_days(self) -> int:
        """How many days of activities the rules read."""
        return max((rules.RULE_KINDS[rule.kind].lookback_days(rule.params) for rule in self.rule_specs), default=0)

    @cached_property
    def rule_set(self) -> rules.RuleSet:
        """The rules checked once, for scoring any number of leads with ``rules.score``."""
        return rules.RuleSet(self.rule_specs)


def active_scoring() -> Scoring | None:
    """The active model with its rules, or None when no model is active."""
    model = ScoringModel.objects.filter(is_active=True).first()
    if model is None:
        return None
    return scoring_for(model=model, rule_rows=model.rules.filter(is_active=True).order_by("order", "id"))


def scoring_for(*, model: ScoringModel, rule_rows: Iterable[ScoringRule]) -> Scoring:
    """A model (saved or not) with the given rules; inactive and invalid rules are left out.

    A rule can only be saved valid, but a kind's parameters may change in code later; a rule that no
    longer validates is skipped (and logged) rather than stopping every lead from being scored.
    """
    specs = []
    for rule in sorted((r for r in rule_rows if r.is_active), key=lambda r: (r.order, r.pk or 0)):
        spec = rule.to_spec()
        errors = rules.validate_rule(spec)
        if errors:
            logger.error("Scoring rule %s (%r) is skipped: %s", rule.pk, rule.name, errors)
            continue
        specs.append(spec)
    return Scoring(
        model_id=model.pk,
        name=model.name,
        spec=model.to_spec(),
        rule_specs=tuple(specs),
        baseline_fields=baseline.required(model.baseline_fields or ()),
    )


def lead_facts(lead: Lead) -> rules.LeadFacts:
    """What the rules may look at, from the lead alone (no query).

    Source and channel are those of the lead's first meaningful touch, as attribution credited them
    (``Lead.first_touch_source``/``first_touch_channel``): the "true source" reports and routing use.
    """
    domain = email_domain(lead.email)
    # Enrichment stores the kind; until it has run, classify the address the same way it would.
    domain_kind = lead.email_domain_kind or (_domain_kind(domain) if domain else "")
    return rules.LeadFacts(
        email_domain=domain,
        domain_kind=domain_kind,
        company_domain=lead.company_domain,
        industry=lead.industry,
        country=lead.country,
        employee_count=lead.employee_count,
        seniority=lead.seniority,
        job_function=lead.job_function,
        job_title=lead.job_title,
        size_band=lead.size_band,
        source=lead.first_touch_source,
        channel=lead.first_touch_channel,
        attributes=lead.custom_answers if isinstance(lead.custom_answers, dict) else {},
    )


@lru_cache(maxsize=10_000)
def _domain_kind(domain: str) -> str:
    # The classifier's lists are fixed for the life of the process, and bulk rescoring meets the same
    # few thousand domains over and over.
    return str(classify_email_domain(domain).kind)


def activity_facts(*, lead_id: int, lookback_days: int, now: datetime) -> list[rules.ActivityFact]:
    """The lead's activities of the last `lookback_days`, oldest first."""
    return _facts_by_lead(Activity.objects.filter(lead_id=lead_id), lookback_days=lookback_days, now=now)[lead_id]


def activity_facts_by_lead(
    *, leads: QuerySet[Lead], lookback_days: int, now: datetime
) -> defaultdict[int, list[rules.ActivityFact]]:
    """`activity_facts` of many leads in one query: lead id → its activities (none: an empty list)."""
    activities = Activity.objects.filter(lead__in=leads.values("pk"))
    return _facts_by_lead(activities, lookback_days=lookback_days, now=now)


def _facts_by_lead(
    activities: QuerySet[Activity], *, lookback_days: int, now: datetime
) -> defaultdict[int, list[rules.ActivityFact]]:
    by_lead: defaultdict[int, list[rules.ActivityFact]] = defaultdict(list)
    if lookback_days <= 0:
        return by_lead
    rows = (
        activities.filter(occurred_at__gte=now - timedelta(days=lookback_days), occurred_at__lte=now)
        .order_by("lead_id", "occurred_at", "id")
        .values_list("lead_id", "kind", "occurred_at")
    )
    for lead_id, kind, occurred_at in rows:
        by_lead[lead_id].append(rules.ActivityFact(kind=kind, occurred_at=occurred_at))
    return by_lead


def leads_missing_mql_fields() -> QuerySet[LeadMissingMqlFields]:
    """Unassigned leads whose score reached the active model's MQL threshold but that lack a baseline field.

    Derived, not stored: it needs no Lead column and empties itself as marketing completes the fields.
    Disqualified leads never become MQLs, so they are not listed.
    """
    model = ScoringModel.objects.filter(is_active=True).first()
    if model is None:
        return LeadMissingMqlFields.objects.none()
    return LeadMissingMqlFields.objects.filter(
        baseline.missing_q(baseline.required(model.baseline_fields or ())),
        score__gte=model.mql_threshold,
        stage__in=(Stage.NEW, Stage.NURTURE),
        owner__isnull=True,
        nurture_ends_at__isnull=True,  # a recycled lead waits for its rep's date, not for marketing
    )


def unfinished_jobs() -> QuerySet[RescoreJob]:
    return RescoreJob.objects.filter(status__in=(RescoreStatus.QUEUED, RescoreStatus.RUNNING))
