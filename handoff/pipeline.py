"""The lead pipeline: what happens after a capture commits, in order. Each step is idempotent.

    1. enrich   (leads: providers -> attributes, provenance; retried later when a provider failed)
    2. score    (scoring: pure evaluator -> total/fit/engagement/breakdown, thresholds -> stage)
    3. route    (handoff: routing rule -> team, rep pool or nurture track, with its reasons)
    4. assign   (handoff: load-aware weighted round-robin -> owner, SLA due time, with its reasons)

The database, not the task broker, says what is due: a lead whose ``pipeline_due_at`` has passed (a
capture, a new activity, an enrichment retry). Workers claim due leads in batches with a lease
(``claim_due_leads``): a conditional ``UPDATE`` that works on SQLite and PostgreSQL, with ``SKIP LOCKED``
where the database has it, so several worker processes share the work. A task lost by the broker only
delays a lead until the periodic run; a worker that dies leaves a lease that runs out, and the next
claim takes its batch over. Nothing is given up because time passed.

A batch is worked set-based where a step allows (``_run_batch``): its leads are read once, the steps
a lead does not need are skipped (enrichment not due, routing for a lead sales own, assignment for a
lead that is no unowned MQL), scoring runs once for the whole batch through the evaluator bulk
rescoring uses, and outcomes are written a statement per distinct outcome. Enrichment, routing and
assignment have batch forms too: providers still run lead by lead, but what they found is written a
statement per kind of row (``enrichment.enrich_leads``); routing decides in memory and stores every
decision with one INSERT and one UPDATE (``route_leads``); the rotation is taken in memory with the
batch's running loads and the assignments, SLA records and notifications are inserted in bulk
(``assignment_batch``). A batch that raises is taken again lead by lead (``_run_steps``), so one
broken lead parks alone.

Each lead ends ``assigned`` or ``parked`` with the reason (below the threshold, in a nurture track, no
usable consent, nobody available...), recorded with the time, so a lead's page and readiness can say
where every lead stands.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, Count, DateTimeField, F, Min, Prefetch, Q, QuerySet, Value, When

from core.batch import batch_scope, once_per_batch
from core.health import BacklogState
from handoff.models import RoutingDecision, RoutingDestination
from handoff.services import assignment, assignment_batch, notifications
from handoff.services import routing as routing_services
from leads.enrichment import services as enrichment
from leads.models import Consent, Lead, PipelineStep, Stage
from scoring import baseline, selectors
from scoring.services import lead_scoring

logger = logging.getLogger(__name__)

# Leads per claim. Every step now writes a batch with a few statements, so a batch has a fixed cost (its
# reads of configuration, its statements, its commits) that a larger batch spreads thinner: 200 drained
# a backlog about 1.5x as fast as 50 (bench/README.md). The longest write transaction (assignment) holds
# SQLite's write lock for well under a second for 200 leads, far inside the 20 s busy timeout captures wait.
BATCH_SIZE = 200
# How long a claim holds its leads. Renewed while the batch runs (``_Lease.keep``, before each enrichment provider),
# so it only has to outlast the longest stretch between two renewals (one provider's call, which ends before the
# deadline ``keep`` gives, whatever the provider's timeout and retries); it is well under the
# readiness limit (HEALTH_PIPELINE_MAX_WAIT, 5 minutes), so a dead worker's batch is taken over before
# readiness would report the pipeline stuck.
LEASE_DURATION = timedelta(minutes=2)
# Providers must have answered this long before the lease ends (``_Lease.keep``): time for the chunk's write after
# them, and for workers whose clocks differ by a few seconds. An HTTP provider cuts its retries to fit.
LEASE_MARGIN = timedelta(seconds=30)
# Leads enriched (their providers called) per write: what the batch found is stored after each such chunk, so a
# worker killed mid-batch (a slow provider, the task's timeout) keeps what it did. Past the task's time budget
# (``settings.PIPELINE_TASK_BUDGET``) the batch starts no further chunk: the leads not reached are released, still
# due and first in line, and the rest of the batch goes on without them.
ENRICH_CHUNK = 20
# A lead whose step raised waits this long before it is tried again (and logged again).
ERROR_RETRY_DELAY = timedelta(minutes=15)
# "Nobody available" is retried by the rotation when someone comes back; check again this often.
UNASSIGNED_RETRY_DELAY = timedelta(minutes=5)

Clock = Callable[[], datetime]


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


class _Lease:
    """Keeps a claim's lease alive while its batch runs: renewed once a third of it has passed.

    Enrichment renews it before each provider and gets the deadline the provider must answer by: no slow provider,
    whatever its timeout and retries, holds a lead past its lease, when another worker may claim it.
    """

    def __init__(self, claim: Claim, clock: Clock, duration: timedelta = LEASE_DURATION) -> None:
        self.claim, self.clock, self.duration, self.renewed_at = claim, clock, duration, claim.claimed_at

    def keep(self) -> datetime:
        """Renew the lease when a third of it has passed; returns when work on the leads must be done by."""
        now = self.clock()
        if now - self.renewed_at >= self.duration / 3:
            Lead.objects.filter(pk__in=self.claim.lead_ids, pipeline_lease_owner=self.claim.token).update(
                pipeline_lease_until=now + self.duration
            )
            self.renewed_at = now
        return self.renewed_at + self.duration - LEASE_MARGIN

    def is_out_of_time(self) -> bool:
        """Whether the batch has run for the task's time budget since its claim."""
        return self.clock() - self.claim.claimed_at >= settings.PIPELINE_TASK_BUDGET


def process_due_leads(*, now: datetime, worker: str, limit: int = BATCH_SIZE, clock: Clock | None = None) -> int:
    """Claim one batch of due leads and take them through the pipeline; returns how many were claimed.

    The steps work at ``now`` (the claim's time: SLA clocks, scores); ``clock`` tells when each lead got
    where it ended (``pipeline_step_at``) and keeps the lease alive. Tasks pass ``timezone.now``; without
    it, ``now`` is used throughout.
    """
    clock = clock or (lambda: now)
    claim = claim_due_leads(now=now, worker=worker, limit=limit)
    if not claim.lead_ids:
        return 0
    lease = _Lease(claim, clock)
    with batch_scope():  # scoring, routing rules and providers are read once for the whole batch
        try:
            outcomes = _run_batch(claim.lead_ids, now=now, lease=lease)
        except Exception:
            # Steps are idempotent: taking the batch again lead by lead redoes nothing already done,
            # and parks only the lead that fails.
            logger.exception("Pipeline batch of %s leads failed; taking them one by one", len(claim.lead_ids))
            outcomes = {}
            for lead_id in claim.lead_ids:
                outcomes[lead_id] = _run_steps(lead_id=lead_id, now=now, lease=lease)
                lease.keep()
        _finish(claim=claim, outcomes=outcomes, now=now, step_at=clock())
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
        for lead in _with_outcome_relations(leads):
            _record(lead_id=lead.pk, outcome=_outcome(lead, assigned="not waiting", now=now), now=now)
            count += 1
    return count


# --- The steps, for a batch ------------------------------------------------------------------------

# What the batch reads before its steps: whether enrichment is due (``is_enrichment_due``; never for an erased lead).
_STEP_COLUMNS = ("id", "enrichment_status", "enrichment_retry_at", "erased_at")


def _run_batch(lead_ids: Iterable[int], *, now: datetime, lease: _Lease) -> dict[int, Outcome]:
    """Every step for a batch: the leads read once, each step run only for the leads that need it."""
    # In the claim's order (the longest waiting first), which is the order enrichment reaches them in.
    before = list(Lead.objects.filter(pk__in=lead_ids).only(*_STEP_COLUMNS).order_by("pipeline_due_at", "pk"))
    due = [lead.pk for lead in before if enrichment.is_enrichment_due(lead, now=now)]
    not_reached = set(due)
    for start in range(0, len(due), ENRICH_CHUNK):
        if start and lease.is_out_of_time():
            break
        chunk = due[start : start + ENRICH_CHUNK]
        enrichment.enrich_leads(lead_ids=chunk, now=now, hold=lease)
        not_reached.difference_update(chunk)
    before = [lead for lead in before if lead.pk not in not_reached]
    lead_ids = [lead.pk for lead in before]
    lead_scoring.score_leads(lead_ids=lead_ids, now=now)
    # Routing decides for leads sales do not have (it reads their new score); it returns at once for
    # the others, so they are not even read again.
    routing_services.route_leads(leads=_routed_by_routing(lead.pk for lead in before), now=now)
    lease.keep()
    leads = list(_with_outcome_relations(Lead.objects.filter(pk__in=lead_ids)))
    assigned = _assign_waiting(leads, now=now)
    return {lead.pk: _outcome(lead, assigned=assigned.get(lead.pk, "not waiting"), now=now) for lead in leads}


def _routed_by_routing(lead_ids: Iterable[int]) -> QuerySet[Lead]:
    """Of ``lead_ids``, the leads routing decides for now (unowned, in a marketing stage), after scoring."""
    unowned = Lead.objects.filter(pk__in=list(lead_ids), owner__isnull=True, stage__in=routing_services.ROUTED_STAGES)
    return unowned.order_by("pk")


def _assign_waiting(leads: list[Lead], *, now: datetime) -> dict[int, str]:
    """Step 4 for the unowned MQLs of the batch, set-based (``assignment_batch``); sets the owners on ``leads``."""
    waiting = [lead for lead in leads if lead.stage == Stage.MQL and lead.owner_id is None]
    if not waiting:
        return {}
    with notifications.batched_deliveries():  # one email task for the batch, after its commit
        results = assignment_batch.assign_batch(leads=waiting, now=now)
    # A lead someone assigned between the batch's read and its lock (a manager in the queue) is not waiting
    # any more: its owner is read again, so its outcome says assigned, not parked.
    taken = {lead.pk: lead for lead in waiting if results.get(lead.pk) == "not waiting"}
    for lead_id, owner_id in Lead.objects.filter(pk__in=list(taken)).values_list("pk", "owner_id"):
        taken[lead_id].owner_id = owner_id
    return results


def _with_outcome_relations(leads: QuerySet[Lead]) -> QuerySet[Lead]:
    """``leads`` with what an outcome reads: the owner, the routing decision and the consents, in two queries."""
    return leads.select_related("owner", "routing_decision").prefetch_related(
        Prefetch("consents", queryset=Consent.objects.order_by("pk"))
    )


# --- One lead at a time (process_lead, and a batch that raised) -------------------------------------


def _run_steps(*, lead_id: int, now: datetime, lease: _Lease | None = None) -> Outcome:
    try:
        enrichment.enrich_lead(lead_id=lead_id, now=now, hold=lease)
        lead_scoring.score_lead(lead_id=lead_id, now=now)
        routing_services.route_lead(lead_id=lead_id, now=now)
        assigned = assignment.assign_lead_step(lead_id=lead_id, now=now)
        return _outcome(_with_outcome_relations(Lead.objects.filter(pk=lead_id)).get(), assigned=assigned, now=now)
    except Exception as exc:  # one broken lead must not stop the batch for the others
        logger.exception("Pipeline failed for lead %s", lead_id)
        return _error_outcome(exc.__class__.__name__, now=now)


def _error_outcome(error: str, *, now: datetime) -> Outcome:
    reason = f"Pipeline error ({error}); tried again at {now + ERROR_RETRY_DELAY:%H:%M} UTC."
    return Outcome(PipelineStep.PARKED, reason, now + ERROR_RETRY_DELAY)


# --- Recording outcomes ----------------------------------------------------------------------------


def _finish(*, claim: Claim, outcomes: Mapping[int, Outcome], now: datetime, step_at: datetime | None = None) -> None:
    """Record the outcomes and release the lease of the leads this claim still holds: a statement per outcome.

    Work requested while the lead was being processed (a new activity) moved ``pipeline_due_at`` past
    the claim's time: it is kept, so the lead is taken again. ``step_at`` is when the leads got there.
    A lead of the claim with no outcome (deleted meanwhile) is only released.
    """
    requested_meanwhile = When(pipeline_due_at__gt=claim.claimed_at, then=F("pipeline_due_at"))
    by_outcome: dict[Outcome, list[int]] = defaultdict(list)
    for lead_id, outcome in outcomes.items():
        by_outcome[outcome].append(lead_id)
    for outcome, lead_ids in by_outcome.items():
        next_due = Value(outcome.due_at, output_field=DateTimeField())
        Lead.objects.filter(pk__in=lead_ids, pipeline_lease_owner=claim.token).update(
            **_outcome_fields(outcome, step_at=step_at or now),
            pipeline_due_at=Case(requested_meanwhile, default=next_due, output_field=DateTimeField()),
            pipeline_lease_owner="",
            pipeline_lease_until=None,
        )
    # Not reached (the batch ran out of time) or deleted: released as they are, still due.
    if left := set(claim.lead_ids) - set(outcomes):
        Lead.objects.filter(pk__in=left, pipeline_lease_owner=claim.token).update(
            pipeline_lease_owner="", pipeline_lease_until=None
        )


def _record(*, lead_id: int, outcome: Outcome, now: datetime) -> None:
    """Record where a lead ended, outside any claim (nothing else holds it)."""
    Lead.objects.filter(pk=lead_id).update(**_outcome_fields(outcome, step_at=now), pipeline_due_at=outcome.due_at)


def _outcome_fields(outcome: Outcome, *, step_at: datetime) -> dict[str, object]:
    return {"pipeline_step": outcome.step, "pipeline_step_at": step_at, "pipeline_reason": outcome.reason[:300]}


def _outcome(lead: Lead, *, assigned: str, now: datetime) -> Outcome:
    """Where the lead ended and why, in words a marketer or manager reads on its page."""
    if assigned.startswith("error:"):
        return _error_outcome(assigned.removeprefix("error:"), now=now)
    retry_at = lead.enrichment_retry_at
    enrichment_note = f" Enrichment failed; tried again at {retry_at:%Y-%m-%d %H:%M} UTC." if retry_at else ""
    if lead.owner_id is not None:
        return Outcome(PipelineStep.ASSIGNED, f"Owned by {lead.owner}.{enrichment_note}", retry_at)
    return Outcome(PipelineStep.PARKED, _parked_reason(lead, assigned=assigned, now=now) + enrichment_note, retry_at)


_UNASSIGNED_REASONS = {
    "no team": "An MQL, but no team takes it: it waits in the managers' queue.",
    "nobody available": "An MQL, but its team has nobody available: assigned when someone is.",
    "no consent": "An MQL without a usable consent: not handed to sales.",
    "in nurture": "An MQL, but routing sends it to a nurture track: not handed to sales.",
}


def _parked_reason(lead: Lead, *, assigned: str, now: datetime) -> str:
    if lead.stage == Stage.MQL:
        return _UNASSIGNED_REASONS.get(assigned, "An MQL waiting for assignment.")
    if lead.stage not in (Stage.NEW, Stage.NURTURE):
        return f"Stage {lead.get_stage_display()}."
    decision: RoutingDecision | None = getattr(lead, "routing_decision", None)
    if decision is not None and decision.destination == RoutingDestination.NURTURE and decision.nurture_track:
        where = f"In nurture track “{routing_services.track_name(decision.nurture_track)}”"
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
