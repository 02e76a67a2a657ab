"""Reading an uploaded list (CSV or XLSX) as a header and rows of text, guessing its column mapping, and redacting
an erased person's rows in it.

No ORM: ``leads.imports`` decides what the rows mean. A file that cannot be read raises ``ImportFileError``
with a message for the person who uploaded it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import IO, NamedTuple

from openpyxl import load_workbook
from openpyxl.cell.cell import MergedCell
from openpyxl.utils.exceptions import InvalidFileException

MAX_ROWS = 200_000
CSV_DELIMITERS = ",;\t|"
# What every cell of an erased person's row holds once erasure has redacted a stored upload (``redact_rows``).
ERASED_CELL = "[erased]"
# What an import's row messages say of a row erasure redacted (and an import says of such a row it reaches).
ERASED_ROW_MESSAGE = "Erased on request: not imported."


class ImportFileError(ValueError):
    """The file is not a list we can read; the message says why, for the person who uploaded it."""


# What a column may become: a lead field, a custom answer under the column's own key, or nothing.
IGNORE = ""
FULL_NAME = "full_name"
ANSWER_PREFIX = "answer:"
LEAD_FIELDS: tuple[tuple[str, str], ...] = (
    ("email", "Email"),
    ("phone", "Phone"),
    ("first_name", "First name"),
    ("last_name", "Last name"),
    (FULL_NAME, "Full name (split at the last space)"),
    ("company_name", "Company"),
    ("company_domain", "Company domain"),
    ("job_title", "Job title"),
    ("industry", "Industry"),
    ("country", "Country (code or name)"),
)
TARGET_CHOICES: tuple[tuple[str, str], ...] = (
    (IGNORE, "— do not import —"),
    *LEAD_FIELDS,
    (ANSWER_PREFIX, "Custom answer (keyed by the column name)"),
)

# Header spellings seen on badge-scanner exports and CRM lists, compared after folding to letters only.
_GUESSES: Mapping[str, str] = {
    "email": "email", "emailaddress": "email", "mail": "email", "workemail": "email", "businessemail": "email",
    "phone": "phone", "phonenumber": "phone", "telephone": "phone", "mobile": "phone", "tel": "phone",
    "firstname": "first_name", "givenname": "first_name", "forename": "first_name", "first": "first_name",
    "lastname": "last_name", "surname": "last_name", "familyname": "last_name", "last": "last_name",
    "name": FULL_NAME, "fullname": FULL_NAME, "contactname": FULL_NAME, "attendee": FULL_NAME,
    "company": "company_name", "companyname": "company_name", "organisation": "company_name",
    "organization": "company_name", "account": "company_name", "employer": "company_name",
    "domain": "company_domain", "companydomain": "company_domain", "website": "company_domain",
    "jobtitle": "job_title", "title": "job_title", "position": "job_title", "role": "job_title",
    "country": "country", "countrycode": "country", "industry": "industry", "sector": "industry",
}  # fmt: skip


@dataclass(frozen=True)
class Table:
    """The header row and a way to read the rows after it (row numbers as a spreadsheet shows them)."""

    columns: list[str]
    content: bytes
    is_xlsx: bool
    row_count: int = 0  # the data rows, blank lines left out (``read_table`` counts them)

    def rows(self, *, start: int = 0) -> Iterator[tuple[int, dict[str, str]]]:
        """Each data row from the ``start``-th on (0-based, blank lines not counted: as an import counts the rows
        it has done), as (its row number in the file, column → text)."""
        for number, values, _ in self.rows_with_extra_cells(start=start):
            yield number, values

    def rows_with_extra_cells(self, *, start: int = 0) -> Iterator[FileRow]:
        """``rows``, with how many cells each row has beyond the last named column (empty ones at its end aside)."""
        reader = _xlsx_rows(self.content) if self.is_xlsx else _csv_rows(self.content)
        next(reader, None)  # the header
        skipped = 0
        for index, cells in enumerate(reader):
            if not any(cell.strip() for cell in cells):
                continue  # blank lines say nothing; their row numbers still count
            if skipped < start:
                skipped += 1
                continue
            values = {column: (cells[i].strip() if i < len(cells) else "") for i, column in enumerate(self.columns)}
            yield FileRow(index + 2, values, _extra_cells(cells, width=len(self.columns)))


class FileRow(NamedTuple):
    """A data row of the file: its number as a spreadsheet shows it, its named columns' text, and how many cells it
    has beyond them (a shifted row, or a value with an unquoted delimiter: "Acme, Inc")."""

    number: int
    values: dict[str, str]
    extra_cells: int


def _extra_cells(cells: list[str], *, width: int) -> int:
    # Empty cells at the end are no data: Excel pads every row to the widest one, some exports end rows with ",".
    last = len(cells)
    while last > width and not cells[last - 1].strip():
        last -= 1
    return max(last - width, 0)


def read_table(file: IO[bytes], *, name: str) -> Table:
    """Read an uploaded CSV or XLSX file; raises ``ImportFileError`` when it is neither, is empty or too long."""
    content = file.read()
    is_xlsx = _is_xlsx(content, name=name)
    reader = _xlsx_rows(content) if is_xlsx else _csv_rows(content)
    header = next(reader, None)
    columns = [cell.strip() for cell in header or []]
    while columns and not columns[-1]:
        columns.pop()
    if not columns:
        raise ImportFileError("The file is empty: its first row must name the columns (e.g. Email, Company).")
    missing = [str(number) for number, column in enumerate(columns, 1) if not column]
    if missing:
        raise ImportFileError(f"Column(s) {', '.join(missing)} of the first row have no name; name every column.")
    repeated = sorted({column for column in columns if columns.count(column) > 1})
    if repeated:
        raise ImportFileError(f"Two columns have the same name: {', '.join(repeated)}. Rename one of them.")
    table = Table(columns=columns, content=content, is_xlsx=is_xlsx)
    count = sum(1 for _ in table.rows())
    table = replace(table, row_count=count)
    if count == 0:
        raise ImportFileError("The file has a header but no rows.")
    if count > MAX_ROWS:
        raise ImportFileError(f"The file has {count:,} rows; import at most {MAX_ROWS:,} at a time.")
    return table


def reopen_table(file: IO[bytes], *, name: str, columns: list[str]) -> Table:
    """A file ``read_table`` accepted at upload, opened again for its rows: not checked or counted again."""
    content = file.read()
    return Table(columns=columns, content=content, is_xlsx=_is_xlsx(content, name=name))


def redact_rows(table: Table, rows: Collection[int]) -> bytes:
    """The file with every cell of ``rows`` (row numbers as ``Table.rows`` gives them) replaced by ``ERASED_CELL``.

    The rows stay, so every row keeps its number and a file read part way (an import's ``processed_rows``) goes on
    from the same row. A CSV file is written back as UTF-8 with the delimiter it was read with.
    """
    if table.is_xlsx:
        return _redacted_xlsx(table.content, rows, width=len(table.columns))
    text = _decoded(table.content)
    dialect = _dialect(text)
    out = io.StringIO(newline="")
    # Quoted as Excel does (a doubled quote inside quotes), whatever the sniffer made of the file's quoting.
    writer = csv.writer(out, delimiter=dialect.delimiter, quotechar='"', doublequote=True, lineterminator="\r\n")
    for index, cells in enumerate(csv.reader(io.StringIO(text, newline=""), dialect)):
        writer.writerow([ERASED_CELL] * max(len(cells), len(table.columns)) if index + 1 in rows else cells)
    return out.getvalue().encode()


def _redacted_xlsx(content: bytes, rows: Collection[int], *, width: int) -> bytes:
    workbook = load_workbook(io.BytesIO(content))
    sheet = workbook.worksheets[0]
    for index, cells in enumerate(sheet.iter_rows(max_col=max(width, sheet.max_column))):
        if index + 1 in rows:  # the header is row 1
            for cell in cells:
                if not isinstance(cell, MergedCell):
                    cell.value = ERASED_CELL
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _is_xlsx(content: bytes, *, name: str) -> bool:
    return name.lower().endswith((".xlsx", ".xlsm")) or content[:4] == b"PK\x03\x04"


def guess_mapping(columns: list[str], *, remembered: Mapping[str, str]) -> dict[str, str]:
    """The mapping to offer: what this event's last file used for the same column, else a guess from its name."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for column in columns:
        target = remembered.get(column)
        if target is None:
            target = _GUESSES.get(_folded(column), IGNORE)
            if target in taken:
                target = IGNORE
        mapping[column] = target
        if target and target != ANSWER_PREFIX:
            taken.add(target)
    return mapping


def _folded(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


def _csv_rows(content: bytes) -> Iterator[list[str]]:
    text = _decoded(content)
    dialect = _dialect(text)
    try:
        yield from csv.reader(io.StringIO(text, newline=""), dialect)
    except csv.Error as error:
        raise ImportFileError(f"The file is not a readable CSV file: {error}.") from None


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(text[:20_000], delimiters=CSV_DELIMITERS)
    except csv.Error:
        return csv.excel


def _decoded(content: bytes) -> str:
    # A NUL byte anywhere: a binary file, or a text no database column could hold (PostgreSQL refuses it).
    if b"\x00" in content:
        raise ImportFileError("This is not a CSV or XLSX file. Save the list as CSV (UTF-8) or Excel (.xlsx).")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel's "CSV" on Windows saves in the Windows code page; every byte decodes there.
        return content.decode("cp1252", errors="replace")


def _xlsx_rows(content: bytes) -> Iterator[list[str]]:
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (InvalidFileException, KeyError, OSError, ValueError) as error:
        raise ImportFileError(f"The Excel file cannot be read ({error}); save it again as .xlsx.") from None
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield [_cell_text(value) for value in row]
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone number or an id typed into a number cell
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
