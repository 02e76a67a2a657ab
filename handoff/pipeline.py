"""The lead pipeline: what happens after a capture commits, in order. Each step is idempotent.

    1. enrich   (leads: providers -> attributes, provenance; retried later when a provider failed)
    2. score    (scoring: pure evaluator -> total/fit/engagement/breakdown, thresholds -> stage)
    3. route    (leads: routing rule -> team or nurture track)
    4. assign   (handoff: weighted round-robin -> owner, SLA due time)

The database, not the task broker, says what is due: a lead whose ``pipeline_due_at`` has passed (a
capture, a new activity, an enrichment retry). Workers claim due leads in batches with a lease
(``claim_due_leads``): a conditional ``UPDATE`` that works on SQLite and PostgreSQL, with ``SKIP LOCKED``
where the database has it, so several worker processes share the work. A task lost by the broker only
delays a lead until the periodic run; a worker that dies leaves a lease that runs out, and the next
claim takes its batch over. Nothing is given up because time passed.

Each lead ends ``assigned`` or ``parked`` with the reason (below the threshold, in a nurture track, no
usable consent, nobody available...), recorded with the time, so a lead's page and readiness can say
where every lead stands.
"""

from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Case, Count, DateTimeField, F, Min, Q, QuerySet, Value, When

from core.batch import batch_scope, once_per_batch
from core.health import BacklogState
from handoff.services import assignment
from leads import services as lead_services
from leads.enrichment import services as enrichment
from leads.models import Lead, PipelineStep, Stage
from scoring import baseline, selectors
from scoring.services import lead_scoring

logger = logging.getLogger(__name__)

BATCH_SIZE = 50
# Longer than a batch can take (a task times out after Q_TIMEOUT, 120 s by default), so two workers
# never hold the same lead while both are alive.
LEASE_DURATION = timedelta(minutes=5)
# A lead whose step raised waits this long before it is tried again (and logged again).
ERROR_RETRY_DELAY = timedelta(minutes=15)
# "Nobody available" is retried by the rotation when someone comes back; check again this often.
UNASSIGNED_RETRY_DELAY = timedelta(minutes=5)


@dataclass(frozen=True)
class Claim:
    token: str
    lead_ids: tuple[int, ...]
    claimed_at: datetime


@dataclass(frozen=True)
class Outcome:
    step: str
    reason: str
    due_at: datetime | None = None  # when the lead has work again (an enrichment retry), else None


def worker_name() -> str:
    """A name for this process's claims: host and pid, so an operator can tell workers apart."""
    return f"{os.uname().nodename}:{os.getpid()}"[:40]


def due_leads(*, now: datetime) -> QuerySet[Lead]:
    """Leads with pipeline work due and no live lease, oldest first."""
    return (
        Lead.objects.filter(pipeline_due_at__lte=now)
        .filter(Q(pipeline_lease_until__isnull=True) | Q(pipeline_lease_until__lte=now))
        .order_by("pipeline_due_at", "pk")
    )


def claim_due_leads(*, now: datetime, worker: str, limit: int = BATCH_SIZE, lease: timedelta = LEASE_DURATION) -> Claim:
    """Take up to ``limit`` due leads for ``lease``; no other claim gets them until it runs out.

    The ``UPDATE`` repeats the due-and-unleased condition, so of two claims racing for a lead only one
    matches it (SQLite runs write transactions one at a time; PostgreSQL re-checks the row it waited
    for). ``SKIP LOCKED`` lets concurrent PostgreSQL claims pass each other instead of queueing.
    """
    token = f"{worker}:{uuid.uuid4().hex[:12]}"
    with transaction.atomic():
        candidates = due_leads(now=now)
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        ids = list(candidates.values_list("pk", flat=True)[:limit])
        if ids:
            due_leads(now=now).filter(pk__in=ids).update(pipeline_lease_owner=token, pipeline_lease_until=now + lease)
    claimed = Lead.objects.filter(pk__in=ids, pipeline_lease_owner=token).order_by("pipeline_due_at", "pk")
    return Claim(token=token, lead_ids=tuple(claimed.values_list("pk", flat=True)), claimed_at=now)


def process_due_leads(*, now: datetime, worker: str, limit: int = BATCH_SIZE) -> int:
    """Claim one batch of due leads and take each through the pipeline; returns how many were claimed."""
    claim = claim_due_leads(now=now, worker=worker, limit=limit)
    with batch_scope():  # scoring, routing rules and providers are read once for the whole batch
        for lead_id in claim.lead_ids:
            outcome = _run_steps(lead_id=lead_id, now=now)
            _finish(lead_id=lead_id, claim=claim, outcome=outcome, now=now)
    return len(claim.lead_ids)


def process_lead(*, lead_id: int, now: datetime) -> Outcome:
    """Run every step for one lead at once and record where it ended (admin actions, tests, the demo)."""
    outcome = _run_steps(lead_id=lead_id, now=now)
    _record(lead_id=lead_id, outcome=outcome, now=now)
    return outcome


def record_outcomes(*, leads: QuerySet[Lead], now: datetime) -> int:
    """Record where each of ``leads`` stands without running any step (leads the demo walked by hand)."""
    count = 0
    with batch_scope():
        for lead in leads.select_related("owner"):
            _record(lead_id=lead.pk, outcome=_outcome(lead, assigned="not waiting", now=now), now=now)
            count += 1
    return count


def _run_steps(*, lead_id: int, now: datetime) -> Outcome:
    try:
        lead = enrichment.enrich_lead(lead_id=lead_id, now=now)
        lead_scoring.score_lead(lead_id=lead_id, now=now)
        # A lead routed with what was known while a provider was down is routed anew once a retry ran
        # (enrichment touches neither routing nor owner, so the lead it returns still shows both as they were),
        # as long as sales do not have it yet.
        retried = lead.routed_at is not None and lead.enriched_at == now
        lead_services.route_lead(lead_id=lead_id, now=now, again=retried and lead.owner_id is None)
        assigned = assignment.assign_lead_step(lead_id=lead_id, now=now)
        return _outcome(Lead.objects.get(pk=lead_id), assigned=assigned, now=now)
    except Exception as exc:  # one broken lead must not stop the batch for the others
        logger.exception("Pipeline failed for lead %s", lead_id)
        reason = f"Pipeline error ({exc.__class__.__name__}); tried again at {now + ERROR_RETRY_DELAY:%H:%M} UTC."
        return Outcome(PipelineStep.PARKED, reason, now + ERROR_RETRY_DELAY)


def _finish(*, lead_id: int, claim: Claim, outcome: Outcome, now: datetime) -> None:
    """Record the outcome and release the lease, if this claim still holds it.

    Work requested while the lead was being processed (a new activity) moved ``pipeline_due_at`` past
    the claim's time: it is kept, so the lead is taken again.
    """
    requested_meanwhile = When(pipeline_due_at__gt=claim.claimed_at, then=F("pipeline_due_at"))
    next_due = Value(outcome.due_at, output_field=DateTimeField())
    Lead.objects.filter(pk=lead_id, pipeline_lease_owner=claim.token).update(
        **_outcome_fields(outcome, now=now),
        pipeline_due_at=Case(requested_meanwhile, default=next_due, output_field=DateTimeField()),
        pipeline_lease_owner="",
        pipeline_lease_until=None,
    )


def _record(*, lead_id: int, outcome: Outcome, now: datetime) -> None:
    """Record where a lead ended, outside any claim (nothing else holds it)."""
    Lead.objects.filter(pk=lead_id).update(**_outcome_fields(outcome, now=now), pipeline_due_at=outcome.due_at)


def _outcome_fields(outcome: Outcome, *, now: datetime) -> dict[str, object]:
    return {"pipeline_step": outcome.step, "pipeline_step_at": now, "pipeline_reason": outcome.reason[:300]}


def _outcome(lead: Lead, *, assigned: str, now: datetime) -> Outcome:
    """Where the lead ended and why, in words a marketer or manager reads on its page."""
    retry_at = lead.enrichment_retry_at
    enrichment_note = f" Enrichment failed; tried again at {retry_at:%Y-%m-%d %H:%M} UTC." if retry_at else ""
    if lead.owner_id is not None:
        return Outcome(PipelineStep.ASSIGNED, f"Owned by {lead.owner}.{enrichment_note}", retry_at)
    return Outcome(PipelineStep.PARKED, _parked_reason(lead, assigned=assigned, now=now) + enrichment_note, retry_at)


_UNASSIGNED_REASONS = {
    "no team": "An MQL, but no team takes it: it waits in the managers' queue.",
    "nobody available": "An MQL, but its team has nobody available: assigned when someone is.",
    "no consent": "An MQL without a usable consent: not handed to sales.",
}


def _parked_reason(lead: Lead, *, assigned: str, now: datetime) -> str:
    if lead.stage == Stage.MQL:
        return _UNASSIGNED_REASONS.get(assigned, "An MQL waiting for assignment.")
    if lead.stage not in (Stage.NEW, Stage.NURTURE):
        return f"Stage {lead.get_stage_display()}."
    if lead.routing_action == "nurture" and lead.nurture_track:
        where = f"In nurture track “{lead.nurture_track}”"
    else:
        where = "In nurture" if lead.stage == Stage.NURTURE else "Not an MQL yet"
    scoring = once_per_batch(selectors.active_scoring)
    if scoring is None:
        return f"{where}: no scoring model is active."
    if lead.score < scoring.spec.mql_threshold:
        return f"{where}: score {lead.score} is below the MQL threshold of {scoring.spec.mql_threshold}."
    if lead.nurture_ends_at is not None and lead.nurture_ends_at > now:
        return f"{where}: recycled by a rep until {lead.nurture_ends_at:%Y-%m-%d}."
    missing = baseline.missing_fields(lead, scoring.baseline_fields)
    if missing:
        return f"{where}: score {lead.score} reaches the MQL threshold, but it lacks {', '.join(missing)}."
    return f"{where}."


def backlog(*, now: datetime) -> BacklogState:
    """How many leads have pipeline work due now, and since when the oldest waits (for readiness)."""
    row = Lead.objects.filter(pipeline_due_at__lte=now).aggregate(waiting=Count("pk"), oldest=Min("pipeline_due_at"))
    return BacklogState(waiting=row["waiting"], oldest_due_at=row["oldest"])
