"""Erasure's part in the stored uploads of imports: the erased person's rows are redacted in each file holding them.

An upload stays stored after its import (``LeadImport.file``: the mapping page shows its first rows, a preview
or an import reads it in runs). Taking the person's rows out would renumber every row after them, which the
import's progress (``processed_rows``), its row messages and its undo records (``ImportedLead.row``) count on.
So the rows stay, each cell replaced by ``ERASED_CELL``: a preview or import that reaches one skips it as erased
(counted with the suppressed rows), and the messages the import kept about those rows (they quote the address)
say only that. The import's counts and undo records stay as they are (erasure blanks the values undo kept).

The files looked at are those that may hold the person: the uploads that imported them, those still being mapped,
previewed or imported (or failed or undone), and those whose row messages quote the address or phone. Rows are
found by the erased lead's import rows and by the key an import gives a row (``imports.row_key``: its email, else
its phone): a phone-only person's number on a row with another email is not their row (it may be the firm's
switchboard; the import takes that row as the email's person). An import whose file is gone (deleted by the
retention policy for import uploads, ``leads.import_retention``, or missing from storage) has only its messages
redacted: those of the rows it recorded for the person and those that quote the address or phone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q

from leads.import_files import ERASED_ROW_MESSAGE, ImportFileError, guess_mapping, redact_rows
from leads.models import ImportedLead, ImportStatus, LeadImport

# Imports whose file may hold anyone's row without the import having recorded it (all but a finished one, which
# recorded each row it imported): every such file is looked at.
_UNRECORDED = ~Q(status=ImportStatus.DONE)


def erase_from_uploads(*, lead_id: int, email: str | None, phone: str) -> int:
    """Redact the person's rows in every stored upload that holds them; returns how many rows were redacted.

    Runs in the erasure's transaction; the files replaced are deleted once it commits (a rollback keeps them).
    """
    linked: dict[int, set[int]] = defaultdict(set)
    for batch_id, row in ImportedLead.objects.filter(lead_id=lead_id).values_list("batch_id", "row"):
        linked[batch_id].add(row)
    phone = "" if email else phone
    key = ("email", email) if email else ("phone", phone)  # who the person is, as an import keys a row
    # An import whose file was deleted (``leads.import_retention``) may still quote the person in its messages.
    may_hold = Q(pk__in=list(linked)) | (_UNRECORDED & ~Q(file=""))
    for value in (email, phone):
        if value:
            may_hold |= Q(row_errors__icontains=value)
    redacted = 0
    for batch in LeadImport.objects.select_related("event").filter(may_hold).order_by("pk"):
        redacted += _erase_from_upload(batch, rows=linked.get(batch.pk, set()), key=key)
    return redacted


def _erase_from_upload(batch: LeadImport, *, rows: set[int], key: tuple[str, str]) -> int:
    from leads import imports  # here: leads.imports imports leads.services, whose erasure calls this module

    try:
        table = imports.table_of(batch)  # ``ImportFileError`` when the file is deleted or gone from storage
        mapping = _mapping_of(batch)
        # The rows the import keys on the person: a phone-only person's phone beside another email is not theirs.
        rows = rows | {number for number, values in table.rows() if imports.row_key(values, mapping) == key}
    except (ImportFileError, OSError):
        # A file nobody can read (or gone): no import reads it either, but its messages may quote the person.
        _erase_from_messages(batch, rows=rows, key=key)
        return 0
    if not rows:
        return 0
    old_name, storage = batch.file.name or "", batch.file.storage  # not blank: only stored uploads are read
    batch.file.save(batch.file_name, ContentFile(redact_rows(table, rows)), save=False)
    messages = [_redacted(message, rows) for message in batch.row_errors or []]
    # A preview in progress remembers who its rows were, to tell a repeated row.
    seen = {kind: [value for value in values if (kind, value) != key]
            for kind, values in (batch.preview_seen or {}).items()}  # fmt: skip
    new_name = batch.file.name or ""
    kept = LeadImport.objects.filter(pk=batch.pk, file=old_name).update(
        file=new_name, row_errors=messages, preview_seen=seen
    )
    if not kept:  # the retention policy deleted the file meanwhile: it stays deleted, the redacted copy goes too
        storage.delete(new_name)
        batch.refresh_from_db()
        _erase_from_messages(batch, rows=rows, key=key)
        return 0
    transaction.on_commit(lambda: storage.delete(old_name))
    return len(rows)


def _erase_from_messages(batch: LeadImport, *, rows: set[int], key: tuple[str, str]) -> None:
    """With no file to read, the person's rows are those the import recorded and those its messages quote."""
    quoted = [key[1].lower()] if key[1] else []
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
