"""Erasure redacts the person's rows in the stored uploads of imports, keeping each import's rows, counts and undo."""

from __future__ import annotations

import io
import os
from collections.abc import Collection

import pytest
from openpyxl import Workbook, load_workbook

from leads import imports
from leads.import_files import ERASED_CELL, ERASED_ROW_MESSAGE, Table, read_table, redact_rows
from leads.models import ImportEvent, ImportStatus, Lead, LeadImport
from leads.services import erase_lead_personal_data
from leads.tests.factories import FIXED_NOW, LeadFactory
from leads.tests.test_imports import MAPPING, counts, event, imported, known_lead, make_batch, skipped_people

__all__ = ["event", "known_lead", "skipped_people"]  # fixtures of the import tests, used here

pytestmark = pytest.mark.django_db


def erase(lead: Lead) -> None:
    erase_lead_personal_data(lead=lead, now=FIXED_NOW, by=None, reason="Asked by email on 1 March")


def stored_text(batch: LeadImport) -> str:
    batch.refresh_from_db()
    with batch.file.open("rb") as handle:
        return handle.read().decode()


def test_erasure_redacts_the_persons_row_in_the_upload_that_imported_them(
    event: ImportEvent, known_lead: Lead, skipped_people: None
) -> None:
    batch = imported(event)

    erase(known_lead)

    text = stored_text(batch)
    assert "known@old.example" not in text and "Known Person" not in text
    assert ",".join([ERASED_CELL] * 6) in text
    assert "cy@beta.example,Cy Young,Beta,,France," in text  # the other rows as they were


def test_a_redacted_upload_keeps_its_rows_numbered_and_its_import_counts_and_undo_records(
    event: ImportEvent, known_lead: Lead, skipped_people: None
) -> None:
    batch = imported(event)
    before = (counts(batch), list(batch.imported_leads.values_list("row", "lead_id")))

    erase(known_lead)

    batch = LeadImport.objects.get(pk=batch.pk)
    with batch.file.open("rb") as handle:
        table = read_table(handle, name=batch.file_name)
    assert [number for number, _ in table.rows()] == [2, 3, 4, 5, 6, 7, 8, 9]
    assert (counts(batch), list(batch.imported_leads.values_list("row", "lead_id"))) == before


def test_erasure_redacts_the_row_messages_that_quote_the_person(event: ImportEvent, skipped_people: None) -> None:
    batch = imported(event)  # Ann's second row was skipped: "ann@new.example appears on an earlier row"
    ann = Lead.objects.get(email="ann@new.example")

    erase(ann)

    batch.refresh_from_db()
    assert "ann@new.example" not in str(batch.row_errors)
    assert {"row": 3, "kind": "duplicate", "message": ERASED_ROW_MESSAGE} in batch.row_errors


def test_a_file_previewed_before_the_erasure_imports_the_erased_row_as_a_skipped_one(
    event: ImportEvent, known_lead: Lead, skipped_people: None
) -> None:
    cy = LeadFactory(email="cy@beta.example")
    batch = imports.preview_import(batch=make_batch(event), mapping=MAPPING)

    erase(cy)
    imports.start_import(batch=batch, now=FIXED_NOW)
    batch = imports.run_import(batch_id=batch.pk, clock=lambda: FIXED_NOW)

    assert (batch.status, batch.processed_rows, batch.total_rows) == (ImportStatus.DONE, 8, 8)
    assert (batch.created_count, batch.suppressed_count) == (1, 2)
    assert {"row": 9, "kind": "suppressed", "message": ERASED_ROW_MESSAGE} in batch.row_errors
    assert "cy@beta.example" not in stored_text(batch)


def test_a_phone_only_persons_rows_are_found_by_the_phone_as_the_import_read_it(event: ImportEvent) -> None:
    lead = LeadFactory(email=None, phone="+442071838750")
    content = "Phone,Name,Country\n020 7183 8750,Pat Phone,GB\n020 7183 8751,Other Person,GB\n"
    batch = imports.preview_import(batch=make_batch(event, content), mapping={"Phone": "phone", "Name": "full_name",
                                                                              "Country": "country"})  # fmt: skip

    erase(lead)

    text = stored_text(batch)
    assert "Pat Phone" not in text and "7183 8750" not in text
    assert "020 7183 8751,Other Person,GB" in text


def test_a_row_with_a_new_email_beside_an_erased_phone_only_persons_phone_stays_in_the_upload(
    event: ImportEvent,
) -> None:
    """The import keys that row on its email (it imports it as a new lead): it is not the erased person's row."""
    lead = LeadFactory(email=None, phone="+442071838750")
    content = "Email,Phone,Country\nbo@new.example,020 7183 8750,GB\n,020 7183 8750,GB\n"
    mapping = {"Email": "email", "Phone": "phone", "Country": "country"}
    batch = imports.preview_import(batch=make_batch(event, content), mapping=mapping)

    erase(lead)

    assert stored_text(batch).splitlines()[1:] == ["bo@new.example,020 7183 8750,GB", ",".join([ERASED_CELL] * 3)]


def test_a_row_the_import_refuses_for_another_reason_is_redacted_when_it_holds_the_persons_email(
    event: ImportEvent,
) -> None:
    """An unknown country makes the row an error, but the row still names the person."""
    lead = LeadFactory(email="ada@acme.example")
    content = "Email,Name,Country\nada@acme.example,Ada Lovelace,Narnia\nbo@acme.example,Bo Smith,GB\n"
    mapping = {"Email": "email", "Name": "full_name", "Country": "country"}
    batch = imports.preview_import(batch=make_batch(event, content), mapping=mapping)

    erase(lead)

    text = stored_text(batch)
    assert "Ada Lovelace" not in text and "bo@acme.example,Bo Smith,GB" in text


def test_erasure_redacts_the_persons_row_in_an_excel_upload(event: ImportEvent) -> None:
    lead = LeadFactory(email="ada@acme.example")
    workbook = Workbook()
    for row in (["Email", "Name"], ["ada@acme.example", "Ada Lovelace"], ["bo@acme.example", "Bo Smith"]):
        workbook.active.append(row)
    content = io.BytesIO()
    workbook.save(content)
    batch = make_batch(event, content.getvalue(), name="scans.xlsx")  # still being mapped: the guessed mapping

    erase(lead)

    batch.refresh_from_db()
    with batch.file.open("rb") as handle:
        rows = list(load_workbook(handle).worksheets[0].iter_rows(values_only=True))
    assert rows == [("Email", "Name"), (ERASED_CELL, ERASED_CELL), ("bo@acme.example", "Bo Smith")]


def test_erasure_redacts_the_row_messages_of_an_import_whose_upload_was_deleted(
    event: ImportEvent, skipped_people: None
) -> None:
    batch = imported(event)  # Ann's second row was skipped: "ann@new.example appears on an earlier row"
    LeadImport.objects.filter(pk=batch.pk).update(file="", file_deleted_at=FIXED_NOW)
    ann = Lead.objects.get(email="ann@new.example")

    erase(ann)

    batch.refresh_from_db()
    assert "ann@new.example" not in str(batch.row_errors).lower()
    assert {"row": 3, "kind": "duplicate", "message": ERASED_ROW_MESSAGE} in batch.row_errors
    assert (batch.file.name, batch.file_deleted_at) == ("", FIXED_NOW)


def test_erasure_redacts_the_row_messages_of_an_import_whose_stored_file_is_missing(
    event: ImportEvent, skipped_people: None
) -> None:
    batch = imported(event)
    batch.file.storage.delete(batch.file.name)
    ann = Lead.objects.get(email="ann@new.example")

    erase(ann)

    batch.refresh_from_db()
    assert "ann@new.example" not in str(batch.row_errors).lower()


def test_an_upload_deleted_while_erasure_redacts_it_stays_deleted_and_leaves_no_redacted_copy(
    event: ImportEvent, known_lead: Lead, skipped_people: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = imported(event)
    folder = os.path.dirname(batch.file.path)
    files_before = set(os.listdir(folder))

    def redact_as_retention_deletes(table: Table, rows: Collection[int]) -> bytes:
        # The retention policy deletes the file between erasure's read and its write (two workers, PostgreSQL).
        LeadImport.objects.filter(pk=batch.pk).update(file="", file_deleted_at=FIXED_NOW)
        return redact_rows(table, rows)

    monkeypatch.setattr("leads.import_erasure.redact_rows", redact_as_retention_deletes)

    erase(known_lead)

    batch.refresh_from_db()
    assert (batch.file.name, batch.file_deleted_at) == ("", FIXED_NOW)
    assert set(os.listdir(folder)) == files_before
