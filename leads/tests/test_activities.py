import contextlib

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from handoff import receivers
from leads import services
from leads.models import Activity, ActivityKind, Lead, PipelineStep
from leads.tests.factories import FIXED_NOW, LeadFactory

pytestmark = pytest.mark.django_db


def test_record_activity_stores_it_and_queues_the_pipeline(
    django_capture_on_commit_callbacks: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued: list[str] = []
    monkeypatch.setattr(receivers, "async_task", lambda task, *args: queued.append(task))
    lead = LeadFactory()

    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        activity = services.record_activity(
            lead=lead, kind=ActivityKind.WEBINAR_ATTENDED, occurred_at=FIXED_NOW, now=FIXED_NOW,
            metadata={"webinar": "Q3 roadmap"},
        )  # fmt: skip

    assert (activity.kind, activity.occurred_at, activity.metadata) == (
        "webinar_attended",
        FIXED_NOW,
        {"webinar": "Q3 roadmap"},
    )
    assert queued == ["handoff.tasks.run_pipeline"]
    assert Lead.objects.get(pk=lead.pk).pipeline_step == PipelineStep.WAITING


def test_a_batch_of_activities_wakes_the_pipeline_once_with_every_lead_due(
    django_capture_on_commit_callbacks: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued: list[str] = []
    monkeypatch.setattr(receivers, "async_task", lambda task, *args: queued.append(task))
    lead, other = LeadFactory(), LeadFactory()

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():  # type: ignore[operator]
        for kind in (ActivityKind.EMAIL_OPENED, ActivityKind.EMAIL_CLICKED, ActivityKind.PRICING_PAGE_VIEW):
            services.record_activity(lead=lead, kind=kind, occurred_at=FIXED_NOW, now=FIXED_NOW)
        services.record_activity(lead=other, kind=ActivityKind.PAGE_VIEW, occurred_at=FIXED_NOW, now=FIXED_NOW)

    assert queued == ["handoff.tasks.run_pipeline"]
    assert Lead.objects.filter(pk__in=[lead.pk, other.pk], pipeline_due_at__isnull=False).count() == 2


def test_a_rolled_back_activity_does_not_stop_the_next_one_from_queueing(
    django_capture_on_commit_callbacks: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued: list[str] = []
    monkeypatch.setattr(receivers, "async_task", lambda task, *args: queued.append(task))
    lead = LeadFactory()

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():  # type: ignore[operator]
        with contextlib.suppress(RuntimeError), transaction.atomic():
            services.record_activity(lead=lead, kind=ActivityKind.PAGE_VIEW, occurred_at=FIXED_NOW, now=FIXED_NOW)
            raise RuntimeError("the rest of the request failed")
        services.record_activity(lead=lead, kind=ActivityKind.EMAIL_CLICKED, occurred_at=FIXED_NOW, now=FIXED_NOW)

    assert queued == ["handoff.tasks.run_pipeline"]
    assert list(Activity.objects.filter(lead=lead).values_list("kind", flat=True)) == [ActivityKind.EMAIL_CLICKED]


def test_an_activity_resent_with_the_same_external_id_is_stored_once() -> None:
    lead = LeadFactory()
    for _ in range(2):
        services.record_activity(
            lead=lead, kind=ActivityKind.EMAIL_CLICKED, occurred_at=FIXED_NOW, now=FIXED_NOW,
            metadata={"external_id": "click-123"},
        )  # fmt: skip

    assert Activity.objects.filter(lead=lead).count() == 1


def test_an_unknown_activity_kind_is_refused() -> None:
    with pytest.raises(ValidationError):
        services.record_activity(lead=LeadFactory(), kind="telepathy", occurred_at=FIXED_NOW, now=FIXED_NOW)


def test_a_queue_failure_keeps_the_activity(
    django_capture_on_commit_callbacks: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(services, "async_task", broken)
    lead = LeadFactory()

    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        services.record_activity(lead=lead, kind=ActivityKind.PAGE_VIEW, occurred_at=FIXED_NOW, now=FIXED_NOW)

    assert Activity.objects.filter(lead=lead, kind=ActivityKind.PAGE_VIEW).exists()
