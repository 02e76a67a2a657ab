"""The pipeline works a batch set-based: queries per batch, wake-ups, leases and when a lead got where it is."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pytest_django.fixtures import Settings

from handoff import pipeline, receivers
from leads.enrichment import services as enrichment_services
from leads.enrichment.providers import PROVIDER_KINDS, ProviderContext, ProviderKind, ProviderResult
from leads.models import ActivityKind, EnrichmentProvider, EnrichmentStatus, Lead, PipelineStep, ProviderRun, Stage
from leads.tests.factories import FIXED_NOW, ActivityFactory, LeadFactory
from scoring.tests.factories import ScoringModelFactory, ScoringRuleFactory

pytestmark = pytest.mark.django_db


def leads_with_a_new_activity(count: int, *, owner: object) -> list[Lead]:
    """Enriched leads sales own, each with a new activity: the pipeline only rescores and records them."""
    leads = LeadFactory.create_batch(
        count, owner=owner, stage=Stage.MQL, enrichment_status=EnrichmentStatus.ENRICHED, pipeline_due_at=FIXED_NOW
    )
    for lead in leads:
        ActivityFactory(lead=lead, kind=ActivityKind.WEBINAR_ATTENDED, occurred_at=FIXED_NOW)
    return leads


def queries_for_one_batch(*, limit: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        taken = pipeline.process_due_leads(now=FIXED_NOW, worker="w1", limit=limit)
    assert taken == limit
    return len(queries)


def test_a_batch_takes_the_same_number_of_queries_whatever_its_size(rep: object) -> None:
    model = ScoringModelFactory()
    ScoringRuleFactory(
        scoring_model=model, kind="activity", dimension="engagement", points=15,
        params={"activity_kind": ActivityKind.WEBINAR_ATTENDED, "within_days": 90},
    )  # fmt: skip
    leads_with_a_new_activity(3, owner=rep)
    small = queries_for_one_batch(limit=3)
    leads_with_a_new_activity(30, owner=rep)

    large = queries_for_one_batch(limit=30)

    assert large == small
    assert set(Lead.objects.values_list("score", "pipeline_step", "pipeline_due_at")) == {
        (15, PipelineStep.ASSIGNED, None)
    }


def test_a_lead_records_when_it_reached_its_step_not_when_its_batch_was_claimed(rep: object) -> None:
    ScoringModelFactory()
    lead = LeadFactory(pipeline_due_at=FIXED_NOW)
    finished_at = FIXED_NOW + timedelta(seconds=7)

    pipeline.process_due_leads(now=FIXED_NOW, worker="w1", clock=lambda: finished_at)

    lead.refresh_from_db()
    assert (lead.pipeline_step, lead.pipeline_step_at) == (PipelineStep.PARKED, finished_at)


def test_a_batch_renews_its_lease_while_it_runs() -> None:
    lead = LeadFactory(pipeline_due_at=FIXED_NOW)
    claim = pipeline.claim_due_leads(now=FIXED_NOW, worker="w1")
    later = FIXED_NOW + pipeline.LEASE_DURATION / 2
    lease = pipeline._Lease(claim, clock=lambda: later)

    lease.keep()

    lead.refresh_from_db()
    assert lead.pipeline_lease_until == later + pipeline.LEASE_DURATION
    assert pipeline.claim_due_leads(now=FIXED_NOW + pipeline.LEASE_DURATION, worker="w2").lead_ids == ()


def test_a_lease_is_not_written_again_within_a_third_of_its_duration() -> None:
    LeadFactory(pipeline_due_at=FIXED_NOW)
    claim = pipeline.claim_due_leads(now=FIXED_NOW, worker="w1")
    lease = pipeline._Lease(claim, clock=lambda: FIXED_NOW + pipeline.LEASE_DURATION / 4)

    with CaptureQueriesContext(connection) as queries:
        lease.keep()

    assert len(queries) == 0


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, ...]]:
    tasks: list[tuple[object, ...]] = []
    monkeypatch.setattr(receivers, "async_task", lambda *args: tasks.append(args))
    return tasks


def test_captures_queue_one_wake_up_until_a_run_starts(queued: list[tuple[object, ...]]) -> None:
    for _ in range(5):
        receivers.queue_pipeline_run()
    receivers.run_started()

    receivers.queue_pipeline_run()

    assert queued == [("handoff.tasks.run_pipeline", True)] * 2


def test_a_runs_continuation_is_queued_beside_a_pending_wake_up_and_stands_for_later_captures(
    queued: list[tuple[object, ...]],
) -> None:
    receivers.queue_pipeline_run()

    receivers.queue_pipeline_run(spread=False, coalesce=False)
    receivers.queue_pipeline_run()

    assert queued == [("handoff.tasks.run_pipeline", True), ("handoff.tasks.run_pipeline", False)]


def test_a_wake_up_is_queued_again_once_the_pending_one_may_be_lost(
    queued: list[tuple[object, ...]], settings: Settings
) -> None:
    # A cache in this process, so that the frozen clock is the one its expiry reads (Redis keeps its own).
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with time_machine.travel(FIXED_NOW, tick=False) as clock:
        receivers.queue_pipeline_run()
        clock.shift(timedelta(seconds=receivers.WAKE_PENDING_SECONDS + 1))

        receivers.queue_pipeline_run()

    assert len(queued) == 2


def test_a_cache_that_does_not_answer_still_lets_every_capture_wake_the_pipeline(
    queued: list[tuple[object, ...]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(*args: object, **kwargs: object) -> bool:
        raise ConnectionError("cache down")

    monkeypatch.setattr(receivers.cache, "add", unreachable)

    receivers.queue_pipeline_run()
    receivers.queue_pipeline_run()

    assert len(queued) == 2


def test_a_batch_out_of_time_leaves_the_leads_it_did_not_reach_due_and_free(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    ScoringModelFactory()
    monkeypatch.setattr(pipeline, "ENRICH_CHUNK", 2)
    settings.PIPELINE_TASK_BUDGET = timedelta(seconds=30)
    leads = LeadFactory.create_batch(5, pipeline_due_at=FIXED_NOW - timedelta(minutes=1))
    minute_later = FIXED_NOW + timedelta(minutes=1)  # the first chunk's providers were slow

    pipeline.process_due_leads(now=FIXED_NOW, worker="w1", clock=lambda: minute_later)

    rows = {pk: row for pk, *row in Lead.objects.values_list("pk", "enrichment_status", "pipeline_lease_owner",
                                                             "pipeline_due_at")}  # fmt: skip
    reached, left = [lead.pk for lead in leads[:2]], [lead.pk for lead in leads[2:]]
    assert {rows[pk][0] for pk in reached} == {EnrichmentStatus.ENRICHED}
    assert {tuple(rows[pk]) for pk in left} == {(EnrichmentStatus.PENDING, "", FIXED_NOW - timedelta(minutes=1))}
    assert pipeline.claim_due_leads(now=minute_later, worker="w2").lead_ids == tuple(left)


class WorkerKilled(BaseException):
    """What django-q2's timeout does to a task: not an Exception the batch could catch."""


def test_a_batch_killed_while_enriching_keeps_what_its_earlier_chunks_found(monkeypatch: pytest.MonkeyPatch) -> None:
    ScoringModelFactory()
    monkeypatch.setattr(pipeline, "ENRICH_CHUNK", 2)
    leads = LeadFactory.create_batch(5, pipeline_due_at=FIXED_NOW)
    real_run_providers = enrichment_services._run_providers

    def killed_at_the_third_lead(lead: Lead, **kwargs: Any) -> object:
        if lead.pk == leads[2].pk:
            raise WorkerKilled
        return real_run_providers(lead, **kwargs)

    monkeypatch.setattr(enrichment_services, "_run_providers", killed_at_the_third_lead)

    with pytest.raises(WorkerKilled):
        pipeline.process_due_leads(now=FIXED_NOW, worker="w1")

    statuses = dict(Lead.objects.values_list("pk", "enrichment_status"))
    assert [statuses[lead.pk] for lead in leads] == [EnrichmentStatus.ENRICHED] * 2 + [EnrichmentStatus.PENDING] * 3


def test_an_erased_lead_still_due_in_the_pipeline_calls_no_provider() -> None:
    ScoringModelFactory()
    erased = LeadFactory(
        email=None, phone="", first_name="", last_name="", job_title="", erased_at=FIXED_NOW,
        enrichment_status=EnrichmentStatus.PARTIAL, enrichment_retry_at=FIXED_NOW, pipeline_due_at=FIXED_NOW,
    )  # fmt: skip

    pipeline.process_due_leads(now=FIXED_NOW, worker="w1")

    assert not ProviderRun.objects.filter(lead=erased).exists()


class SlowService(ProviderKind):
    """A provider calling out: each call takes ``takes`` by the test's clock, and it notes the deadline it was given."""

    def __init__(self, clock: list[datetime], takes: timedelta) -> None:
        self.clock, self.takes, self.deadlines = clock, takes, list[datetime | None]()

    def enrich(self, snapshot: object, context: ProviderContext) -> ProviderResult:
        self.deadlines.append(context.deadline)
        self.clock[0] += self.takes
        return ProviderResult()


@pytest.fixture
def slow_service(monkeypatch: pytest.MonkeyPatch) -> Callable[[timedelta], tuple[SlowService, list[datetime]]]:
    """Only slow providers are active, each a call of ``takes``; the clock starts at the claim."""

    def make(takes: timedelta) -> tuple[SlowService, list[datetime]]:
        clock = [FIXED_NOW]
        kind = SlowService(clock, takes)
        monkeypatch.setitem(PROVIDER_KINDS, "slow_service", kind)
        EnrichmentProvider.objects.update(is_active=False)
        for order in (1, 2):
            EnrichmentProvider.objects.create(name=f"Slow {order}", kind="slow_service", order=order)
        return kind, clock

    return make


def test_each_provider_is_told_to_answer_before_the_lease_runs_out(
    slow_service: Callable[[timedelta], tuple[SlowService, list[datetime]]],
) -> None:
    ScoringModelFactory()
    kind, clock = slow_service(timedelta(seconds=50))
    LeadFactory(pipeline_due_at=FIXED_NOW)

    pipeline.process_due_leads(now=FIXED_NOW, worker="w1", clock=lambda: clock[0])

    # The second provider starts 50 s in, past a third of the lease: the lease is renewed for it first.
    end = pipeline.LEASE_DURATION - pipeline.LEASE_MARGIN
    assert kind.deadlines == [FIXED_NOW + end, FIXED_NOW + timedelta(seconds=50) + end]
