"""Retention: a policy removes exactly what is due, through the erasure path, in bounded runs, and logs it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from integrations import retention
from integrations.models import DeliveryStatus, RetentionKind, RetentionPolicy, RetentionRun, WebhookDelivery
from integrations.tests.factories import WebhookDeliveryFactory
from leads.models import ImportedLead, ImportEvent, ImportStatus, Lead, LeadImport, Stage, Submission, SubmissionStatus
from leads.tests.factories import FIXED_NOW, ActivityFactory, LeadFactory, SubmissionFactory

pytestmark = pytest.mark.django_db

NOW = FIXED_NOW
LONG_AGO = NOW - timedelta(days=800)  # past 24 months


@pytest.fixture(autouse=True)
def _no_sending(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Erasure announces the withdrawal to webhook subscribers; what retention removes is the point here.
    monkeypatch.setattr("integrations.services.webhooks.async_task", lambda *args: None)
    yield


def policy(kind: str, age_days: int, **fields: object) -> RetentionPolicy:
    return RetentionPolicy.objects.create(
        name=f"{kind} {age_days}", kind=kind, age_days=age_days, is_active=True, dry_run_at=NOW, **fields
    )


def test_inactive_new_leads_are_erased_and_no_others() -> None:
    due = LeadFactory(created_at=LONG_AGO)
    active = LeadFactory(created_at=LONG_AGO)
    ActivityFactory(lead=active, occurred_at=NOW - timedelta(days=30))
    touched = LeadFactory(created_at=LONG_AGO, last_touch_at=NOW - timedelta(days=10))
    worked = LeadFactory(created_at=LONG_AGO, stage=Stage.MQL)
    young = LeadFactory(created_at=NOW - timedelta(days=100))
    leads_policy = policy(RetentionKind.INACTIVE_NEW_LEADS, 730)

    run = retention.apply_policy(policy=leads_policy, now=NOW)

    assert run is not None
    assert run.removed_ids == [due.pk]
    assert run.removed == 1
    assert run.remaining == 0
    erased = set(Lead.objects.filter(erased_at__isnull=False).values_list("pk", flat=True))
    assert erased == {due.pk}
    assert {active.pk, touched.pk, worked.pk, young.pk}.isdisjoint(erased)


def test_retention_erases_through_the_erasure_path() -> None:
    lead = LeadFactory(created_at=LONG_AGO, email="old@acme.example", first_name="Olga")

    retention.apply_policy(policy=policy(RetentionKind.INACTIVE_NEW_LEADS, 730), now=NOW)

    lead.refresh_from_db()
    assert lead.email is None
    assert lead.first_name == ""
    [erasure] = lead.activities.filter(kind="data_erased")
    assert erasure.metadata["reason"].startswith("Retention policy")


def test_spam_after_30_days_is_deleted_and_nothing_else() -> None:
    old_spam = SubmissionFactory(status=SubmissionStatus.SPAM, submitted_at=NOW - timedelta(days=31))
    new_spam = SubmissionFactory(status=SubmissionStatus.SPAM, submitted_at=NOW - timedelta(days=29))
    old_captured = SubmissionFactory(submitted_at=NOW - timedelta(days=300))

    run = retention.apply_policy(policy=policy(RetentionKind.SPAM_SUBMISSIONS, 30), now=NOW)

    assert run is not None
    assert run.removed_ids == [old_spam.pk]
    assert set(Submission.objects.values_list("pk", flat=True)) == {new_spam.pk, old_captured.pk}


def test_delivered_payloads_after_90_days_are_stubbed_and_the_rows_kept() -> None:
    lead_payload = {"id": "lead.mql:1", "event": "lead.mql", "occurred_at": "2025-01-01T00:00:00Z",
                    "lead": {"id": 7, "email": "ada@acme.example", "name": "Ada"}, "data": {}}  # fmt: skip
    old = WebhookDeliveryFactory(
        status=DeliveryStatus.DELIVERED, delivered_at=NOW - timedelta(days=91), payload=lead_payload,
        response_body="ok ada@acme.example",
    )  # fmt: skip
    recent = WebhookDeliveryFactory(
        status=DeliveryStatus.DELIVERED, delivered_at=NOW - timedelta(days=89), payload=lead_payload
    )
    failed = WebhookDeliveryFactory(status=DeliveryStatus.FAILED, payload=lead_payload)

    run = retention.apply_policy(policy=policy(RetentionKind.DELIVERED_WEBHOOK_PAYLOADS, 90), now=NOW)

    assert run is not None
    assert run.removed_ids == [old.pk]
    old.refresh_from_db()
    assert old.payload == {"id": "lead.mql:1", "event": "lead.mql", "occurred_at": "2025-01-01T00:00:00Z",
                           "lead": {"id": 7}, "data": {}}  # fmt: skip
    assert old.response_body == ""
    assert WebhookDelivery.objects.get(pk=recent.pk).payload == lead_payload
    assert WebhookDelivery.objects.get(pk=failed.pk).payload == lead_payload


def test_a_run_is_bounded_and_reports_what_remains() -> None:
    spam = [
        SubmissionFactory(status=SubmissionStatus.SPAM, submitted_at=NOW - timedelta(days=40 + n)) for n in range(5)
    ]
    bounded = policy(RetentionKind.SPAM_SUBMISSIONS, 30, batch_size=2, batches_per_run=1)

    run = retention.apply_policy(policy=bounded, now=NOW)

    assert run is not None
    assert run.removed_ids == [spam[4].pk, spam[3].pk]  # oldest first
    assert run.remaining == 3


def test_a_second_run_removes_nothing_twice() -> None:
    SubmissionFactory(status=SubmissionStatus.SPAM, submitted_at=NOW - timedelta(days=40))
    spam_policy = policy(RetentionKind.SPAM_SUBMISSIONS, 30)
    retention.apply_policy(policy=spam_policy, now=NOW)

    second = retention.apply_policy(policy=spam_policy, now=NOW)

    assert second is None
    assert RetentionRun.objects.count() == 1


def test_dry_run_counts_what_the_run_removes_without_removing() -> None:
    for days in (31, 45, 10):
        SubmissionFactory(status=SubmissionStatus.SPAM, submitted_at=NOW - timedelta(days=days))
    spam_policy = policy(RetentionKind.SPAM_SUBMISSIONS, 30)

    count = retention.count_due(policy=spam_policy, now=NOW)

    assert count == 2
    assert Submission.objects.count() == 3
    assert spam_policy.dry_run_count == 2


def test_scheduled_task_skips_policies_switched_off() -> None:
    SubmissionFactory(status=SubmissionStatus.SPAM, submitted_at=NOW - timedelta(days=40))
    RetentionPolicy.objects.create(name="Spam", kind=RetentionKind.SPAM_SUBMISSIONS, age_days=30, is_active=False)

    runs = retention.apply_active_policies(now=NOW)

    assert runs == []
    assert Submission.objects.count() == 1


def test_a_policy_cannot_be_switched_on_before_a_dry_run() -> None:
    candidate = RetentionPolicy(name="Spam", kind=RetentionKind.SPAM_SUBMISSIONS, age_days=30, is_active=True)

    with pytest.raises(ValidationError) as raised:
        retention.check_can_switch_on(candidate)

    assert "is_active" in raised.value.message_dict


def test_changing_the_rule_needs_a_new_dry_run() -> None:
    saved = policy(RetentionKind.SPAM_SUBMISSIONS, 30)
    saved.age_days = 7

    with pytest.raises(ValidationError):
        retention.check_can_switch_on(saved)


def test_admin_refuses_switching_on_without_a_dry_run_then_allows_it(marketer: User, client: Client) -> None:
    client.force_login(marketer)
    data = {"name": "Spam", "kind": RetentionKind.SPAM_SUBMISSIONS, "age_days": "30", "batch_size": "200",
            "batches_per_run": "5", "runs-TOTAL_FORMS": "0", "runs-INITIAL_FORMS": "0"}  # fmt: skip
    refused = client.post(reverse("admin:integrations_retentionpolicy_add"), {**data, "is_active": "on"})
    assert refused.status_code == 200
    assert not RetentionPolicy.objects.filter(name="Spam").exists()
    client.post(reverse("admin:integrations_retentionpolicy_add"), data)
    saved = RetentionPolicy.objects.get(name="Spam")
    client.post(
        reverse("admin:integrations_retentionpolicy_changelist"),
        {"action": "dry_run", "_selected_action": [saved.pk]},
    )

    client.post(reverse("admin:integrations_retentionpolicy_change", args=[saved.pk]), {**data, "is_active": "on"})

    saved.refresh_from_db()
    assert saved.dry_run_count == 0
    assert saved.is_active


# --- Import uploads --------------------------------------------------------------------------------------


def upload(status: str, *, finished_days_ago: int | None = None, undone_days_ago: int | None = None) -> LeadImport:
    """An import of ``status`` whose stored file names a person, ended (finished, undone) that many days ago."""
    event, _ = ImportEvent.objects.get_or_create(name="Expo", source="expo", defaults={"notice": "Badge scans."})
    return LeadImport.objects.create(
        event=event, file=ContentFile(b"Email\nann@new.example\n", name="scans.csv"), file_name="scans.csv",
        columns=["Email"], mapping={"Email": "email"}, consent_text="Badge scans.", status=status,
        created_at=LONG_AGO, total_rows=1, processed_rows=1, created_count=1,
        row_errors=[{"row": 2, "kind": "error", "message": "An example."}],
        finished_at=None if finished_days_ago is None else NOW - timedelta(days=finished_days_ago),
        undone_at=None if undone_days_ago is None else NOW - timedelta(days=undone_days_ago),
    )  # fmt: skip


def is_stored(batch: LeadImport, name: str | None) -> bool:
    return name is not None and name != "" and batch.file.storage.exists(name)


def test_the_upload_of_an_import_finished_more_than_age_days_ago_is_deleted_and_its_record_kept(
    django_capture_on_commit_callbacks: Callable[..., AbstractContextManager[object]],
) -> None:
    old = upload(ImportStatus.DONE, finished_days_ago=31)
    name = old.file.name
    ImportedLead.objects.create(batch=old, lead=LeadFactory(), is_new=True, row=2)
    recent = upload(ImportStatus.DONE, finished_days_ago=29)

    with django_capture_on_commit_callbacks(execute=True):
        run = retention.apply_policy(policy=policy(RetentionKind.IMPORT_UPLOADS, 30), now=NOW)

    assert run is not None
    assert run.removed_ids == [old.pk]
    old.refresh_from_db()
    assert (old.file.name, old.file_deleted_at, is_stored(old, name)) == ("", NOW, False)
    assert (old.status, old.total_rows, old.created_count, old.imported_leads.count()) == (ImportStatus.DONE, 1, 1, 1)
    assert old.row_errors == [{"row": 2, "kind": "error", "message": "An example."}]
    recent.refresh_from_db()
    assert recent.file and recent.file_deleted_at is None and is_stored(recent, recent.file.name)


def test_the_uploads_of_failed_and_undone_imports_are_deleted_by_when_they_ended() -> None:
    failed = upload(ImportStatus.FAILED, finished_days_ago=31)
    undone = upload(ImportStatus.UNDONE, finished_days_ago=200, undone_days_ago=31)
    undone_lately = upload(ImportStatus.UNDONE, finished_days_ago=200, undone_days_ago=2)

    run = retention.apply_policy(policy=policy(RetentionKind.IMPORT_UPLOADS, 30), now=NOW)

    assert run is not None
    assert sorted(run.removed_ids) == [failed.pk, undone.pk]
    assert LeadImport.objects.get(pk=undone_lately.pk).file


@pytest.mark.parametrize(
    "status",
    [ImportStatus.MAPPING, ImportStatus.PREVIEWING, ImportStatus.PREVIEWED, ImportStatus.QUEUED,
     ImportStatus.RUNNING, ImportStatus.UNDOING],
)  # fmt: skip
def test_the_upload_of_an_import_still_running_or_resumable_is_never_deleted(status: str) -> None:
    batch = upload(status, finished_days_ago=300, undone_days_ago=300)
    uploads_policy = policy(RetentionKind.IMPORT_UPLOADS, 30)

    counted = retention.count_due(policy=uploads_policy, now=NOW)
    run = retention.apply_policy(policy=uploads_policy, now=NOW)

    assert (counted, run) == (0, None)
    batch.refresh_from_db()
    assert batch.file and batch.file_deleted_at is None and is_stored(batch, batch.file.name)


def test_an_uploads_run_deletes_at_most_its_batches_and_a_second_run_the_rest() -> None:
    batches = [upload(ImportStatus.DONE, finished_days_ago=40 + n) for n in range(3)]
    uploads_policy = policy(RetentionKind.IMPORT_UPLOADS, 30, batch_size=1, batches_per_run=2)

    first = retention.apply_policy(policy=uploads_policy, now=NOW)
    second = retention.apply_policy(policy=uploads_policy, now=NOW)
    third = retention.apply_policy(policy=uploads_policy, now=NOW)

    assert first is not None and second is not None
    assert (first.removed_ids, first.remaining) == ([batches[2].pk, batches[1].pk], 1)  # oldest first
    assert (second.removed_ids, second.remaining) == ([batches[0].pk], 0)
    assert third is None


def test_a_30_day_uploads_policy_is_there_switched_off_until_its_dry_run() -> None:
    seeded = RetentionPolicy.objects.get(kind=RetentionKind.IMPORT_UPLOADS)

    assert (seeded.age_days, seeded.is_active) == (30, False)
