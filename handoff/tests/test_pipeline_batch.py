"""The pipeline works a batch set-based: queries per batch, wake-ups, leases and when a lead got where it is."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pytest_django.fixtures import Settings

from handoff import pipeline, receivers
from leads.models import ActivityKind, EnrichmentStatus, Lead, PipelineStep, Stage
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
