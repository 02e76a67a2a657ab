"""Scoring leads with the active model: one lead (a pipeline step, a new activity) or a batch of them.

Every way of scoring runs the same code: `score_rows` reads the columns scoring needs for the leads
(named rows, not models: a model instance costs more to build than scoring it), their recent
activities in one query, and scores each with ``rules.score`` and the thresholds; `rescore_leads`
then writes the scores that changed in one statement (marking the days of older leads for the
rule-effectiveness rollups, ``scoring.effectiveness_rollups``) and moves the leads that crossed a threshold
through the stage service. `score_lead` is that for one lead; bulk rescoring
(``scoring.services.rescoring``) for a few thousand at a time; the what-if preview
(``scoring.services.whatif``) calls `score_rows` and writes nothing.
"""

from __future__ import annotations

import gc
import json
import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import astuple, dataclass
from datetime import datetime
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet, TextField
from django.db.models.functions import Cast

from core.batch import once_per_batch
from leads import events
from leads import services as lead_services
from leads.models import Lead, Stage, usable_consent_q
from scoring import baseline, effectiveness_rollups, rules, selectors, thresholds

logger = logging.getLogger(__name__)

SCORE_FIELDS = ["score", "fit_score", "engagement_score", "score_breakdown", "scored_at"]
# What scoring reads of a lead: the facts the rules see (selectors.lead_facts), the baseline fields,
# where the lead stands (the thresholds) and its stored score (see `score_rows` for the rest).
LEAD_COLUMNS = (
    "id",
    "email",
    "email_domain_kind",
    "company_domain",
    "industry",
    "country",
    "employee_count",
    "seniority",
    "job_function",
    "job_title",
    "size_band",
    "first_touch_source",
    "first_touch_channel",
    "custom_answers",
    "first_name",
    "last_name",
    "company_name",
    "phone",
    "stage",
    "owner_id",
    "nurture_ends_at",
    "score",
    "fit_score",
    "engagement_score",
    "scored_at",
    "created_at",
)


class Rescored(NamedTuple):
    """One lead scored in memory: the score it had, the one it gets, and where the thresholds send it."""

    lead_id: int
    stage: str
    owner_id: int | None
    scored_at: datetime | None  # as read: a score is written back only over the one it replaces
    created_at: datetime  # the day the rule-effectiveness rollups count the lead on
    score_before: int
    score: int
    fit_score: int
    engagement_score: int
    score_breakdown: list[dict[str, Any]]
    changed: bool  # the score or its reasons differ from the stored ones, or the lead was never scored
    target: str  # thresholds.target_stage: a stage, thresholds.HELD, or "" for no change

    @property
    def moves(self) -> bool:
        return self.target not in ("", thresholds.HELD)


@dataclass(frozen=True)
class RescoreResult:
    scored: int = 0  # leads evaluated
    changed: int = 0  # of those, leads whose score or breakdown changed (the rows written)
    to_mql: int = 0
    to_nurture: int = 0
    disqualified: int = 0

    def __add__(self, other: RescoreResult) -> RescoreResult:
        return RescoreResult(*(mine + theirs for mine, theirs in zip(astuple(self), astuple(other), strict=True)))


def score_lead(*, lead_id: int, now: datetime, occasion: str = "") -> Lead:
    """Score the lead with the active model, store the result and its reasons, then apply the thresholds.

    The pipeline step (``scoring.services.score_lead``) and the rescore after a new activity.
    Idempotent: run twice with the same data and `now`, it stores the same score and moves the
    stage at most once. Without an active model, or once its personal data is erased, the lead is left
    as it is. ``occasion`` (why the lead is scored now, e.g. "Recycle date reached.") starts the reason
    of a stage change it causes.
    """
    score_leads(lead_ids=[lead_id], now=now, occasion=occasion)
    return Lead.objects.get(pk=lead_id)


def score_leads(*, lead_ids: Sequence[int], now: datetime, occasion: str = "") -> RescoreResult:
    """`score_lead` for a batch of leads (the pipeline's step 2): the same few queries whatever their number."""
    scoring = once_per_batch(selectors.active_scoring)
    if scoring is None or not lead_ids:
        return RescoreResult()
    return rescore_leads(Lead.objects.filter(pk__in=lead_ids), scoring=scoring, now=now, occasion=occasion)


def rescore_leads(
    leads: QuerySet[Lead],
    *,
    scoring: selectors.Scoring,
    now: datetime,
    as_of: datetime | None = None,
    occasion: str = "",
) -> RescoreResult:
    """Score `leads` (a few thousand at most), store the scores that changed, and move those that crossed a threshold.

    Scores are computed for `as_of` (default `now`: a job spread over several tasks scores every batch
    for the instant it started); stage changes are recorded at `now`. An erased lead keeps the score it
    had: its blanked data would only score lower, for no one's use. Only changed rows are written, and
    they alone get a new ``scored_at`` (when the score last changed): rewriting an unchanged row costs
    the most on PostgreSQL, and most rows do not change in a decay pass.

    Another writer may change a lead between the read and the writes (the pipeline scores, routes and
    assigns a lead while a decay pass holds its stale row): a score is written only where ``scored_at`` is
    still what was read, and a stage moves only where the score written here, the stage and the owner are
    still what scoring decided on (the rows re-read under lock), so a stale result never lands on a lead
    someone else moved on.
    """
    as_of = as_of or now
    with transaction.atomic():
        scored = score_rows(leads.filter(erased_at__isnull=True), scoring=scoring, now=as_of)
        changed = [lead for lead in scored if lead.changed]
        _save_scores(changed, scored_at=as_of)
        effectiveness_rollups.mark_days_changed(created=[lead.created_at for lead in changed], now=now)
        moving = [lead for lead in scored if lead.moves]
        # The stage service takes models; few leads move, so only they are loaded as models.
        current = Lead.objects.select_for_update().only(
            "id", "stage", "score", "score_breakdown", "owner_id", "scored_at", "created_at"
        )
        models = current.in_bulk([lead.lead_id for lead in moving])
        moved = Counter(
            lead.target
            for lead in moving
            if _unchanged_since_read(models.get(lead.lead_id), lead, scored_at=as_of)
            and move_stage(lead=models[lead.lead_id], to_stage=lead.target, scoring=scoring, now=now, occasion=occasion)
        )
    return RescoreResult(len(scored), len(changed), moved[Stage.MQL], moved[Stage.NURTURE], moved[Stage.DISQUALIFIED])


def _unchanged_since_read(model: Lead | None, lead: Rescored, *, scored_at: datetime) -> bool:
    """Whether the lead is as scoring saw it: not deleted, the same stage and owner, and its score this run's."""
    if model is None:
        return False
    expected_scored_at = scored_at if lead.changed else lead.scored_at
    unchanged = (model.stage, model.owner_id, model.scored_at) == (lead.stage, lead.owner_id, expected_scored_at)
    if not unchanged:
        logger.info("Lead %s was not moved to %s: it changed since it was scored", lead.lead_id, lead.target)
    return unchanged


def score_rows(leads: QuerySet[Lead], *, scoring: selectors.Scoring, now: datetime) -> list[Rescored]:
    """Score `leads` in memory, saving nothing: two queries, whatever their number.

    Besides `LEAD_COLUMNS` each row says whether the lead has a usable consent (for the baseline),
    whether it was ever scored, and carries the stored breakdown as text: reading it as JSON costs
    more than a tenth of scoring the lead, and it is decoded only when the points are unchanged.
    """
    rows = leads.annotate(
        # Named as Lead's property, so that the baseline reads the row as it reads a lead.
        has_usable_consent=ExpressionWrapper(usable_consent_q(), output_field=BooleanField()),  # type: ignore[no-redef]
        is_scored=ExpressionWrapper(Q(scored_at__isnull=False), output_field=BooleanField()),
        breakdown_text=Cast("score_breakdown", output_field=TextField()),
    ).order_by("id")
    with _cycle_collector_paused():
        batch = list(rows.values_list(*LEAD_COLUMNS, "has_usable_consent", "is_scored", "breakdown_text", named=True))
        activities = selectors.activity_facts_by_lead(leads=leads, lookback_days=scoring.lookback_days, now=now)
        return [_score(row, activities[row.id], scoring=scoring, now=now) for row in batch]


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Run the block without Python's cycle collector, then restore it.

    A batch allocates a few hundred short-lived objects a lead (rows, facts, outcomes), none of them in
    a cycle; the collector, set off by so many allocations, walks every object of the process again
    and again, a quarter of the time of a batch (bench/rescore_bench.py). What a batch leaves in cycles
    is collected once the collector is back.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _score(
    lead: Any, activities: Sequence[rules.ActivityFact], *, scoring: selectors.Scoring, now: datetime
) -> Rescored:
    """Score one lead: `lead` is a row of `LEAD_COLUMNS`, read like a Lead by the facts and the baseline."""
    result = rules.score(selectors.lead_facts(lead), activities, scoring.rule_set, scoring.spec, now)
    breakdown = breakdown_json(result.breakdown)
    changed = (
        not lead.is_scored
        or (lead.score, lead.fit_score, lead.engagement_score) != (result.total, result.fit, result.engagement)
        or json.loads(lead.breakdown_text) != breakdown
    )
    target = thresholds.target_stage(
        stage=lead.stage,
        is_owned=lead.owner_id is not None,
        is_parked=thresholds.is_parked(nurture_ends_at=lead.nurture_ends_at, now=now),
        total=result.total,
        is_disqualified=result.disqualified,
        has_baseline=lambda: not baseline.missing_fields(lead, scoring.baseline_fields),
        spec=scoring.spec,
    )
    return Rescored(
        lead_id=lead.id,
        stage=lead.stage,
        owner_id=lead.owner_id,
        scored_at=lead.scored_at,
        created_at=lead.created_at,
        score_before=lead.score,
        score=result.total,
        fit_score=result.fit,
        engagement_score=result.engagement,
        score_breakdown=breakdown,
        changed=changed,
        target=target,
    )


def _save_scores(leads: list[Rescored], *, scored_at: datetime) -> None:
    """Write the score fields of `leads`, each only if its ``scored_at`` is still the one read.

    One UPDATE statement for the leads scored before and one for those never scored, each run for every
    lead with executemany. Not ``bulk_update``: it builds and compiles a CASE branch per lead and field in
    Python, some 2 ms a lead, more than scoring the lead costs.
    """
    quote = connection.ops.quote_name
    columns = ", ".join(f"{quote(name)} = %s" for name in SCORE_FIELDS)  # each column is named as its field
    update = f"UPDATE {quote(Lead._meta.db_table)} SET {columns} WHERE {quote('id')} = %s AND {quote('scored_at')}"
    breakdown = Lead._meta.get_field("score_breakdown")
    prep_time = Lead._meta.get_field("scored_at").get_db_prep_save
    when = prep_time(scored_at, connection)
    rows = [
        (
            lead.score,
            lead.fit_score,
            lead.engagement_score,
            breakdown.get_db_prep_save(lead.score_breakdown, connection),
            when,
            lead.lead_id,
        )
        for lead in leads
    ]
    scored_before = [(*row, prep_time(lead.scored_at, connection)) for row, lead in zip(rows, leads, strict=True)
                     if lead.scored_at is not None]  # fmt: skip
    never_scored = [row for row, lead in zip(rows, leads, strict=True) if lead.scored_at is None]
    with connection.cursor() as cursor:  # the values in SCORE_FIELDS order, the id, then the scored_at read
        if scored_before:
            cursor.executemany(f"{update} = %s", scored_before)
        if never_scored:
            cursor.executemany(f"{update} IS NULL", never_scored)


def breakdown_json(outcomes: Iterable[rules.RuleOutcome]) -> list[dict[str, Any]]:
    """The breakdown as stored on the lead (``Lead.score_breakdown``)."""
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
    if to_stage == Stage.NURTURE:
        # The nurture app (if installed) enrolls the lead in the default below-threshold track, after commit.
        events.request_nurture(lead_id=lead.pk, source=events.NURTURE_BELOW_THRESHOLD, reason=reason)
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
