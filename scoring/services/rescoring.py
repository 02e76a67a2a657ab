"""Rescoring every lead in batches of id ranges, in the background, with the code that scores one lead.

After a rule or model change admin queues a `RescoreJob` (``request_rescore``); the worker runs it
(``run_rescore_job``) a few batches per task, re-queuing itself, so no task outlives django-q2's
timeout and admin shows its progress. Each batch is one transaction through
``lead_scoring.rescore_leads``: the columns scoring reads for a few thousand leads, their activities in
one query, ``rules.score`` for each, one statement for the changed scores, then the stage service for
the leads that crossed a threshold (every stage change keeps its ``StageChange`` row). The hourly
decay pass is a job too, limited to the leads whose engagement can change or that scoring may still move.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Exists, F, Max, Min, OuterRef, Q, QuerySet
from django_q.tasks import async_task

from leads.models import Activity, Lead
from scoring import selectors, thresholds
from scoring.models import RescoreJob, RescoreScope, RescoreStatus, ScoringModel
from scoring.services.lead_scoring import RescoreResult, rescore_leads

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 5_000
BATCHES_PER_TASK = 40  # about 200,000 leads a task: well inside django-q2's timeout
STALLED_AFTER = timedelta(minutes=15)  # a job not heard of this long lost its task
RUN_TASK = "scoring.tasks.run_rescore_job"


def rescore_all(*, now: datetime, batch_size: int = DEFAULT_BATCH_SIZE, scope: str = RescoreScope.ALL) -> RescoreResult:
    """Rescore every lead (or, for the decay scope, those whose score or stage may change) right here.

    For the demo loader, the benchmark and management use; admin queues a `RescoreJob` instead.
    """
    scoring = selectors.active_scoring()
    if scoring is None:
        return RescoreResult()
    result = RescoreResult()
    for low, high in id_batches(Lead.objects.all(), after_id=0, batch_size=batch_size):
        result += rescore_batch(scoring=scoring, scope=scope, low=low, high=high, now=now)
    return result


def rescore_batch(
    *, scoring: selectors.Scoring, scope: str, low: int, high: int, now: datetime, as_of: datetime | None = None
) -> RescoreResult:
    """Rescore the leads of `scope` with ids in [low, high) (see ``lead_scoring.rescore_leads``).

    A job scores every lead as of the instant it started (`as_of`), and may run for minutes behind a busy
    queue: a lead captured after that instant, or scored since (by the pipeline, with newer activities), is
    left as it is. Scored as of a time before its own capture, it lost its form's points and left MQL.
    """
    as_of = as_of or now
    leads = _leads_in_scope(scope, scoring=scoring, now=as_of).filter(id__gte=low, id__lt=high)
    leads = leads.filter(created_at__lte=as_of).exclude(scored_at__gt=as_of)
    return rescore_leads(leads, scoring=scoring, now=now, as_of=as_of)


def _leads_in_scope(scope: str, *, scoring: selectors.Scoring | None, now: datetime) -> QuerySet[Lead]:
    """The leads a rescore of `scope` evaluates.

    The decay pass takes the leads whose engagement may have changed (points left to decay, activities
    in a window, never scored) and those scoring may still move (unassigned, in a marketing stage), so a
    lead held for a missing field moves on the next pass after marketing completes it.

    Neither scope takes a lead with pipeline work due: the pipeline scores it (with the same model) once
    it is enriched, and a rescore of its unenriched row would only move it the wrong way meanwhile.
    """
    not_in_pipeline = Lead.objects.exclude(pipeline_due_at__lte=now)
    if scope == RescoreScope.ALL:
        return not_in_pipeline
    if scoring is None:
        return Lead.objects.none()
    condition = ~Q(engagement_score=0) | Q(scored_at__isnull=True)
    condition |= Q(owner__isnull=True, stage__in=thresholds.MARKETING_STAGES)
    if scoring.lookback_days:
        since = now - timedelta(days=scoring.lookback_days)
        condition |= Q(Exists(Activity.objects.filter(lead=OuterRef("pk"), occurred_at__gte=since)))
    return not_in_pipeline.filter(condition)


def id_batches(leads: QuerySet[Lead], *, after_id: int, batch_size: int) -> Iterator[tuple[int, int]]:
    """Id ranges [low, high) of `batch_size` ids covering `leads` after `after_id` (some may hold none)."""
    bounds = leads.filter(id__gt=after_id).aggregate(low=Min("id"), high=Max("id"))
    if bounds["low"] is None:
        return
    for low in range(bounds["low"], bounds["high"] + 1, batch_size):
        yield low, low + batch_size


# --- Background jobs ----------------------------------------------------------------------------


def request_rescore(*, reason: str, now: datetime, by: User | None = None, scope: str = RescoreScope.ALL) -> RescoreJob:
    """Queue a background rescore, to start once the current transaction commits.

    Requests are merged: a full rescore not yet started already sees the latest rules, and any
    unfinished job covers a decay pass (the scheduled task may fire twice after downtime).
    """
    unfinished = selectors.unfinished_jobs().order_by("-created_at", "-id")
    if scope == RescoreScope.DECAY:
        job = unfinished.first()
    else:
        job = unfinished.filter(scope=RescoreScope.ALL, status=RescoreStatus.QUEUED).first()
    if job is not None:
        return job
    job = RescoreJob.objects.create(
        scope=scope,
        reason=reason[:300],
        requested_by=by,
        scoring_model=ScoringModel.objects.filter(is_active=True).first(),
        created_at=now,
    )
    _enqueue(job.pk)
    return job


def start_decay_pass(*, now: datetime) -> RescoreJob:
    """The scheduled pass: restart jobs whose task was lost, then queue the decay rescore."""
    revive_stalled_jobs(now=now)
    return request_rescore(scope=RescoreScope.DECAY, reason="Scheduled decay pass", now=now)


def revive_stalled_jobs(*, now: datetime) -> int:
    """Queue again the jobs whose task was lost (queued or running, not heard of for `STALLED_AFTER`)."""
    stalled = selectors.unfinished_jobs().filter(
        Q(status=RescoreStatus.QUEUED, created_at__lt=now - STALLED_AFTER)
        | Q(status=RescoreStatus.RUNNING, heartbeat_at__lt=now - STALLED_AFTER)
    )
    ids = list(stalled.values_list("pk", flat=True))
    for job_id in ids:
        _enqueue(job_id)
    return len(ids)


def run_rescore_job(
    *, job_id: int, now: datetime, max_batches: int = BATCHES_PER_TASK, batch_size: int = DEFAULT_BATCH_SIZE
) -> RescoreJob:
    """Run up to `max_batches` batches of the job, then queue the rest; safe to run twice at once.

    Every batch first moves the job's cursor with a conditional UPDATE, so of two workers on the
    same job exactly one scores each range. All batches use the instant the job started, so a job
    spread over several tasks decays every lead to the same moment.
    """
    job = RescoreJob.objects.get(pk=job_id)
    if job.status == RescoreStatus.QUEUED and not _claim(job, now=now):
        return job
    if job.status != RescoreStatus.RUNNING:
        return job
    scoring = selectors.active_scoring()
    if scoring is None:
        return _finish(job, now=now)
    try:
        for low, high in id_batches(Lead.objects.all(), after_id=job.last_lead_id, batch_size=batch_size):
            if max_batches <= 0:
                _enqueue(job.pk)
                return job
            max_batches -= 1
            if not _run_batch(job, scoring=scoring, low=low, high=high, now=now):
                return job  # another worker took the range, or a newer job superseded this one
    except Exception as error:
        RescoreJob.objects.filter(pk=job.pk).update(status=RescoreStatus.FAILED, error=repr(error), finished_at=now)
        raise
    return _finish(job, now=now)


def _claim(job: RescoreJob, *, now: datetime) -> bool:
    """Start a queued job, unless a newer one covers it; newer jobs supersede the older ones still going."""
    newer = selectors.unfinished_jobs().filter(pk__gt=job.pk)
    if newer.filter(Q(scope=RescoreScope.ALL) | Q(scope=job.scope)).exists():
        _supersede(RescoreJob.objects.filter(pk=job.pk, status=RescoreStatus.QUEUED), now=now)
        job.refresh_from_db()
        return False
    claimed = RescoreJob.objects.filter(pk=job.pk, status=RescoreStatus.QUEUED).update(
        status=RescoreStatus.RUNNING,
        started_at=now,
        heartbeat_at=now,
        scored_as_of=now,
        total=_leads_in_scope(job.scope, scoring=selectors.active_scoring(), now=now).count(),
    )
    older = selectors.unfinished_jobs().filter(pk__lt=job.pk)
    _supersede(older if job.scope == RescoreScope.ALL else older.filter(scope=job.scope), now=now)
    job.refresh_from_db()
    return bool(claimed)


def _run_batch(job: RescoreJob, *, scoring: selectors.Scoring, low: int, high: int, now: datetime) -> bool:
    with transaction.atomic():
        advanced = RescoreJob.objects.filter(
            pk=job.pk, status=RescoreStatus.RUNNING, last_lead_id=job.last_lead_id
        ).update(last_lead_id=high - 1, heartbeat_at=now)
        if not advanced:
            return False
        result = rescore_batch(scoring=scoring, scope=job.scope, low=low, high=high, now=now, as_of=job.scored_as_of)
        RescoreJob.objects.filter(pk=job.pk).update(
            done=F("done") + result.scored,
            changed=F("changed") + result.changed,
            moved_to_mql=F("moved_to_mql") + result.to_mql,
            moved_to_nurture=F("moved_to_nurture") + result.to_nurture,
            disqualified=F("disqualified") + result.disqualified,
        )
    job.last_lead_id = high - 1
    return True


def _finish(job: RescoreJob, *, now: datetime) -> RescoreJob:
    RescoreJob.objects.filter(pk=job.pk, status=RescoreStatus.RUNNING).update(
        status=RescoreStatus.DONE, finished_at=now, heartbeat_at=now
    )
    job.refresh_from_db()
    return job


def _supersede(jobs: QuerySet[RescoreJob], *, now: datetime) -> None:
    jobs.filter(status__in=(RescoreStatus.QUEUED, RescoreStatus.RUNNING)).update(
        status=RescoreStatus.SUPERSEDED, finished_at=now
    )


def _enqueue(job_id: int) -> None:
    transaction.on_commit(lambda: async_task(RUN_TASK, job_id))
