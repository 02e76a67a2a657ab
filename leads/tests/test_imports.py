"""Importing a badge-scan list: preview (in the worker), the set-based import, skips, merges and undo."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.db import IntegrityError
from openpyxl import Workbook

from leads import events, imports
from leads.import_files import FULL_NAME, ImportFileError, guess_mapping, read_table
from leads.models import (
    ActivityKind,
    Consent,
    ConsentSource,
    ImportEvent,
    ImportStatus,
    Lead,
    LeadImport,
    LegalBasis,
    ProposedChange,
    Touch,
)
from leads.normalise import normalise_phone
from leads.services import erase_lead_personal_data
from leads.suppression import suppress_address
from leads.tests.factories import FIXED_NOW, ConsentFactory, LeadFactory, UserFactory

SCANS = (
    "Email,Name,Company,Title,Country,Booth notes\n"
    "ann@new.example,Ann Smith,Newco,CTO,DE,hot\n"
    "ANN@new.example,Ann Smith,Newco,CTO,DE,again\n"
    "not-an-email,Bob Stone,Bobco,,,\n"
    ",No Channel,Nowhere,,,\n"
    "gone@old.example,Gone Person,Goneco,,,\n"
    "quit@old.example,Quit Person,Quitco,,,\n"
    "known@old.example,Known Person,Renamed Ltd,VP Sales,GB,\n"
    "cy@beta.example,Cy Young,Beta,,France,\n"
)
MAPPING = {
    "Email": "email",
    "Name": FULL_NAME,
    "Company": "company_name",
    "Title": "job_title",
    "Country": "country",
    "Booth notes": "answer:",
}
NOTICE = "Scanning your badge shares your details with Acme, who may contact you about its products."


@pytest.fixture
def event(db: None) -> ImportEvent:
    return ImportEvent.objects.create(name="SaaStr Europa 2026", source="saastr-europa-2026", notice=NOTICE)


@pytest.fixture
def known_lead(db: None) -> Lead:
    """An existing lead: its company typed by the person, its job title set by staff."""
    before = (FIXED_NOW - timedelta(days=30)).isoformat()
    return LeadFactory(
        email="known@old.example",
        company_name="Old Name Ltd",
        job_title="Head of Sales",
        field_sources={
            "company_name": {"source": "person", "at": before},
            "job_title": {"source": "staff", "at": before, "by": 1},
        },
    )


@pytest.fixture
def skipped_people(db: None) -> None:
    """One erased (on the suppression list) and one who withdrew consent."""
    suppress_address(email="Gone@old.example", reason="Erased on request", now=FIXED_NOW)
    ConsentFactory(lead=LeadFactory(email="quit@old.example"), withdrawn_at=FIXED_NOW - timedelta(days=2))


def make_batch(event: ImportEvent, content: str | bytes = SCANS, *, name: str = "scans.csv") -> LeadImport:
    data = content.encode() if isinstance(content, str) else content
    table = read_table(io.BytesIO(data), name=name)
    return LeadImport.objects.create(
        event=event, file=ContentFile(data, name=name), file_name=name, columns=table.columns,
        legal_basis=LegalBasis.EVENT, consent_text=NOTICE, created_at=FIXED_NOW,
    )  # fmt: skip


def imported(event: ImportEvent, mapping: dict[str, str] = MAPPING) -> LeadImport:
    batch = imports.preview_import(batch=make_batch(event), mapping=mapping)
    imports.start_import(batch=batch, now=FIXED_NOW)
    return imports.run_import(batch_id=batch.pk, clock=lambda: FIXED_NOW)


def counts(batch: LeadImport) -> dict[str, int]:
    return {name: getattr(batch, name) for name in imports.COUNTERS}


EXPECTED = {
    "created_count": 2,
    "merged_count": 1,
    "error_count": 2,
    "withdrawn_count": 1,
    "suppressed_count": 1,
    "duplicate_count": 1,
}


@pytest.mark.usefixtures("known_lead", "skipped_people")
def test_preview_counts_each_outcome_and_writes_no_lead(event: ImportEvent) -> None:
    leads_before = Lead.objects.count()

    batch = imports.preview_import(batch=make_batch(event), mapping=MAPPING)

    assert (batch.status, counts(batch), Lead.objects.count()) == (ImportStatus.PREVIEWED, EXPECTED, leads_before)


@pytest.mark.usefixtures("known_lead", "skipped_people")
def test_preview_lists_each_skipped_row_with_its_reason(event: ImportEvent) -> None:
    batch = imports.preview_import(batch=make_batch(event), mapping=MAPPING)

    assert [(m["row"], m["kind"]) for m in batch.row_errors] == [
        (3, "duplicate"),
        (4, "error"),
        (5, "error"),
        (6, "suppressed"),
        (7, "withdrawn"),
    ]
    assert "not an email address" in batch.row_errors[1]["message"]
    assert "direct channel" in batch.row_errors[2]["message"]


def test_preview_refuses_a_mapping_without_email_or_phone(event: ImportEvent) -> None:
    with pytest.raises(imports.ValidationError, match="Email or Phone"):
        imports.preview_import(batch=make_batch(event), mapping={"Name": FULL_NAME})


def test_preview_remembers_the_mapping_for_the_event(event: ImportEvent) -> None:
    imports.preview_import(batch=make_batch(event), mapping=MAPPING)

    event.refresh_from_db()
    assert guess_mapping(["Email", "Booth notes"], remembered=event.column_mapping) == {
        "Email": "email",
        "Booth notes": "answer:",
    }


@pytest.mark.usefixtures("known_lead", "skipped_people")
def test_import_gives_the_counts_the_preview_gave(event: ImportEvent) -> None:
    batch = imported(event)

    assert (batch.status, counts(batch), batch.processed_rows) == (ImportStatus.DONE, EXPECTED, 8)


@pytest.mark.usefixtures("known_lead", "skipped_people")
def test_imported_lead_gets_the_events_consent_touch_and_badge_scan(event: ImportEvent) -> None:
    imported(event)

    lead = Lead.objects.get(email="ann@new.example")
    consent = lead.consents.get()
    touch = lead.touches.get()
    assert (lead.first_name, lead.last_name, lead.company_name, lead.country) == ("Ann", "Smith", "Newco", "DE")
    assert lead.custom_answers == {"booth_notes": "hot"}
    assert (consent.legal_basis, consent.text, consent.source) == (LegalBasis.EVENT, NOTICE, ConsentSource.IMPORT)
    assert (touch.source, touch.medium, touch.channel) == ("saastr-europa-2026", "event", "event")
    assert lead.first_touch_source == "saastr-europa-2026"
    assert list(lead.activities.values_list("kind", flat=True)) == [ActivityKind.EVENT_BADGE_SCAN]


@pytest.mark.usefixtures("known_lead", "skipped_people")
def test_imported_leads_are_given_to_the_pipeline(event: ImportEvent) -> None:
    imported(event)

    assert Lead.objects.filter(email="cy@beta.example", pipeline_due_at__isnull=False).exists()


@pytest.mark.usefixtures("skipped_people")
def test_import_replaces_what_the_person_typed_but_not_what_staff_set(event: ImportEvent, known_lead: Lead) -> None:
    imported(event)

    known_lead.refresh_from_db()
    assert (known_lead.company_name, known_lead.job_title) == ("Renamed Ltd", "Head of Sales")
    assert known_lead.field_sources["company_name"]["source"] == "import"


@pytest.mark.usefixtures("known_lead", "skipped_people")
def test_import_skips_erased_and_withdrawn_addresses(event: ImportEvent) -> None:
    imported(event)

    assert not Lead.objects.filter(email="gone@old.example").exists()
    assert Consent.objects.filter(lead__email="quit@old.example").count() == 1


@pytest.mark.usefixtures("known_lead", "skipped_people")
def test_running_a_finished_import_again_imports_nothing_more(event: ImportEvent) -> None:
    batch = imported(event)
    leads, consents = Lead.objects.count(), Consent.objects.count()

    again = imports.run_import(batch_id=batch.pk, clock=lambda: FIXED_NOW)

    assert (counts(again), Lead.objects.count(), Consent.objects.count()) == (EXPECTED, leads, consents)


@pytest.mark.usefixtures("known_lead", "skipped_people")
def test_import_in_small_chunks_counts_the_same(event: ImportEvent, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)

    batch = imported(event)

    assert counts(batch) == EXPECTED


@pytest.mark.usefixtures("known_lead", "skipped_people")
def test_an_import_whose_time_is_up_queues_the_rest_and_ends_with_the_same_counts(
    event: ImportEvent, monkeypatch: pytest.MonkeyPatch, queued: list[tuple[object, int | None]]
) -> None:
    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    batch = imports.preview_import(batch=make_batch(event), mapping=MAPPING)
    imports.start_import(batch=batch, now=FIXED_NOW)
    queued.clear()

    first = imports.run_import(batch_id=batch.pk, clock=lambda: FIXED_NOW, budget=timedelta(0))
    after_first = (first.status, first.processed_rows, [item for item in queued if item[0] == imports.RUN_TASK])
    runs = 1
    while first.status != ImportStatus.DONE:
        first = imports.run_import(batch_id=batch.pk, clock=lambda: FIXED_NOW, budget=timedelta(0))
        runs += 1

    assert after_first == (ImportStatus.QUEUED, 2, [(imports.RUN_TASK, batch.pk)])
    assert (counts(first), runs > 2) == (EXPECTED, True)


@pytest.mark.usefixtures("skipped_people")
def test_import_proposes_what_it_may_not_replace(event: ImportEvent, known_lead: Lead) -> None:
    imported(event)

    assert list(ProposedChange.objects.filter(lead=known_lead).values_list("field", "value")) == [
        ("job_title", "VP Sales")
    ]


@pytest.mark.usefixtures("known_lead", "skipped_people")
def test_each_new_lead_is_announced_once_after_the_commit(
    event: ImportEvent, django_capture_on_commit_callbacks: Any
) -> None:
    heard: list[tuple[str, int]] = []

    def listen(sender: object, *, event: str, lead_id: int, **kwargs: object) -> None:
        heard.append((event, lead_id))

    events.lead_event.connect(listen, dispatch_uid="test_imports.listen")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            imported(event)
    finally:
        events.lead_event.disconnect(dispatch_uid="test_imports.listen")

    new_leads = Lead.objects.filter(email__in=["ann@new.example", "cy@beta.example"]).values_list("pk", flat=True)
    assert sorted(lead_id for name, lead_id in heard if name == events.LEAD_CREATED) == sorted(new_leads)


@pytest.mark.usefixtures("skipped_people")
def test_a_chunk_whose_bulk_write_fails_is_imported_row_by_row(
    event: ImportEvent, known_lead: Lead, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(**kwargs: object) -> None:
        raise IntegrityError("someone inserted one of these people first")

    monkeypatch.setattr(imports, "write_in_bulk", refuse)

    batch = imported(event)

    known_lead.refresh_from_db()
    ann = Lead.objects.get(email="ann@new.example")
    assert counts(batch) == EXPECTED
    assert (known_lead.company_name, ann.consents.count(), ann.touches.count()) == ("Renamed Ltd", 1, 1)
    assert ann.pipeline_due_at is not None


def test_a_row_with_an_email_merges_into_the_phone_only_lead_with_its_phone(event: ImportEvent) -> None:
    lead = LeadFactory(email=None, phone=normalise_phone("+49 30 901820", country=""))
    batch = make_batch(event, "Email,Phone\npat@new.example,+49 30 901820\n")
    batch = imports.preview_import(batch=batch, mapping={"Email": "email", "Phone": "phone"})
    previewed = counts(batch)
    imports.start_import(batch=batch, now=FIXED_NOW)

    batch = imports.run_import(batch_id=batch.pk, clock=lambda: FIXED_NOW)

    lead.refresh_from_db()
    assert (previewed["merged_count"], batch.merged_count, batch.created_count) == (1, 1, 0)
    assert (lead.email, Lead.objects.count()) == ("pat@new.example", 1)


# --- Preview in the worker ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("known_lead", "skipped_people")
def test_preview_runs_in_the_worker_and_stores_the_counts(event: ImportEvent) -> None:
    batch = imports.start_preview(batch=make_batch(event), mapping=MAPPING, now=FIXED_NOW)
    queued_status = batch.status

    batch = imports.run_preview(batch_id=batch.pk, clock=lambda: FIXED_NOW)

    assert (queued_status, batch.status, counts(batch), batch.total_rows) == (
        ImportStatus.PREVIEWING,
        ImportStatus.PREVIEWED,
        EXPECTED,
        8,
    )


@pytest.mark.usefixtures("known_lead", "skipped_people")
def test_a_second_run_of_a_preview_finishing_late_leaves_the_started_import_alone(event: ImportEvent) -> None:
    batch = imports.start_preview(batch=make_batch(event), mapping=MAPPING, now=FIXED_NOW)
    as_the_second_run_read_it = LeadImport.objects.select_related("event").get(pk=batch.pk)
    imports.run_preview(batch_id=batch.pk, clock=lambda: FIXED_NOW)
    imports.start_import(batch=batch, now=FIXED_NOW)

    late = imports.preview_import(batch=as_the_second_run_read_it, mapping=MAPPING, clock=lambda: FIXED_NOW)

    assert late.status == ImportStatus.QUEUED
    assert imports.run_import(batch_id=batch.pk, clock=lambda: FIXED_NOW).status == ImportStatus.DONE


def test_a_preview_that_cannot_read_the_file_goes_back_to_the_mapping(event: ImportEvent) -> None:
    batch = imports.start_preview(batch=make_batch(event), mapping=MAPPING, now=FIXED_NOW)
    batch.file.save("scans.csv", ContentFile(b"\x00\x01binary"), save=True)

    batch = imports.run_preview(batch_id=batch.pk, clock=lambda: FIXED_NOW)

    assert (batch.status, batch.failure) == (
        ImportStatus.MAPPING,
        "This is not a CSV or XLSX file. Save the list as CSV (UTF-8) or Excel (.xlsx).",
    )


FILE_GONE = "The uploaded file is no longer stored: upload the list again."


def test_a_preview_whose_file_is_gone_goes_back_to_the_mapping_with_the_reason(event: ImportEvent) -> None:
    batch = imports.start_preview(batch=make_batch(event), mapping=MAPPING, now=FIXED_NOW)
    batch.file.storage.delete(batch.file.name)

    batch = imports.run_preview(batch_id=batch.pk, clock=lambda: FIXED_NOW)

    assert (batch.status, batch.failure) == (ImportStatus.MAPPING, FILE_GONE)


def test_an_import_resumed_without_its_file_fails_with_the_reason(event: ImportEvent) -> None:
    batch = imports.preview_import(batch=make_batch(event), mapping=MAPPING)
    imports.start_import(batch=batch, now=FIXED_NOW)
    LeadImport.objects.filter(pk=batch.pk).update(file="")

    batch = imports.run_import(batch_id=batch.pk, clock=lambda: FIXED_NOW)

    assert (batch.status, batch.failure) == (ImportStatus.FAILED, FILE_GONE.rstrip("."))  # the page adds its "."


def test_a_preview_whose_task_was_lost_is_queued_again(event: ImportEvent) -> None:
    batch = imports.start_preview(batch=make_batch(event), mapping=MAPPING, now=FIXED_NOW)

    queued = imports.resume_stalled_imports(now=FIXED_NOW + timedelta(seconds=imports.STALE_AFTER_SECONDS + 1))

    assert (queued, LeadImport.objects.get(pk=batch.pk).status) == (1, ImportStatus.PREVIEWING)


def test_an_erased_leads_address_is_suppressed_for_imports(event: ImportEvent) -> None:
    lead = LeadFactory(email="erased@old.example")
    erase_lead_personal_data(lead=lead, now=FIXED_NOW, by=None, reason="Asked by email on 1 March")

    batch = imports.preview_import(batch=make_batch(event, "Email\nerased@old.example\n"), mapping={"Email": "email"})

    assert (batch.suppressed_count, batch.created_count) == (1, 0)


PHONE_SCANS = "Phone,Name,Country\n020 7183 8750,Ada Phone,GB\n"
PHONE_MAPPING = {"Phone": "phone", "Name": FULL_NAME, "Country": "country"}


def import_file(event: ImportEvent, content: str, mapping: dict[str, str]) -> LeadImport:
    batch = imports.preview_import(batch=make_batch(event, content), mapping=mapping)
    imports.start_import(batch=batch, now=FIXED_NOW)
    return imports.run_import(batch_id=batch.pk, clock=lambda: FIXED_NOW)


def test_an_erased_phone_only_person_is_not_imported_again(event: ImportEvent) -> None:
    """Known only by a phone (typed another way in the list), erased: the next list holding it skips the row."""
    lead = LeadFactory(email=None, phone="+442071838750")
    erase_lead_personal_data(lead=lead, now=FIXED_NOW, by=None, reason="Asked by phone on 1 March")

    batch = import_file(event, PHONE_SCANS, PHONE_MAPPING)

    assert (batch.suppressed_count, batch.created_count) == (1, 0)
    assert not Lead.objects.filter(phone="+442071838750").exists()


def test_an_import_running_when_a_phone_only_person_is_erased_does_not_bring_them_back(
    event: ImportEvent, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chunk was read from the file before the erasure redacted it: the person is still skipped."""
    lead = LeadFactory(email=None, phone="+442071838750")
    batch = imports.preview_import(batch=make_batch(event, PHONE_SCANS), mapping=PHONE_MAPPING)
    imports.start_import(batch=batch, now=FIXED_NOW)
    checked = imports._checked

    def erased_once_read(chunk: Any, mapping: Any) -> Any:
        rows = checked(chunk, mapping)
        erase_lead_personal_data(lead=lead, now=FIXED_NOW, by=None, reason="Asked by phone on 1 March")
        return rows

    monkeypatch.setattr(imports, "_checked", erased_once_read)

    batch = imports.run_import(batch_id=batch.pk, clock=lambda: FIXED_NOW)

    assert (batch.suppressed_count, batch.created_count, batch.merged_count) == (1, 0, 0)
    assert not Lead.objects.filter(phone="+442071838750").exists()


def test_a_new_email_with_an_erased_persons_phone_is_imported_as_a_new_lead(event: ImportEvent) -> None:
    """The email names the row's person; a phone is often a switchboard that colleagues share."""
    lead = LeadFactory(email=None, phone="+442071838750")
    erase_lead_personal_data(lead=lead, now=FIXED_NOW, by=None, reason="Asked by phone on 1 March")
    content = "Email,Phone,Country\nbo@new.example,020 7183 8750,GB\n"

    batch = import_file(event, content, {**PHONE_MAPPING, "Email": "email"})

    assert (batch.suppressed_count, batch.created_count) == (0, 1)


# --- Undo (queued by the button, done by the worker) -------------------------------------------------------

UNDO_BUDGET = timedelta(minutes=1)


def undo(batch: LeadImport, *, now: datetime = FIXED_NOW) -> LeadImport:
    """What the Undo button and then the worker do."""
    imports.start_undo(batch=batch, by=None, now=now)
    return imports.run_undo(batch_id=batch.pk, clock=lambda: now, budget=UNDO_BUDGET)


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, int | None]]:
    """The tasks the code asks to queue (the test runs the worker itself)."""
    tasks: list[tuple[object, int | None]] = []
    monkeypatch.setattr(
        imports.services, "enqueue_after_commit", lambda task, object_id=None: tasks.append((task, object_id))
    )
    return tasks


@pytest.mark.usefixtures("known_lead", "skipped_people")
def test_undo_button_only_queues_the_undo(event: ImportEvent, queued: list[tuple[object, int | None]]) -> None:
    batch = imported(event)
    leads = Lead.objects.count()
    queued.clear()

    batch = imports.start_undo(batch=batch, by=None, now=FIXED_NOW)

    assert (batch.status, queued, Lead.objects.count()) == (
        ImportStatus.UNDOING,
        [(imports.UNDO_TASK, batch.pk)],
        leads,
    )


@pytest.mark.usefixtures("skipped_people")
def test_undo_removes_created_leads_and_restores_merged_values(event: ImportEvent, known_lead: Lead) -> None:
    leads_before = set(Lead.objects.values_list("email", flat=True))
    consents_before, touches_before = known_lead.consents.count(), Touch.objects.filter(lead=known_lead).count()
    batch = imported(event)

    batch = undo(batch, now=FIXED_NOW + timedelta(hours=1))

    known_lead.refresh_from_db()
    assert (batch.status, batch.undone_at) == (ImportStatus.UNDONE, FIXED_NOW + timedelta(hours=1))
    assert set(Lead.objects.values_list("email", flat=True)) == leads_before
    assert (known_lead.company_name, known_lead.field_sources["company_name"]["source"]) == ("Old Name Ltd", "person")
    assert (known_lead.consents.count(), Touch.objects.filter(lead=known_lead).count()) == (
        consents_before,
        touches_before,
    )
    assert (known_lead.first_touch_id, known_lead.first_touch_source) == (None, "")
    assert not known_lead.activities.filter(kind=ActivityKind.EVENT_BADGE_SCAN).exists()


@pytest.mark.usefixtures("known_lead", "skipped_people")
def test_undo_marks_the_import_undone_once(event: ImportEvent) -> None:
    batch = undo(imported(event))

    with pytest.raises(imports.ImportUndoRefusedError):
        imports.start_undo(batch=batch, by=None, now=FIXED_NOW)
    assert batch.status == ImportStatus.UNDONE


@pytest.mark.usefixtures("skipped_people")
def test_undo_keeps_a_value_changed_since_the_import(event: ImportEvent, known_lead: Lead) -> None:
    batch = imported(event)
    Lead.objects.filter(pk=known_lead.pk).update(company_name="Renamed Again Ltd")

    undo(batch)

    known_lead.refresh_from_db()
    assert known_lead.company_name == "Renamed Again Ltd"


@pytest.mark.usefixtures("known_lead", "skipped_people")
def test_undo_is_refused_once_a_lead_of_the_import_is_assigned(
    event: ImportEvent, queued: list[tuple[object, int | None]]
) -> None:
    batch = imported(event)
    queued.clear()
    Lead.objects.filter(email="cy@beta.example").update(owner=UserFactory(username="rep9"))

    with pytest.raises(imports.ImportUndoRefusedError, match="assigned to a rep"):
        imports.start_undo(batch=batch, by=None, now=FIXED_NOW)
    assert (LeadImport.objects.get(pk=batch.pk).status, queued) == (ImportStatus.DONE, [])
    assert Lead.objects.filter(email="cy@beta.example").exists()


@pytest.mark.usefixtures("skipped_people")
def test_undo_is_not_refused_by_an_owner_the_lead_had_before(event: ImportEvent, known_lead: Lead) -> None:
    Lead.objects.filter(pk=known_lead.pk).update(owner=UserFactory(username="rep9"))
    batch = imported(event)

    assert imports.undo_blockers(batch=batch) == []


@pytest.mark.usefixtures("skipped_people")
def test_a_lead_assigned_after_the_undo_was_queued_is_kept_with_what_the_import_gave(
    event: ImportEvent, known_lead: Lead
) -> None:
    batch = imports.start_undo(batch=imported(event), by=None, now=FIXED_NOW)
    Lead.objects.filter(email="cy@beta.example").update(owner=UserFactory(username="rep9"))

    batch = imports.run_undo(batch_id=batch.pk, clock=lambda: FIXED_NOW, budget=UNDO_BUDGET)

    cy = Lead.objects.get(email="cy@beta.example")
    known_lead.refresh_from_db()
    assert (batch.status, imports.kept_by_undo(batch=batch)) == (ImportStatus.UNDONE, 1)
    assert (cy.consents.count(), cy.touches.count(), cy.imports.get().batch_id) == (1, 1, batch.pk)
    assert not Lead.objects.filter(email="ann@new.example").exists()
    assert known_lead.company_name == "Old Name Ltd"


@pytest.mark.usefixtures("known_lead", "skipped_people")
def test_undo_takes_a_chunk_per_run_and_queues_the_next_when_its_time_is_up(
    event: ImportEvent, monkeypatch: pytest.MonkeyPatch, queued: list[tuple[object, int | None]]
) -> None:
    monkeypatch.setattr(imports, "UNDO_CHUNK_LEADS", 1)
    batch = imports.start_undo(batch=imported(event), by=None, now=FIXED_NOW)
    queued.clear()

    first = imports.run_undo(batch_id=batch.pk, clock=lambda: FIXED_NOW, budget=timedelta(0))
    progress = imports.undo_progress(batch=first)
    while first.status == ImportStatus.UNDOING:
        first = imports.run_undo(batch_id=batch.pk, clock=lambda: FIXED_NOW, budget=timedelta(0))

    assert (progress, queued[0]) == ((1, 3), (imports.UNDO_TASK, batch.pk))
    assert (first.status, Lead.objects.filter(email__in=["ann@new.example", "cy@beta.example"]).count()) == (
        ImportStatus.UNDONE,
        0,
    )


@pytest.mark.usefixtures("skipped_people")
def test_running_a_finished_undo_again_changes_nothing(event: ImportEvent, known_lead: Lead) -> None:
    batch = undo(imported(event))
    Lead.objects.filter(pk=known_lead.pk).update(company_name="Renamed Again Ltd")

    again = imports.run_undo(batch_id=batch.pk, clock=lambda: FIXED_NOW + timedelta(hours=1), budget=UNDO_BUDGET)

    known_lead.refresh_from_db()
    assert (again.status, again.undone_at, known_lead.company_name) == (
        ImportStatus.UNDONE,
        FIXED_NOW,
        "Renamed Again Ltd",
    )


@pytest.mark.usefixtures("known_lead", "skipped_people")
def test_an_undo_whose_task_was_lost_is_queued_again(
    event: ImportEvent, queued: list[tuple[object, int | None]]
) -> None:
    batch = imports.start_undo(batch=imported(event), by=None, now=FIXED_NOW)
    queued.clear()

    found = imports.resume_stalled_imports(now=FIXED_NOW + timedelta(seconds=imports.STALE_AFTER_SECONDS + 1))

    assert (found, queued) == (1, [(imports.UNDO_TASK, batch.pk)])


@pytest.mark.usefixtures("known_lead", "skipped_people")
def test_an_undo_in_progress_is_not_queued_again(event: ImportEvent, queued: list[tuple[object, int | None]]) -> None:
    imports.start_undo(batch=imported(event), by=None, now=FIXED_NOW)
    queued.clear()

    found = imports.resume_stalled_imports(now=FIXED_NOW + timedelta(seconds=imports.STALE_AFTER_SECONDS - 1))

    assert (found, queued) == (0, [])


# --- Files ------------------------------------------------------------------------------------------------


def test_xlsx_rows_are_read_as_text() -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Email", "Phone"])
    sheet.append(["eve@acme.example", 4930123456.0])
    buffer = io.BytesIO()
    workbook.save(buffer)

    table = read_table(io.BytesIO(buffer.getvalue()), name="scans.xlsx")

    assert list(table.rows()) == [(2, {"Email": "eve@acme.example", "Phone": "4930123456"})]


def test_semicolon_csv_is_read() -> None:
    table = read_table(io.BytesIO(b"Email;Company\neve@acme.example;Acme\n"), name="scans.csv")

    assert list(table.rows()) == [(2, {"Email": "eve@acme.example", "Company": "Acme"})]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"Email,Email\na@b.example,c@d.example\n", "same name"),
        (b"Email,Company\n", "no rows"),
        (b"\x00\x01\x02binary", "not a CSV"),
        # A NUL past the first bytes: no column can hold it, and an inbox cursor could not name it.
        (b"Email,Company\n" + b"a@b.example,Acme\n" * 400 + b"c@d.example,Ac\x00me\n", "not a CSV"),
    ],
)
def test_unreadable_files_are_refused_with_a_reason(content: bytes, message: str) -> None:
    with pytest.raises(ImportFileError, match=message):
        read_table(io.BytesIO(content), name="list.csv")
