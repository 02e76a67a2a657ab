"""Importing a badge-scan list: preview, import through the capture service, skips, merges and undo."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from openpyxl import Workbook

from leads import imports
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
    Touch,
)
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


def test_an_erased_leads_address_is_suppressed_for_imports(event: ImportEvent) -> None:
    lead = LeadFactory(email="erased@old.example")
    erase_lead_personal_data(lead=lead, now=FIXED_NOW, by=None, reason="Asked by email on 1 March")

    batch = imports.preview_import(batch=make_batch(event, "Email\nerased@old.example\n"), mapping={"Email": "email"})

    assert (batch.suppressed_count, batch.created_count) == (1, 0)


# --- Undo -------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("skipped_people")
def test_undo_removes_created_leads_and_restores_merged_values(event: ImportEvent, known_lead: Lead) -> None:
    leads_before = set(Lead.objects.values_list("email", flat=True))
    consents_before, touches_before = known_lead.consents.count(), Touch.objects.filter(lead=known_lead).count()
    batch = imported(event)

    imports.undo_import(batch=batch, by=None, now=FIXED_NOW + timedelta(hours=1))

    known_lead.refresh_from_db()
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
    batch = imported(event)
    imports.undo_import(batch=batch, by=None, now=FIXED_NOW)

    with pytest.raises(imports.ImportUndoRefusedError):
        imports.undo_import(batch=batch, by=None, now=FIXED_NOW)
    assert batch.status == ImportStatus.UNDONE


@pytest.mark.usefixtures("skipped_people")
def test_undo_keeps_a_value_changed_since_the_import(event: ImportEvent, known_lead: Lead) -> None:
    batch = imported(event)
    Lead.objects.filter(pk=known_lead.pk).update(company_name="Renamed Again Ltd")

    imports.undo_import(batch=batch, by=None, now=FIXED_NOW)

    known_lead.refresh_from_db()
    assert known_lead.company_name == "Renamed Again Ltd"


@pytest.mark.usefixtures("known_lead", "skipped_people")
def test_undo_is_refused_once_a_lead_of_the_import_is_assigned(event: ImportEvent) -> None:
    batch = imported(event)
    Lead.objects.filter(email="cy@beta.example").update(owner=UserFactory(username="rep9"))

    with pytest.raises(imports.ImportUndoRefusedError, match="assigned to a rep"):
        imports.undo_import(batch=batch, by=None, now=FIXED_NOW)
    assert Lead.objects.filter(email="cy@beta.example").exists()


@pytest.mark.usefixtures("skipped_people")
def test_undo_is_not_refused_by_an_owner_the_lead_had_before(event: ImportEvent, known_lead: Lead) -> None:
    Lead.objects.filter(pk=known_lead.pk).update(owner=UserFactory(username="rep9"))
    batch = imported(event)

    assert imports.undo_blockers(batch=batch) == []


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
    ],
)
def test_unreadable_files_are_refused_with_a_reason(content: bytes, message: str) -> None:
    with pytest.raises(ImportFileError, match=message):
        read_table(io.BytesIO(content), name="list.csv")
