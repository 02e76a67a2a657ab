"""Bulk rescoring: batches scored by the pure evaluator, stage moves, background jobs, the decay pass."""

from __future__ import annotations

import gc
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, NoReturn

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_q.models import Schedule

from leads.models import ActivityKind, ConsentStatus, Lead, Stage, StageChange
from leads.tests.factories import ActivityFactory, ConsentFactory, LeadFactory, UserFactory
from scoring import services, tasks
from scoring.models import RescoreJob, RescoreScope, RescoreStatus, ScoringModel
from scoring.tests.factories import RescoreJobFactory, ScoringRuleFactory

pytestmark = pytest.mark.django_db


def _icp_rule(model: ScoringModel, points: int = 70) -> None:
    ScoringRuleFactory(
        scoring_model=model, kind="attribute_in", points=points, params={"field": "industry", "values": ["Software"]}
    )


def _webinar_rule(model: ScoringModel, points: int = 40) -> None:
    ScoringRuleFactory(
        scoring_model=model, kind="activity", dimension="engagement", points=points,
        params={"activity_kind": ActivityKind.WEBINAR_ATTENDED, "within_days": 90},
    )  # fmt: skip


def test_rescore_all_scores_every_lead_in_batches(scoring_model: ScoringModel, now: datetime) -> None:
    _icp_rule(scoring_model, points=30)
    LeadFactory.create_batch(5, industry="Software")

    result = services.rescore_all(now=now, batch_size=2)

    assert result.scored == 5
    assert set(Lead.objects.values_list("score", "scored_at")) == {(30, now)}


def test_rescore_leaves_a_score_scored_one_lead_at_a_time_alone(scoring_model: ScoringModel, now: datetime) -> None:
    _icp_rule(scoring_model, points=30)
    lead = LeadFactory(industry="Software")
    services.score_lead(lead_id=lead.pk, now=now)

    result = services.rescore_all(now=now + timedelta(hours=1))

    lead.refresh_from_db()
    assert (result.scored, result.changed, lead.scored_at) == (1, 0, now)


def test_rescore_writes_only_the_rows_whose_score_changed(scoring_model: ScoringModel, now: datetime) -> None:
    _icp_rule(scoring_model, points=30)
    software, retail = LeadFactory(industry="Software"), LeadFactory(industry="Retail")
    services.rescore_all(now=now)
    scoring_model.rules.update(params={"field": "industry", "values": ["Software", "Retail"]})

    later = now + timedelta(hours=1)

    with CaptureQueriesContext(connection) as queries:
        result = services.rescore_all(now=later)

    updates = [q["sql"] for q in queries if 'UPDATE "leads_lead" SET "score"' in q["sql"]]
    assert (result.changed, len(updates)) == (1, 1)
    assert dict(Lead.objects.values_list("pk", "scored_at")) == {software.pk: now, retail.pk: later}


def test_rescore_reads_a_batch_in_the_same_few_queries_whatever_its_size(
    scoring_model: ScoringModel, now: datetime
) -> None:
    _icp_rule(scoring_model, points=30)
    _webinar_rule(scoring_model, points=10)

    def queries_to_rescore(leads: int) -> int:
        for _ in range(leads):
            lead = LeadFactory(industry="Retail")
            ConsentFactory(lead=lead)
            ActivityFactory(lead=lead, occurred_at=now - timedelta(days=100))  # outside the window
        services.rescore_all(now=now)  # the first scoring writes every row
        with CaptureQueriesContext(connection) as queries:
            services.rescore_all(now=now)
        return len(queries)

    assert queries_to_rescore(2) == queries_to_rescore(20)


def test_a_failing_batch_still_gives_the_cycle_collector_back(
    scoring_model: ScoringModel, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    _icp_rule(scoring_model)
    LeadFactory(industry="Software")

    def failing_score(*args: Any, **kwargs: Any) -> NoReturn:
        raise RuntimeError("a rule failed")

    # A failure inside the batch, while the collector is paused. (Not a naive ``now``: the batch's queries
    # would meet it first, as naive datetimes given to a DateTimeField.)
    monkeypatch.setattr("scoring.rules.score", failing_score)

    with pytest.raises(RuntimeError, match="a rule failed"):
        services.rescore_all(now=now)

    assert gc.isenabled()


def test_bulk_rescore_stores_what_scoring_one_lead_stores(scoring_model: ScoringModel, now: datetime) -> None:
    """The batch loads leads, consents and activities its own way: every rule kind must see the same facts."""
    rules = [
        ("attribute_equals", {"field": "products", "value": "CRM"}, "fit"),
        ("attribute_in", {"field": "source", "values": ["Google"]}, "fit"),
        ("attribute_contains", {"field": "job_title", "substring": "market"}, "fit"),
        ("numeric_range", {"field": "budget", "min": 100}, "fit"),
        ("ordered_at_least", {"field": "seniority", "order": ["manager", "director"], "minimum": "director"}, "fit"),
        ("activity", {"activity_kind": "webinar_attended", "within_days": 30}, "engagement"),
        ("free_mail", {"effect": "floor", "floor_score": 25}, "fit"),
        ("competitor_domain", {"domains": ["rival.com"], "effect": "disqualify"}, "fit"),
        ("student", {"effect": "disqualify"}, "fit"),
    ]
    for kind, params, dimension in rules:
        ScoringRuleFactory(scoring_model=scoring_model, kind=kind, params=params, dimension=dimension, points=15)
    leads = [
        LeadFactory(seniority="Director", custom_answers={"products": ["crm", "erp"], "budget": " 250 "}),
        LeadFactory(email="bo@gmail.com", email_domain_kind="", job_title="Marketing lead", seniority="director"),
        LeadFactory(email="cy@eu.rival.com", custom_answers={"budget": 99}, first_touch_source="google"),
    ]
    for days in (1, 12.5, 31):
        ActivityFactory(lead=leads[0], occurred_at=now - timedelta(days=days))
    services.rescore_all(now=now)
    in_bulk = list(Lead.objects.order_by("id").values_list("score", "fit_score", "engagement_score", "score_breakdown"))
    Lead.objects.update(scored_at=None, score=0, score_breakdown=[])

    for lead in leads:
        services.score_lead(lead_id=lead.pk, now=now)

    one_by_one = Lead.objects.order_by("id").values_list("score", "fit_score", "engagement_score", "score_breakdown")
    assert in_bulk == list(one_by_one)
    assert [score for score, *_ in in_bulk] == [86, 25, 0]  # 25: the free-mail floor


def test_rescore_writes_a_breakdown_whose_reason_changed(scoring_model: ScoringModel, now: datetime) -> None:
    _icp_rule(scoring_model, points=30)
    LeadFactory(industry="Software")
    services.rescore_all(now=now)
    scoring_model.rules.update(name="Ideal customer industry")

    result = services.rescore_all(now=now + timedelta(hours=1))

    assert result.changed == 1
    assert Lead.objects.get().score_breakdown[0]["name"] == "Ideal customer industry"


def test_rescore_all_moves_unassigned_leads_through_the_stage_service(
    scoring_model: ScoringModel, now: datetime
) -> None:
    _icp_rule(scoring_model)
    lead = LeadFactory(industry="Software", stage=Stage.NURTURE)

    result = services.rescore_all(now=now)

    change = StageChange.objects.get(lead=lead)
    assert (result.to_mql, change.from_stage, change.to_stage) == (1, Stage.NURTURE, Stage.MQL)
    assert change.reason == "Score 70 reached the MQL threshold (60) of scoring model “Active model”."


def test_an_erased_lead_keeps_its_score_in_bulk_and_alone(scoring_model: ScoringModel, now: datetime) -> None:
    _icp_rule(scoring_model)
    erased = LeadFactory(industry="", score=55, erased_at=now - timedelta(days=1))

    services.rescore_all(now=now)
    services.score_lead(lead_id=erased.pk, now=now)

    erased.refresh_from_db()
    assert (erased.score, erased.scored_at) == (55, None)


def test_rescore_all_never_moves_a_lead_in_sales_hands(scoring_model: ScoringModel, now: datetime) -> None:
    owned = LeadFactory(stage=Stage.MQL, owner=UserFactory())
    qualified = LeadFactory(stage=Stage.SQL)

    services.rescore_all(now=now)

    assert not StageChange.objects.filter(lead__in=[owned, qualified]).exists()


def test_rescore_all_holds_an_mql_without_baseline_fields(scoring_model: ScoringModel, now: datetime) -> None:
    _icp_rule(scoring_model)
    lead = LeadFactory(industry="Software", first_name="")

    result = services.rescore_all(now=now)

    lead.refresh_from_db()
    assert (result.to_mql, lead.stage, lead.score) == (0, Stage.NEW, 70)


def test_rescore_all_disqualifies_with_the_rules_name_as_reason(scoring_model: ScoringModel, now: datetime) -> None:
    ScoringRuleFactory(
        scoring_model=scoring_model, name="Competitors", kind="competitor_domain", points=0,
        params={"domains": ["rival.com"], "effect": "disqualify"},
    )  # fmt: skip
    lead = LeadFactory(company_domain="rival.com")

    services.rescore_all(now=now)

    change = StageChange.objects.get(lead=lead)
    assert (change.to_stage, change.reason) == (
        Stage.DISQUALIFIED,
        "Disqualified by scoring model “Active model”: Competitors.",
    )


def test_decay_pass_rescores_only_leads_whose_engagement_or_stage_can_change(
    scoring_model: ScoringModel, now: datetime
) -> None:
    _webinar_rule(scoring_model)
    engaged, quiet = LeadFactory(owner=UserFactory()), LeadFactory(owner=UserFactory())
    ActivityFactory(lead=engaged, occurred_at=now - timedelta(days=10))
    services.rescore_all(now=now)
    later = now + timedelta(days=30)

    result = services.rescore_all(now=later, scope=RescoreScope.DECAY)

    engaged.refresh_from_db()
    quiet.refresh_from_db()
    assert (result.scored, engaged.scored_at, quiet.scored_at) == (1, later, now)


def test_decay_pass_moves_a_held_lead_once_its_fields_are_complete(scoring_model: ScoringModel, now: datetime) -> None:
    _icp_rule(scoring_model)
    lead = LeadFactory(industry="Software", company_name="")
    services.rescore_all(now=now)
    Lead.objects.filter(pk=lead.pk).update(company_name="Acme")

    result = services.rescore_all(now=now + timedelta(hours=1), scope=RescoreScope.DECAY)

    lead.refresh_from_db()
    assert (result.changed, result.to_mql, lead.stage) == (0, 1, Stage.MQL)


def test_rescore_holds_a_lead_without_a_usable_consent_until_it_is_confirmed(
    scoring_model: ScoringModel, now: datetime
) -> None:
    _icp_rule(scoring_model)
    lead = LeadFactory(industry="Software")
    consent = ConsentFactory(lead=lead, status=ConsentStatus.PENDING)
    services.rescore_all(now=now)
    consent.status = ConsentStatus.CONFIRMED
    consent.save()

    result = services.rescore_all(now=now + timedelta(hours=1), scope=RescoreScope.DECAY)

    lead.refresh_from_db()
    assert (result.to_mql, lead.stage) == (1, Stage.MQL)


def test_rescore_sends_an_unassigned_mql_below_the_nurture_threshold_to_nurture(
    scoring_model: ScoringModel, now: datetime
) -> None:
    lead = LeadFactory(stage=Stage.MQL, score=70)

    result = services.rescore_all(now=now)

    lead.refresh_from_db()
    assert (result.to_nurture, lead.stage, lead.score) == (1, Stage.NURTURE, 0)


# --- Background jobs --------------------------------------------------------------------------------


def test_request_rescore_runs_the_job_after_commit(
    scoring_model: ScoringModel, now: datetime, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    _icp_rule(scoring_model, points=30)
    LeadFactory.create_batch(3, industry="Software")

    with django_capture_on_commit_callbacks(execute=True):
        job = services.request_rescore(reason="Rule saved", now=now)

    job.refresh_from_db()
    assert (job.status, job.total, job.done, job.progress_percent) == (RescoreStatus.DONE, 3, 3, 100)
    assert set(Lead.objects.values_list("score", flat=True)) == {30}


def test_request_rescore_reuses_a_full_rescore_not_started_yet(scoring_model: ScoringModel, now: datetime) -> None:
    first = services.request_rescore(reason="Rule A saved", now=now)

    second = services.request_rescore(reason="Rule B saved", now=now)

    assert second == first
    assert RescoreJob.objects.count() == 1


def test_decay_request_reuses_any_unfinished_job(scoring_model: ScoringModel, now: datetime) -> None:
    running = RescoreJobFactory(status=RescoreStatus.RUNNING, scope=RescoreScope.ALL)

    job = services.request_rescore(reason="Scheduled", now=now, scope=RescoreScope.DECAY)

    assert job == running


def test_job_runs_a_few_batches_per_task_and_records_progress(
    scoring_model: ScoringModel, now: datetime, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    LeadFactory.create_batch(5)
    job = RescoreJobFactory()

    with django_capture_on_commit_callbacks() as queued:
        services.run_rescore_job(job_id=job.pk, now=now, max_batches=2, batch_size=1)

    job.refresh_from_db()
    assert (job.status, job.done, job.total, job.progress_percent) == (RescoreStatus.RUNNING, 2, 5, 40)
    # The rest is queued as a new task (the other callbacks ask the nurture app to enroll the leads moved to nurture).
    assert len([callback for callback in queued if "request_nurture" not in callback.__qualname__]) == 1


def test_continued_job_finishes_from_where_it_stopped(scoring_model: ScoringModel, now: datetime) -> None:
    LeadFactory.create_batch(5)
    job = RescoreJobFactory()
    services.run_rescore_job(job_id=job.pk, now=now, max_batches=2, batch_size=1)

    services.run_rescore_job(job_id=job.pk, now=now + timedelta(minutes=1), max_batches=10, batch_size=1)

    job.refresh_from_db()
    assert (job.status, job.done, job.scored_as_of) == (RescoreStatus.DONE, 5, now)
    assert set(Lead.objects.values_list("scored_at", flat=True)) == {now}


def test_finished_job_is_not_run_again(scoring_model: ScoringModel, now: datetime) -> None:
    LeadFactory()
    job = RescoreJobFactory(status=RescoreStatus.DONE)

    services.run_rescore_job(job_id=job.pk, now=now)

    assert Lead.objects.get().scored_at is None


def test_queued_job_is_superseded_by_a_newer_full_rescore(scoring_model: ScoringModel, now: datetime) -> None:
    older = RescoreJobFactory()
    RescoreJobFactory()

    services.run_rescore_job(job_id=older.pk, now=now)

    older.refresh_from_db()
    assert older.status == RescoreStatus.SUPERSEDED


def test_starting_a_full_rescore_stops_an_older_running_one(scoring_model: ScoringModel, now: datetime) -> None:
    older = RescoreJobFactory(status=RescoreStatus.RUNNING, scored_as_of=now)
    newer = RescoreJobFactory()

    services.run_rescore_job(job_id=newer.pk, now=now)

    older.refresh_from_db()
    assert older.status == RescoreStatus.SUPERSEDED


def test_job_without_an_active_model_finishes_without_scoring(now: datetime) -> None:
    LeadFactory()
    job = RescoreJobFactory()

    services.run_rescore_job(job_id=job.pk, now=now)

    job.refresh_from_db()
    assert (job.status, Lead.objects.get().scored_at) == (RescoreStatus.DONE, None)


def test_stalled_jobs_are_queued_again(now: datetime, django_capture_on_commit_callbacks: Callable[..., Any]) -> None:
    RescoreJobFactory(status=RescoreStatus.RUNNING, heartbeat_at=now - timedelta(hours=1))
    RescoreJobFactory(status=RescoreStatus.RUNNING, heartbeat_at=now - timedelta(minutes=1))

    with django_capture_on_commit_callbacks() as queued:
        revived = services.revive_stalled_jobs(now=now)

    assert (revived, len(queued)) == (1, 1)


def test_decay_task_queues_a_decay_rescore(scoring_model: ScoringModel) -> None:
    tasks.decay_scores()

    job = RescoreJob.objects.get()
    assert (job.scope, job.reason) == (RescoreScope.DECAY, "Scheduled decay pass")


def test_decay_task_is_scheduled_hourly() -> None:
    schedule = Schedule.objects.get(func="scoring.tasks.decay_scores")

    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (Schedule.MINUTES, 60, -1)


# --- Recycled leads, parked in nurture until a date -----------------------------------------------


def test_rescore_all_keeps_a_parked_lead_out_of_mql_before_its_date(scoring_model: ScoringModel, now: datetime) -> None:
    _icp_rule(scoring_model)
    lead = LeadFactory(industry="Software", stage=Stage.NURTURE, nurture_ends_at=now + timedelta(days=30))

    result = services.rescore_all(now=now)

    lead.refresh_from_db()
    assert (result.to_mql, lead.score, lead.stage) == (0, 70, Stage.NURTURE)


def test_decay_pass_keeps_a_parked_lead_out_of_mql_before_its_date(scoring_model: ScoringModel, now: datetime) -> None:
    _webinar_rule(scoring_model, points=80)
    lead = LeadFactory(stage=Stage.NURTURE, nurture_ends_at=now + timedelta(days=30))
    ActivityFactory(lead=lead, occurred_at=now - timedelta(days=1))

    result = services.rescore_all(now=now, scope=RescoreScope.DECAY)

    lead.refresh_from_db()
    assert (result.scored, result.to_mql, lead.stage) == (1, 0, Stage.NURTURE)


def test_rescore_all_makes_a_lead_an_mql_once_its_park_has_ended(scoring_model: ScoringModel, now: datetime) -> None:
    _icp_rule(scoring_model)
    lead = LeadFactory(industry="Software", stage=Stage.NURTURE, nurture_ends_at=now - timedelta(minutes=1))

    result = services.rescore_all(now=now)

    lead.refresh_from_db()
    assert (result.to_mql, lead.stage) == (1, Stage.MQL)


def test_preview_predicts_that_a_parked_lead_stays_in_nurture(scoring_model: ScoringModel, now: datetime) -> None:
    _icp_rule(scoring_model, points=40)
    LeadFactory(industry="Software", stage=Stage.NURTURE)
    LeadFactory(industry="Software", stage=Stage.NURTURE, nurture_ends_at=now + timedelta(days=30))
    services.rescore_all(now=now)
    scoring_model.rules.update(points=70)  # both leads now score above the MQL threshold

    what_if = services.preview_model_change(model=scoring_model, now=now)
    result = services.rescore_all(now=now)

    assert what_if.entering_mql == result.to_mql == 1
