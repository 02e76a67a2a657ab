"""Erasure's part in the stored uploads of imports: the erased person's rows are redacted in each file holding them.

An upload stays stored after its import (``LeadImport.file``: the mapping page shows its first rows, a preview
or an import reads it in runs). Taking the person's rows out would renumber every row after them, which the
import's progress (``processed_rows``), its row messages and its undo records (``ImportedLead.row``) count on.
So the rows stay, each cell replaced by ``ERASED_CELL``: a preview or import that reaches one skips it as erased
(counted with the suppressed rows), and the messages the import kept about those rows (they quote the address)
say only that. The import's counts and undo records stay as they are (erasure blanks the values undo kept).

The files looked at are those that may hold the person: the uploads that imported them, those still being mapped,
previewed or imported (or failed or undone), and those whose row messages quote the address or phone. Rows are
found by the erased lead's import rows and by the file's email column (its phone column for a phone-only person:
a phone on a lead with an address may be the firm's switchboard). An import whose file is gone (deleted by the
retention policy for import uploads, ``leads.import_retention``, or missing from storage) has only its messages
redacted: those of the rows it recorded for the person and those that quote the address or phone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q

from leads.import_countries import country_code
from leads.import_files import ImportFileError, Table, guess_mapping, redact_rows, reopen_table
from leads.models import ImportedLead, ImportStatus, LeadImport
from leads.normalise import normalise_email, normalise_phone

# What the import's row messages say of a row erasure redacted (and an import says of such a row it reaches).
ERASED_ROW_MESSAGE = "Erased on request: not imported."
# Imports whose file may hold anyone's row without the import having recorded it: every such file is looked at.
_UNRECORDED = (
    ImportStatus.MAPPING, ImportStatus.PREVIEWING, ImportStatus.PREVIEWED, ImportStatus.QUEUED, ImportStatus.RUNNING,
    ImportStatus.FAILED, ImportStatus.UNDOING, ImportStatus.UNDONE,
)  # fmt: skip


def erase_from_uploads(*, lead_id: int, email: str | None, phone: str) -> int:
    """Redact the person's rows in every stored upload that holds them; returns how many rows were redacted.

    Runs in the erasure's transaction; the files replaced are deleted once it commits (a rollback keeps them).
    """
    linked: dict[int, set[int]] = defaultdict(set)
    for batch_id, row in ImportedLead.objects.filter(lead_id=lead_id).values_list("batch_id", "row"):
        linked[batch_id].add(row)
    phone = "" if email else phone
    # An import whose file was deleted (``leads.import_retention``) may still quote the person in its messages.
    may_hold = Q(pk__in=list(linked)) | (Q(status__in=_UNRECORDED) & ~Q(file=""))
    for value in (email, phone):
        if value:
            may_hold |= Q(row_errors__icontains=value)
    redacted = 0
    for batch in LeadImport.objects.select_related("event").filter(may_hold).order_by("pk"):
        redacted += _erase_from_upload(batch, rows=linked.get(batch.pk, set()), email=email or "", phone=phone)
    return redacted


def _erase_from_upload(batch: LeadImport, *, rows: set[int], email: str, phone: str) -> int:
    if not batch.file:
        _erase_from_messages(batch, rows=rows, email=email, phone=phone)
        return 0
    try:
        with batch.file.open("rb") as handle:
            table = reopen_table(handle, name=batch.file_name, columns=batch.columns)
        rows = rows | _rows_holding(table, _mapping_of(batch), email=email, phone=phone)
    except (ImportFileError, OSError):
        # A file nobody can read (or gone from storage): no import reads it either, but its messages may quote them.
        _erase_from_messages(batch, rows=rows, email=email, phone=phone)
        return 0
    if not rows:
        return 0
    old_name, storage = batch.file.name or "", batch.file.storage  # not blank: only stored uploads are read
    batch.file.save(batch.file_name, ContentFile(redact_rows(table, rows)), save=False)
    messages = [_redacted(message, rows) for message in batch.row_errors or []]
    # A preview in progress remembers who its rows were, to tell a repeated row.
    seen = {kind: [value for value in values if value not in (email, phone)]
            for kind, values in (batch.preview_seen or {}).items()}  # fmt: skip
    new_name = batch.file.name or ""
    kept = LeadImport.objects.filter(pk=batch.pk, file=old_name).update(
        file=new_name, row_errors=messages, preview_seen=seen
    )
    if not kept:  # the retention policy deleted the file meanwhile: it stays deleted, the redacted copy goes too
        storage.delete(new_name)
        batch.refresh_from_db()
        _erase_from_messages(batch, rows=rows, email=email, phone=phone)
        return 0
    transaction.on_commit(lambda: storage.delete(old_name))
    return len(rows)


def _erase_from_messages(batch: LeadImport, *, rows: set[int], email: str, phone: str) -> None:
    """With no file to read, the person's rows are those the import recorded and those its messages quote."""
    quoted = [value.lower() for value in (email, phone) if value]
    messages = [_redacted(message, rows, quoting=quoted) for message in batch.row_errors or []]
    if messages != (batch.row_errors or []):
        LeadImport.objects.filter(pk=batch.pk).update(row_errors=messages)


def _redacted(message: object, rows: set[int], *, quoting: Sequence[str] = ()) -> object:
    if not isinstance(message, dict):
        return message
    text = str(message.get("message", "")).lower()
    if message.get("row") in rows or any(value in text for value in quoting):
        return {**message, "message": ERASED_ROW_MESSAGE}
    return message


def _mapping_of(batch: LeadImport) -> Mapping[str, str]:
    """The batch's mapping, or (still being mapped) the one its page offers."""
    return batch.mapping or guess_mapping(batch.columns, remembered=batch.event.column_mapping)


def _rows_holding(table: Table, mapping: Mapping[str, str], *, email: str, phone: str) -> set[int]:
    emails = [column for column, target in mapping.items() if target == "email"]
    phones = [column for column, target in mapping.items() if target == "phone"] if phone else []
    countries = [column for column, target in mapping.items() if target == "country"]
    found = set()
    for number, values in table.rows():
        by_email = email and any(normalise_email(values.get(column)) == email for column in emails)
        if by_email or any(_phone_of(values, column, countries) == phone for column in phones):
            found.add(number)
    return found


def _phone_of(values: Mapping[str, str], column: str, countries: list[str]) -> str:
    """The row's phone as an import normalises it (with the row's country, when it names one)."""
    try:
        country = country_code(values.get(countries[0], "")) if countries else ""
    except ValidationError:
        country = ""
    return normalise_phone(values.get(column, ""), country=country)
