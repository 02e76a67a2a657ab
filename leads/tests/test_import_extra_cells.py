"""A row with cells beyond the last named column (a shifted row, an unquoted "Acme, Inc") is refused, not imported."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from leads import imports
from leads.import_files import ERASED_CELL, read_table
from leads.models import ImportEvent, ImportStatus, Lead
from leads.tests.factories import FIXED_NOW
from leads.tests.test_imports import counts, event, make_batch

__all__ = ["event"]  # a fixture of the import tests, used here

pytestmark = pytest.mark.django_db

SHIFTED = (
    "Email,Name,Company,Title\n"
    "ann@new.example,Ann Smith,Newco,CTO\n"
    "bob@acme.example,Bob Stone,Acme, Inc,VP Sales\n"  # the unquoted comma moves the title to a fifth cell
    "cy@beta.example,Cy Young,Beta,CFO,hot,follow up\n"
)
MAPPING = {"Email": "email", "Name": "full_name", "Company": "company_name", "Title": "job_title"}
NO_ROWS_SKIPPED = {"created_count": 0, "merged_count": 0, "withdrawn_count": 0, "suppressed_count": 0,
                   "duplicate_count": 0, "error_count": 0}  # fmt: skip


def test_preview_names_each_row_with_extra_cells_and_how_many(event: ImportEvent) -> None:
    batch = imports.preview_import(batch=make_batch(event, SHIFTED), mapping=MAPPING)

    assert [(m["row"], m["kind"]) for m in batch.row_errors] == [(3, "error"), (4, "error")]
    assert batch.row_errors[0]["message"].startswith("Row 3 has 1 cell beyond the last named column")
    assert batch.row_errors[1]["message"].startswith("Row 4 has 2 cells beyond the last named column")


def test_preview_counts_rows_with_extra_cells_as_rows_not_imported(event: ImportEvent) -> None:
    batch = imports.preview_import(batch=make_batch(event, SHIFTED), mapping=MAPPING)

    assert counts(batch) == {**NO_ROWS_SKIPPED, "created_count": 1, "error_count": 2}


def test_import_skips_rows_with_extra_cells_and_stores_none_of_their_values(event: ImportEvent) -> None:
    batch = imports.preview_import(batch=make_batch(event, SHIFTED), mapping=MAPPING)
    imports.start_import(batch=batch, now=FIXED_NOW)

    batch = imports.run_import(batch_id=batch.pk, clock=lambda: FIXED_NOW)

    assert (batch.status, counts(batch)) == (
        ImportStatus.DONE,
        {**NO_ROWS_SKIPPED, "created_count": 1, "error_count": 2},
    )
    assert list(Lead.objects.values_list("email", "company_name", "job_title")) == [("ann@new.example", "Newco", "CTO")]
    assert [m["row"] for m in batch.row_errors] == [3, 4]


def test_empty_cells_at_the_end_of_a_row_are_not_extra_cells(event: ImportEvent) -> None:
    content = "Email,Company\nann@new.example,Newco,,\nbob@acme.example,Acme\n"

    batch = imports.preview_import(
        batch=make_batch(event, content), mapping={"Email": "email", "Company": "company_name"}
    )

    assert (counts(batch)["created_count"], batch.row_errors) == (2, [])


def test_an_xlsx_row_wider_than_the_header_is_the_only_one_refused(event: ImportEvent) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Email", "Company"])
    sheet.append(["ann@new.example", "Newco"])
    sheet.append(["bob@acme.example", "Acme", "Inc"])  # every other row is padded to this width when read
    buffer = io.BytesIO()
    workbook.save(buffer)

    batch = imports.preview_import(
        batch=make_batch(event, buffer.getvalue(), name="scans.xlsx"),
        mapping={"Email": "email", "Company": "company_name"},
    )

    assert (counts(batch)["created_count"], [m["row"] for m in batch.row_errors]) == (1, [3])


def test_reading_a_row_with_extra_cells_says_how_many() -> None:
    table = read_table(io.BytesIO(SHIFTED.encode()), name="scans.csv")

    assert [extra for _, _, extra in table.rows_with_extra_cells()] == [0, 1, 2]


def test_an_erased_row_that_had_extra_cells_is_skipped_as_erased() -> None:
    redacted = {"Email": ERASED_CELL, "Name": ERASED_CELL, "Company": ERASED_CELL, "Title": ERASED_CELL}

    checked = imports.check_row(3, redacted, MAPPING, extra_cells=1)

    assert (checked.is_erased, checked.error) == (True, "")
