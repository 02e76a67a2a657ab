"""Bulk rescoring racing the pipeline: a stale read never lands on a lead someone moved on meanwhile."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from leads.models import Lead, Stage
from leads.tests.factories import LeadFactory, UserFactory
from scoring import selectors, services
from scoring.models import RescoreScope, ScoringModel
from scoring.services import lead_scoring, rescoring
from scoring.tests.factories import ScoringRuleFactory

pytestmark = pytest.mark.django_db


def _icp_rule(model: ScoringModel, points: int = 70) -> None:
    ScoringRuleFactory(
        scoring_model=model, kind="attribute_in", points=points, params={"field": "industry", "values": ["Software"]}
    )


def _meanwhile(monkeypatch: pytest.MonkeyPatch, change: Callable[[], None]) -> None:
    """Run ``change`` (another writer) right after the rescore has read its rows, before it writes."""
    real_score_rows = lead_scoring.score_rows

    def score_rows_then_change(*args: Any, **kwargs: Any) -> list[lead_scoring.Rescored]:
        rows = real_score_rows(*args, **kwargs)
        change()
        return rows

    monkeypatch.setattr(lead_scoring, "score_rows", score_rows_then_change)


def test_a_decay_pass_writes_no_stale_score_or_stage_over_a_lead_the_pipeline_assigned_meanwhile(
    scoring_model: ScoringModel, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    _icp_rule(scoring_model)
    lead = LeadFactory(industry="", stage=Stage.MQL, score=70, scored_at=now - timedelta(hours=1))
    rep = UserFactory()
    pipeline_time = now + timedelta(seconds=1)
    # The pipeline enriches, scores and assigns the lead between the decay pass's read and its writes.
    _meanwhile(monkeypatch, lambda: Lead.objects.filter(pk=lead.pk).update(
        industry="Software", score=70, scored_at=pipeline_time, owner=rep,
    ))  # fmt: skip

    services.rescore_all(now=now + timedelta(seconds=2), scope=RescoreScope.DECAY)

    lead.refresh_from_db()
    assert (lead.stage, lead.score, lead.scored_at, lead.owner) == (Stage.MQL, 70, pipeline_time, rep)


def test_a_rescore_moves_no_stage_that_changed_since_it_read_the_lead(
    scoring_model: ScoringModel, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    _icp_rule(scoring_model)
    lead = LeadFactory(industry="Software", stage=Stage.NEW)
    # A marketer moved the lead to nurture by hand meanwhile; the rescore read it as new, bound for MQL.
    _meanwhile(monkeypatch, lambda: Lead.objects.filter(pk=lead.pk).update(stage=Stage.NURTURE))

    result = services.rescore_all(now=now)

    lead.refresh_from_db()
    assert (result.to_mql, lead.stage) == (0, Stage.NURTURE)


def test_a_decay_pass_leaves_leads_with_pipeline_work_due_to_the_pipeline(
    scoring_model: ScoringModel, now: datetime
) -> None:
    _icp_rule(scoring_model)
    waiting = LeadFactory(industry="", pipeline_due_at=now - timedelta(minutes=1))
    idle = LeadFactory(industry="")

    services.rescore_all(now=now, scope=RescoreScope.DECAY)

    waiting.refresh_from_db()
    idle.refresh_from_db()
    assert (waiting.scored_at, waiting.stage, idle.scored_at, idle.stage) == (None, Stage.NEW, now, Stage.NURTURE)


def test_a_decay_job_leaves_leads_captured_or_scored_after_the_instant_it_scores_for(
    scoring_model: ScoringModel, now: datetime
) -> None:
    _icp_rule(scoring_model)
    job_started = now - timedelta(minutes=2)  # the job has been running behind a busy queue since then
    captured_since = LeadFactory(industry="Software", created_at=now - timedelta(minutes=1))
    scored_since = LeadFactory(industry="", score=70, stage=Stage.MQL, scored_at=now - timedelta(minutes=1))
    older = LeadFactory(industry="", created_at=job_started - timedelta(days=1))

    rescoring.rescore_batch(
        scoring=selectors.active_scoring(), scope=RescoreScope.DECAY, low=0, high=10**9, now=now, as_of=job_started
    )

    captured_since.refresh_from_db()
    scored_since.refresh_from_db()
    older.refresh_from_db()
    assert (captured_since.scored_at, scored_since.score, scored_since.stage) == (None, 70, Stage.MQL)
    assert older.scored_at == job_started
