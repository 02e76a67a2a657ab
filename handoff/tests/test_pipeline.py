from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django_q.brokers import get_broker
from django_q.conf import Conf
from pytest_django.fixtures import Settings
from pytest_httpserver import HTTPServer

from core.health import BacklogState
from handoff import pipeline, receivers, services, tasks
from handoff.models import Membership, Notification, NotificationKind, RoutingDecision, RoutingRule, Team
from handoff.services import notifications
from handoff.services import routing as routing_services
from handoff.tests.factories import TeamFactory
from leads import services as lead_services
from leads.models import (
    CompanyDirectoryEntry,
    EnrichmentProvider,
    Lead,
    PipelineStep,
)
from leads.tests.factories import FIXED_NOW, LeadFactory
from scoring.tests.factories import ScoringModelFactory, ScoringRuleFactory
from tests.personas import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def enterprise_setup() -> Team:
    CompanyDirectoryEntry.objects.create(domain="bigco.example", name="BigCo", employee_count=5000, industry="Software")
    team = TeamFactory(slug="enterprise")
    RoutingRule.objects.create(name="Enterprise", order=10, size_bands=["Enterprise"], team=team)
    return team


@pytest.fixture
def mql_when_enriched(enterprise_setup: Team, rep: object) -> object:
    """Scoring that makes a lead an MQL only once enrichment found its industry, and a team to take it."""
    model = ScoringModelFactory(mql_threshold=30)
    ScoringRuleFactory(scoring_model=model, points=40)  # industry Software or Fintech
    Membership.objects.create(team=enterprise_setup, user=rep)
    return rep


def routed_team(lead: Lead) -> str:
    decision = RoutingDecision.objects.filter(lead=lead).select_related("team").first()
    return decision.team.slug if decision is not None and decision.team is not None else ""


def due_lead(*, due_at: object = FIXED_NOW, **fields: object) -> Lead:
    fields = {"email": "cio@bigco.example", "company_domain": "", "job_title": "CIO", **fields}
    return LeadFactory(pipeline_due_at=due_at, **fields)


def test_a_due_lead_is_enriched_scored_routed_and_assigned(mql_when_enriched: object) -> None:
    lead = due_lead()

    pipeline.process_due_leads(now=FIXED_NOW, worker="w1")

    lead.refresh_from_db()
    assert (lead.enrichment_status, routed_team(lead), lead.stage) == ("enriched", "enterprise", "mql")
    assert (lead.owner, lead.pipeline_step, lead.pipeline_due_at) == (mql_when_enriched, PipelineStep.ASSIGNED, None)


def test_a_lead_whose_queued_task_was_deleted_is_processed_fully_by_the_scheduled_run(
    mql_when_enriched: object, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Callable
) -> None:
    monkeypatch.setattr(Conf, "SYNC", False)  # queue the wake-up on the real broker, then lose it
    lead = LeadFactory(email="cio@bigco.example", company_domain="", job_title="CIO")
    with django_capture_on_commit_callbacks(execute=True):
        lead_services.enqueue_pipeline(lead_id=lead.pk)
    broker = get_broker()
    assert broker.queue_size() >= 1
    broker.purge_queue()

    tasks.run_pipeline()

    lead.refresh_from_db()
    assert (lead.enrichment_status, lead.owner, lead.pipeline_step) == ("enriched", mql_when_enriched, "assigned")


def test_a_lead_waiting_behind_a_long_backlog_is_enriched_not_routed_unenriched(mql_when_enriched: object) -> None:
    lead = due_lead(due_at=FIXED_NOW - timedelta(minutes=45), created_at=FIXED_NOW - timedelta(minutes=45))

    pipeline.process_due_leads(now=FIXED_NOW, worker="w1")

    lead.refresh_from_db()
    assert (lead.enrichment_status, lead.industry, lead.stage) == ("enriched", "Software", "mql")


def test_a_claimed_lead_is_not_claimed_again_while_its_lease_runs(enterprise_setup: None) -> None:
    lead = due_lead()
    first = pipeline.claim_due_leads(now=FIXED_NOW, worker="w1")

    second = pipeline.claim_due_leads(now=FIXED_NOW + timedelta(minutes=1), worker="w2")

    assert (first.lead_ids, second.lead_ids) == ((lead.pk,), ())


def test_a_batch_claimed_by_a_worker_that_died_is_taken_over_after_its_lease(enterprise_setup: None) -> None:
    lead = due_lead()
    pipeline.claim_due_leads(now=FIXED_NOW, worker="died")
    later = FIXED_NOW + pipeline.LEASE_DURATION + timedelta(seconds=1)

    taken = pipeline.process_due_leads(now=later, worker="w2")

    lead.refresh_from_db()
    assert taken == 1
    assert (lead.routed_at, lead.pipeline_step, lead.pipeline_lease_owner) == (later, PipelineStep.PARKED, "")


def test_a_worker_whose_lease_was_taken_over_does_not_overwrite_the_new_holder(enterprise_setup: None) -> None:
    due_lead()
    stale = pipeline.claim_due_leads(now=FIXED_NOW, worker="slow")
    current = pipeline.claim_due_leads(now=FIXED_NOW + pipeline.LEASE_DURATION * 2, worker="w2")

    outcome = pipeline.Outcome(PipelineStep.ASSIGNED, "stale")
    pipeline._finish(claim=stale, outcomes={stale.lead_ids[0]: outcome}, now=FIXED_NOW)

    assert Lead.objects.values_list("pipeline_lease_owner", "pipeline_reason").get() == (current.token, "")


def test_claims_take_the_oldest_due_leads_first_and_leave_leads_not_yet_due() -> None:
    newer = LeadFactory(pipeline_due_at=FIXED_NOW - timedelta(minutes=1))
    older = LeadFactory(pipeline_due_at=FIXED_NOW - timedelta(minutes=5))
    LeadFactory(pipeline_due_at=FIXED_NOW + timedelta(minutes=5))
    LeadFactory(pipeline_due_at=None)

    claim = pipeline.claim_due_leads(now=FIXED_NOW, worker="w1", limit=10)

    assert claim.lead_ids == (older.pk, newer.pk)


def test_work_requested_while_a_lead_is_processed_keeps_it_due() -> None:
    lead = due_lead()
    claim = pipeline.claim_due_leads(now=FIXED_NOW, worker="w1")
    Lead.objects.filter(pk=lead.pk).update(pipeline_due_at=FIXED_NOW + timedelta(seconds=2))  # a new activity

    pipeline._finish(claim=claim, outcomes={lead.pk: pipeline.Outcome(PipelineStep.PARKED, "x")}, now=FIXED_NOW)

    assert Lead.objects.get(pk=lead.pk).pipeline_due_at == FIXED_NOW + timedelta(seconds=2)


def test_work_asked_for_through_the_service_while_a_lead_is_processed_keeps_it_due() -> None:
    lead = due_lead(due_at=FIXED_NOW - timedelta(seconds=30))
    claim = pipeline.claim_due_leads(now=FIXED_NOW, worker="w1")
    with time_machine.travel(FIXED_NOW + timedelta(seconds=3), tick=False):
        lead_services.enqueue_pipeline(lead_id=lead.pk)  # a new activity while the batch runs

    pipeline._finish(claim=claim, outcomes={lead.pk: pipeline.Outcome(PipelineStep.PARKED, "x")}, now=FIXED_NOW)

    assert Lead.objects.get(pk=lead.pk).pipeline_due_at == FIXED_NOW + timedelta(seconds=3)


def test_work_asked_for_again_while_no_worker_holds_the_lead_keeps_its_place_in_the_line() -> None:
    lead = due_lead(due_at=FIXED_NOW - timedelta(seconds=30))

    with time_machine.travel(FIXED_NOW, tick=False):
        lead_services.enqueue_pipeline(lead_id=lead.pk)

    assert Lead.objects.get(pk=lead.pk).pipeline_due_at == FIXED_NOW - timedelta(seconds=30)


def test_a_lead_below_the_threshold_is_parked_with_its_score_and_the_threshold(enterprise_setup: None) -> None:
    ScoringModelFactory(mql_threshold=60)
    lead = due_lead(email="intern@smallco.example")

    pipeline.process_due_leads(now=FIXED_NOW, worker="w1")

    lead.refresh_from_db()
    assert lead.pipeline_step == PipelineStep.PARKED
    assert "score 0 is below the MQL threshold of 60" in lead.pipeline_reason


def test_running_the_pipeline_twice_gives_the_same_end_state(mql_when_enriched: object) -> None:
    lead = due_lead()
    pipeline.process_lead(lead_id=lead.pk, now=FIXED_NOW)
    decided = ("stage", "owner", "score", "routing_decision__team", "enrichment_attempts", "pipeline_step")
    first = Lead.objects.values(*decided).get(pk=lead.pk)

    pipeline.process_lead(lead_id=lead.pk, now=FIXED_NOW + timedelta(minutes=1))

    assert Lead.objects.values(*decided).get(pk=lead.pk) == first
    assert lead.assignments.count() == 1


@pytest.fixture
def flaky_provider(httpserver: HTTPServer, settings: Settings) -> HTTPServer:
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = True  # the test server is on 127.0.0.1
    EnrichmentProvider.objects.create(
        name="Firmographics API", kind="http", order=5, timeout_seconds=1,
        settings={"url": httpserver.url_for("/v1/person?email={email}"),
                  "mapping": {"industry": "industry", "employee_count": "employees"},
                  "retries": 0, "failure_threshold": 50},
    )  # fmt: skip
    return httpserver


FOUND = {"industry": "Software", "employees": 4000}


def test_a_provider_outage_moves_the_lead_on_and_says_when_enrichment_is_tried_again(
    mql_when_enriched: object, flaky_provider: HTTPServer
) -> None:
    flaky_provider.expect_request("/v1/person").respond_with_data("down", status=503)
    lead = due_lead(email="cio@unlisted.example")  # not in the company directory: only the API knows it

    pipeline.process_due_leads(now=FIXED_NOW, worker="w1")

    lead.refresh_from_db()
    assert (lead.enrichment_status, lead.stage, lead.pipeline_step) == ("partial", "nurture", "parked")
    assert lead.pipeline_due_at == lead.enrichment_retry_at == FIXED_NOW + timedelta(minutes=5)
    assert "Enrichment failed; tried again at 2026-03-02 10:05 UTC" in lead.pipeline_reason


def test_a_lead_is_enriched_again_and_rescored_when_its_provider_is_back(
    mql_when_enriched: object, flaky_provider: HTTPServer
) -> None:
    flaky_provider.expect_ordered_request("/v1/person").respond_with_data("down", status=503)
    flaky_provider.expect_ordered_request("/v1/person").respond_with_json(FOUND)
    lead = due_lead(email="cio@unlisted.example")
    pipeline.process_due_leads(now=FIXED_NOW, worker="w1")

    pipeline.process_due_leads(now=FIXED_NOW + timedelta(minutes=5), worker="w1")

    lead.refresh_from_db()
    assert (lead.enrichment_status, lead.industry, lead.score, lead.stage) == ("enriched", "Software", 40, "mql")
    assert (routed_team(lead), lead.owner, lead.pipeline_due_at) == ("enterprise", mql_when_enriched, None)


def test_enrichment_retries_stop_after_the_last_delay(enterprise_setup: None, flaky_provider: HTTPServer) -> None:
    flaky_provider.expect_request("/v1/person").respond_with_data("down", status=503)
    lead = due_lead(email="cio@unlisted.example")
    now = FIXED_NOW

    for _ in range(6):
        pipeline.process_due_leads(now=now, worker="w1")
        now += timedelta(days=1)

    lead.refresh_from_db()
    assert (lead.enrichment_attempts, lead.enrichment_retry_at, lead.pipeline_due_at) == (5, None, None)


def test_one_lead_that_fails_is_parked_for_a_later_try_and_the_others_go_on(
    enterprise_setup: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken, fine = due_lead(email="a@bigco.example"), due_lead(email="b@bigco.example")
    real_decide = routing_services.decide

    def decide(lead: Lead, rules: list[RoutingRule]) -> routing_services.Decision | None:
        if lead.pk == broken.pk:
            raise RuntimeError("boom")
        return real_decide(lead, rules)

    monkeypatch.setattr(routing_services, "decide", decide)  # routing fails for one lead of the batch

    pipeline.process_due_leads(now=FIXED_NOW, worker="w1")

    broken.refresh_from_db()
    fine.refresh_from_db()
    assert broken.pipeline_due_at == FIXED_NOW + pipeline.ERROR_RETRY_DELAY
    assert "Pipeline error (RuntimeError)" in broken.pipeline_reason
    assert fine.routed_at == FIXED_NOW


def test_the_backlog_counts_due_leads_and_the_oldest_due_time() -> None:
    LeadFactory(pipeline_due_at=FIXED_NOW - timedelta(minutes=7))
    LeadFactory(pipeline_due_at=FIXED_NOW - timedelta(minutes=1))
    LeadFactory(pipeline_due_at=FIXED_NOW + timedelta(minutes=5))

    backlog = pipeline.backlog(now=FIXED_NOW)

    assert backlog == BacklogState(waiting=2, oldest_due_at=FIXED_NOW - timedelta(minutes=7))


def test_the_reps_lead_page_says_where_the_pipeline_left_the_lead_and_when_enrichment_is_retried(
    mql_when_enriched: object, flaky_provider: HTTPServer
) -> None:
    flaky_provider.expect_request("/v1/person").respond_with_data("down", status=503)
    lead = due_lead()  # the directory knows bigco.example: an MQL although the API is down
    pipeline.process_due_leads(now=FIXED_NOW, worker="w1")

    page = client_for(mql_when_enriched).get(reverse("handoff:lead", args=[lead.pk]))

    text = " ".join(page.content.decode().split())
    assert "Partly enriched · 2 Mar 2026, 10:00 GMT · a provider failed; tried again 2 Mar 2026, 10:05 GMT" in text
    assert "Assigned to a rep · 2 Mar 2026, 10:00 GMT · Owned by rep1. Enrichment failed; tried again at" in text


def test_a_lead_assigned_outside_the_pipeline_says_so_and_one_sent_back_by_sales_is_parked(
    mql_when_enriched: object,
) -> None:
    from handoff import services
    from handoff.models import Assignment

    lead = LeadFactory(stage="mql", routed_at=FIXED_NOW)
    RoutingDecision.objects.create(
        lead=lead, destination="team", team=Team.objects.get(slug="enterprise"), decided_at=FIXED_NOW
    )
    services.assign_waiting_leads(now=FIXED_NOW + timedelta(hours=1))
    assigned = Lead.objects.values_list("pipeline_step", "pipeline_reason").get(pk=lead.pk)

    services.reject_lead(
        assignment=Assignment.objects.get(lead=lead), rep=mql_when_enriched, reason="Not a fit", now=FIXED_NOW
    )

    assert assigned == (PipelineStep.ASSIGNED, "Owned by rep1.")
    assert Lead.objects.values_list("pipeline_step", "pipeline_reason").get(pk=lead.pk) == (
        PipelineStep.PARKED,
        "Sent back by sales.",
    )


def test_a_run_that_finds_a_backlog_queues_another_for_a_second_worker(
    enterprise_setup: None, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "workers": 2}
    for i in range(pipeline.BATCH_SIZE + 1):
        due_lead(email=f"p{i}@bigco.example")
    queued: list[tuple[object, ...]] = []
    monkeypatch.setattr(receivers, "async_task", lambda *args: queued.append(args))

    taken = tasks.run_pipeline()

    assert (taken, queued) == (pipeline.BATCH_SIZE + 1, [("handoff.tasks.run_pipeline", False)])


def test_a_run_out_of_time_with_work_left_queues_its_continuation(
    enterprise_setup: None, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    settings.PIPELINE_TASK_BUDGET = timedelta(0)
    due_lead()
    queued: list[tuple[object, ...]] = []
    monkeypatch.setattr(receivers, "async_task", lambda *args: queued.append(args))

    taken = tasks.run_pipeline()

    assert (taken, queued) == (0, [("handoff.tasks.run_pipeline", False)])


def test_a_batch_queues_one_email_task_for_all_the_reps_it_assigned_leads_to(
    mql_when_enriched: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued: list[tuple[object, ...]] = []
    monkeypatch.setattr(notifications, "async_task", lambda *args: queued.append(args))
    for number in range(3):
        due_lead(email=f"cio{number}@bigco.example")

    pipeline.process_due_leads(now=FIXED_NOW, worker="w1")

    assert [task for task, _ in queued] == ["handoff.tasks.send_notifications"]
    assert sorted(queued[0][1]) == sorted(Notification.objects.values_list("pk", flat=True))
    assert Notification.objects.filter(kind=NotificationKind.ASSIGNED).count() == 3


def test_the_batch_email_task_sends_each_recorded_notification_once(
    mql_when_enriched: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notifications, "async_task", lambda *args: None)  # the task is lost: nothing sent yet
    for number in range(2):
        due_lead(email=f"cio{number}@bigco.example")
    pipeline.process_due_leads(now=FIXED_NOW, worker="w1")
    ids = list(Notification.objects.values_list("pk", flat=True))

    sent = services.deliver_notifications(notification_ids=[*ids, 999_999], now=FIXED_NOW)
    again = services.deliver_notifications(notification_ids=ids, now=FIXED_NOW)

    assert (sent, again, len(mail.outbox)) == (2, 0, 2)
