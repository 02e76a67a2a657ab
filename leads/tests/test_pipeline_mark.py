"""Marking leads due for the pipeline (``leads.services.enqueue_pipeline_for``): the one UPDATE every capture of a
known person, every import chunk and every re-enrichment writes."""

from datetime import timedelta

import pytest
import time_machine

from leads import services
from leads.models import Lead, PipelineStep
from leads.tests.factories import FIXED_NOW, LeadFactory

pytestmark = pytest.mark.django_db


def marks(lead: Lead) -> tuple[str, object, str, object]:
    lead.refresh_from_db()
    return lead.pipeline_step, lead.pipeline_step_at, lead.pipeline_reason, lead.pipeline_due_at


def test_a_lead_with_no_work_waits_from_now(clock: time_machine.Traveller) -> None:
    lead = LeadFactory(pipeline_step=PipelineStep.ASSIGNED, pipeline_reason="Routed to a team", pipeline_due_at=None)

    services.enqueue_pipeline(lead_id=lead.pk)

    assert marks(lead) == (PipelineStep.WAITING, FIXED_NOW, "", FIXED_NOW)


def test_a_lead_due_earlier_keeps_its_place_in_the_line(clock: time_machine.Traveller) -> None:
    earlier = FIXED_NOW - timedelta(minutes=10)
    lead = LeadFactory(pipeline_step=PipelineStep.WAITING, pipeline_due_at=earlier)

    services.enqueue_pipeline(lead_id=lead.pk)

    assert marks(lead) == (PipelineStep.WAITING, FIXED_NOW, "", earlier)


def test_a_lead_due_later_becomes_due_now(clock: time_machine.Traveller) -> None:
    lead = LeadFactory(pipeline_step=PipelineStep.WAITING, pipeline_due_at=FIXED_NOW + timedelta(minutes=10))

    services.enqueue_pipeline(lead_id=lead.pk)

    assert marks(lead)[3] == FIXED_NOW


def test_a_chunk_marks_each_lead_it_names_and_no_other(clock: time_machine.Traveller) -> None:
    named = LeadFactory.create_batch(3, pipeline_step=PipelineStep.ASSIGNED, pipeline_due_at=None)
    other = LeadFactory(pipeline_step=PipelineStep.ASSIGNED, pipeline_due_at=None)

    services.enqueue_pipeline_for(lead_ids=[lead.pk for lead in named])

    assert [marks(lead)[0] for lead in named] == [PipelineStep.WAITING] * 3
    assert marks(other)[:2] == (PipelineStep.ASSIGNED, other.pipeline_step_at)
