"""How long an import's uploaded file is kept: the retention policy for import uploads (``integrations.retention``)
deletes the file of an import that ended (imported, failed or undone) more than the policy's age ago.

The file is needed while an import may still read it: being mapped, previewed, imported (each run goes on from
the row the last one reached) or undone (``leads.imports``). Once the import has ended it only holds the list's
people, row for row, so it goes. The import's record stays: its counts, row messages and undo records (undo reads
those, never the file), and ``file_deleted_at`` for its page to say when the file went.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.core.files.storage import Storage
from django.db import transaction
from django.db.models import Case, F, QuerySet, When

from leads.models import ImportStatus, LeadImport

logger = logging.getLogger(__name__)

# An import in any other status may still read its file (or be started, resumed, previewed again).
ENDED = (ImportStatus.DONE, ImportStatus.FAILED, ImportStatus.UNDONE)


def uploads_ended_before(before: datetime) -> QuerySet[LeadImport]:
    """The imports still holding their file that ended before ``before``, the longest ended first.

    An import ends when it is imported or fails (``finished_at``), or, for an undone one, when its undo was asked
    (``undone_at``): a file a marketer undid last week stays its age from then.
    """
    ended_at = Case(When(status=ImportStatus.UNDONE, then=F("undone_at")), default=F("finished_at"))
    ended = LeadImport.objects.exclude(file="").filter(status__in=ENDED).alias(ended_at=ended_at)
    return ended.filter(ended_at__lt=before).order_by("ended_at", "id")


def delete_uploads(*, ids: list[int], before: datetime, now: datetime) -> list[int]:
    """Delete the stored files of the imports ``ids`` that are still due; returns the ids whose file went.

    Each import is checked again in the transaction (one undone meanwhile has ended later), and its row is
    cleared only while it still names the file read (erasure may have replaced it by a redacted copy). The files
    are removed from storage once the transaction commits: a rollback leaves every import with its file.
    """
    deleted: list[int] = []
    names: list[str] = []
    due = uploads_ended_before(before)
    with transaction.atomic():
        for pk, name in due.filter(pk__in=ids).values_list("pk", "file"):
            # Due again and the file read, in the update's own condition: no second read.
            if due.filter(pk=pk, file=name).update(file="", file_deleted_at=now):
                deleted.append(pk)
                names.append(name)
        storage = LeadImport._meta.get_field("file").storage
        transaction.on_commit(lambda: _delete_stored(storage, names))
    return deleted


def _delete_stored(storage: Storage, names: list[str]) -> None:
    for name in names:
        try:
            storage.delete(name)
        except OSError:  # the import says the file is deleted: one left on disk is an operator's to remove
            logger.exception("Could not delete the stored upload %s", name)
