"""change_stage announces lead.mql, lead.sql and lead.rejected (leads.events), after commit, once per change."""

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from leads import services
from leads.events import lead_event
from leads.models import Lead, Stage, StageChange
from leads.tests.factories import FIXED_NOW, LeadFactory

pytestmark = pytest.mark.django_db

LATER = FIXED_NOW + timedelta(hours=1)


@pytest.fixture
def heard() -> Iterator[list[dict[str, Any]]]:
    """The lead events sent, as a listener (the webhooks) receives them."""
    received: list[dict[str, Any]] = []

    def listen(sender: object, *, signal: object, **kwargs: Any) -> None:
        received.append(kwargs)

    lead_event.connect(listen, dispatch_uid="test_stage_events")
    yield received
    lead_event.disconnect(dispatch_uid="test_stage_events")


def move(lead: Lead, to_stage: str, *, reason: str = "") -> StageChange:
    services.change_stage(lead=lead, to_stage=to_stage, now=LATER, reason=reason)
    return StageChange.objects.get(lead=lead, to_stage=to_stage)


def test_becoming_an_mql_emits_lead_mql(
    heard: list[dict[str, Any]], django_capture_on_commit_callbacks: Callable
) -> None:
    lead = LeadFactory(stage=Stage.NEW)

    with django_capture_on_commit_callbacks(execute=True):
        change = move(lead, Stage.MQL, reason="Score 72 reached the MQL threshold")

    assert heard == [
        {
            "event": "lead.mql",
            "event_id": f"lead.mql:{change.pk}",
            "lead_id": lead.pk,
            "data": {"reason": "Score 72 reached the MQL threshold"},
            "occurred_at": LATER,
        }
    ]


def test_becoming_an_sql_emits_lead_sql(
    heard: list[dict[str, Any]], django_capture_on_commit_callbacks: Callable
) -> None:
    lead = LeadFactory(stage=Stage.MQL)

    with django_capture_on_commit_callbacks(execute=True):
        change = move(lead, Stage.SQL, reason="Budget and timing confirmed")

    assert heard == [
        {
            "event": "lead.sql",
            "event_id": f"lead.sql:{change.pk}",
            "lead_id": lead.pk,
            "data": {"reason": "Budget and timing confirmed"},
            "occurred_at": LATER,
        }
    ]


def test_a_rejection_emits_lead_rejected_with_the_reason(
    heard: list[dict[str, Any]], django_capture_on_commit_callbacks: Callable
) -> None:
    lead = LeadFactory(stage=Stage.MQL)

    with django_capture_on_commit_callbacks(execute=True):
        change = move(lead, Stage.REJECTED, reason="Student, not a buyer")

    assert heard == [
        {
            "event": "lead.rejected",
            "event_id": f"lead.rejected:{change.pk}",
            "lead_id": lead.pk,
            "data": {"reason": "Student, not a buyer"},
            "occurred_at": LATER,
        }
    ]


@pytest.mark.parametrize(("from_stage", "to_stage"), [(Stage.NEW, Stage.NURTURE), (Stage.MQL, Stage.DISQUALIFIED)])
def test_other_stage_changes_emit_no_event(
    heard: list[dict[str, Any]], django_capture_on_commit_callbacks: Callable, from_stage: str, to_stage: str
) -> None:
    lead = LeadFactory(stage=from_stage)

    with django_capture_on_commit_callbacks(execute=True):
        move(lead, to_stage)

    assert heard == []


def test_the_event_waits_for_the_commit(
    heard: list[dict[str, Any]], django_capture_on_commit_callbacks: Callable
) -> None:
    lead = LeadFactory(stage=Stage.NEW)

    with django_capture_on_commit_callbacks(execute=False):
        move(lead, Stage.MQL)

    assert heard == []


def test_a_change_to_the_stage_the_lead_is_in_emits_nothing(
    heard: list[dict[str, Any]], django_capture_on_commit_callbacks: Callable
) -> None:
    lead = LeadFactory(stage=Stage.MQL)

    with django_capture_on_commit_callbacks(execute=True):
        services.change_stage(lead=lead, to_stage=Stage.MQL, now=LATER)

    assert heard == []
