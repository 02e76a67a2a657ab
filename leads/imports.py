"""Importing a list staff bring in (event badge scans, a partner's attendee list): preview, run, undo.

The preview checks every row and writes no lead; for a large file it takes a while, so it runs in the
worker too (``start_preview`` queues it, ``run_preview`` is the task) and the page follows its progress. Like
the import, a run works for the task budget, then stores what it found so far (the counts, the first row
messages, how far it read and who the rows read were) and queues the next run, which goes on from there.

Rows are imported as the ``import`` source of the merge policy (``leads.merge``): it fills what is empty and
replaces what a person, a provider or an earlier import typed, never what staff set. Each imported lead gets
the event's consent (its basis and the exact text or notice shown there), a touch from the event and an
activity, and goes through the pipeline. Rows are skipped and counted when the address withdrew its consent,
is on the suppression list (every erased lead's address is), or repeats an earlier row of the file; a row that
cannot be imported (no channel, a bad address, cells beyond the last named column: a shifted row) is counted as
an error and skipped whole.

The worker imports in chunks, one transaction each, and records how far it got on the batch; a task that
runs again (or a second worker) goes on from there or finds nothing left to do. A chunk is written set-based
(``leads.import_writes.write_in_bulk``: what ``leads.services.capture_lead`` does per row, in a few
statements for the chunk); a chunk whose bulk write raises is written again row by row through the capture
service, where a row that fails is counted as an error and the others are imported.

**Undo** removes the leads the import created and restores the values it changed on existing leads (a
value someone changed since stays), with the consents, touches and activities it added. It is refused
while any of the import's leads has been touched by a person since: given an owner (the pipeline's
automatic assignment included: the rep has been told of the lead, so it is with sales), moved to another
stage by a person, or edited by staff. Scoring's own stage changes do not count. The Undo button checks that
and queues the undo (``start_undo``); the worker undoes a chunk of leads per transaction (``run_undo``),
checking each chunk again: a lead a person touched after the button was pressed is kept as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, models, transaction
from django.db.models import F, Q
from django.utils.text import slugify

from core.batch import batch_scope
from core.budget import time_is_up_after
from leads import merge, services
from leads.import_countries import country_code
from leads.import_files import (
    ANSWER_PREFIX,
    ERASED_CELL,
    ERASED_ROW_MESSAGE,
    FULL_NAME,
    IGNORE,
    FileRow,
    ImportFileError,
    Table,
    reopen_table,
)
from leads.import_writes import (
    RowToWrite,
    as_json,
    record_changes,
    record_touches,
    write_in_bulk,
    write_row_by_row,
)
from leads.models import (
    Activity,
    Consent,
    ConsentStatus,
    ImportedLead,
    ImportStatus,
    Lead,
    LeadImport,
    StageChange,
    SuppressedAddress,
    Touch,
)
from leads.normalise import normalise_email, normalise_phone
from leads.suppression import email_hash, phone_hash

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

RUN_TASK = "leads.tasks.run_lead_import"
PREVIEW_TASK = "leads.tasks.run_lead_import_preview"
UNDO_TASK = "leads.tasks.run_lead_import_undo"
CHUNK_ROWS = 500
UNDO_CHUNK_LEADS = 500
KEPT_ROW_MESSAGES = 500
# A running import whose worker has not reported for this long is taken over by the sweep.
STALE_AFTER_SECONDS = 600

DICT_COLUMNS = frozenset({"custom_answers", "field_sources", "enrichment_sources"})


class Outcome:
    CREATE = "create"
    MERGE = "merge"
    ERROR = "error"
    WITHDRAWN = "withdrawn"
    SUPPRESSED = "suppressed"
    DUPLICATE = "duplicate"


COUNTER_OF = {
    Outcome.CREATE: "created_count",
    Outcome.MERGE: "merged_count",
    Outcome.ERROR: "error_count",
    Outcome.WITHDRAWN: "withdrawn_count",
    Outcome.SUPPRESSED: "suppressed_count",
    Outcome.DUPLICATE: "duplicate_count",
}
COUNTERS = tuple(COUNTER_OF.values())


class ImportUndoRefusedError(Exception):
    """The import cannot be undone (any more); the message says why."""


@dataclass(frozen=True)
class CheckedRow:
    row: int
    details: services.LeadDetails | None = None
    error: str = ""
    is_erased: bool = False  # the row of a person erased since the upload (``leads.import_erasure``)

    @property
    def key(self) -> tuple[str, str]:
        """Who the row is: its normalised email, or its phone when it has none."""
        assert self.details is not None
        return ("email", self.details.email) if self.details.email else ("phone", self.details.phone)


@dataclass
class ChunkResult:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    messages: list[dict[str, Any]] = field(default_factory=list)

    def add(self, outcome: str, *, row: int, message: str = "") -> None:
        self.counts[COUNTER_OF[outcome]] += 1
        if message:
            self.messages.append({"row": row, "kind": outcome, "message": message})


# --- Reading and checking rows -----------------------------------------------------------------------------


FILE_GONE = "The uploaded file is no longer stored: upload the list again."


def table_of(batch: LeadImport) -> Table:
    """The batch's stored file; ``ImportFileError`` when it is gone (deleted by retention, or lost from storage)."""
    if not batch.file:
        raise ImportFileError(FILE_GONE)
    try:
        with batch.file.open("rb") as handle:
            return reopen_table(handle, name=batch.file_name, columns=batch.columns)
    except FileNotFoundError:
        raise ImportFileError(FILE_GONE) from None


def check_row(row: int, values: Mapping[str, str], mapping: Mapping[str, str], *, extra_cells: int = 0) -> CheckedRow:
    """The row as lead details, or the first thing wrong with it (for the person who made the file).

    A row with cells beyond the last named column (``extra_cells``) is refused whole: its values are almost always
    shifted (a value with an unquoted comma, "Acme, Inc", moves every cell after it one column on), so importing
    its named columns would file the wrong values under the right names.
    """
    if values and all(value == ERASED_CELL for value in values.values()):
        return CheckedRow(row=row, is_erased=True)
    if extra_cells:
        return CheckedRow(row=row, error=_extra_cells_message(row, extra_cells))
    fields, answers = _fields_of(values, mapping)
    try:
        details = _details(fields, answers)
    except ValidationError as error:
        return CheckedRow(row=row, error=" ".join(error.messages))
    return CheckedRow(row=row, details=details)


def row_key(values: Mapping[str, str], mapping: Mapping[str, str]) -> tuple[str, str] | None:
    """Who the row is, as the import keys it (``CheckedRow.key``); ``None`` for a row with no email or phone.

    Read also from a row the import refuses for something else (a shifted row, an unknown country, a name too
    long): such a row still names its person, and erasure (``leads.import_erasure``) redacts it by this key.
    """
    fields, _ = _fields_of(values, mapping)
    email = normalise_email(fields.get("email")) or ""
    if email:
        return ("email", email)
    try:
        country = country_code(fields.get("country", ""))
    except ValidationError:
        country = ""  # the import refuses the row; its phone is read as written
    phone = normalise_phone(fields.get("phone", ""), country=country)
    return ("phone", phone) if phone else None


def _fields_of(values: Mapping[str, str], mapping: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The row's lead fields and custom answers, each filled-in cell under what its column is mapped to."""
    fields: dict[str, str] = {}
    answers: dict[str, str] = {}
    for column, target in mapping.items():
        value = values.get(column, "").strip()
        if not value or target == IGNORE:
            continue
        if target == ANSWER_PREFIX:
            answers[slugify(column).replace("-", "_") or "answer"] = value
        elif target == FULL_NAME:
            first, _, last = value.rpartition(" ")
            fields.setdefault("first_name", first or last)
            if first:
                fields.setdefault("last_name", last)
        else:
            fields[target] = value
    return fields, answers


def _extra_cells_message(row: int, extra_cells: int) -> str:
    cells = "1 cell" if extra_cells == 1 else f"{extra_cells} cells"
    return (
        f"Row {row} has {cells} beyond the last named column: its values are probably shifted (an unquoted comma, "
        "as in “Acme, Inc”, or a misplaced cell), so it is not imported. Correct the row (or quote the value) and "
        "import it again."
    )


def _details(fields: dict[str, str], answers: dict[str, str]) -> services.LeadDetails:
    email = normalise_email(fields.get("email")) or ""
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError(f"“{fields['email']}” is not an email address.") from None
        if len(email) > 254:
            raise ValidationError("The email address is longer than 254 characters.")
    country = country_code(fields.get("country", ""))
    phone = normalise_phone(fields.get("phone", ""), country=country)
    if not email and not phone:
        raise ValidationError("No email or phone: a lead needs a direct channel.")
    for name in ("first_name", "last_name", "company_name", "company_domain", "job_title", "industry"):
        column = Lead._meta.get_field(name)
        assert isinstance(column, models.Field)
        limit = column.max_length
        if limit and len(fields.get(name, "")) > limit:
            raise ValidationError(f"{name.replace('_', ' ').capitalize()} is longer than {limit} characters.")
    if len(phone) > 40:
        raise ValidationError("The phone number is longer than 40 characters.")
    typed = ("first_name", "last_name", "company_name", "job_title", "industry")
    known = {name: fields.get(name, "") for name in typed}
    return services.LeadDetails(
        email=email, phone=phone, country=country, company_domain=fields.get("company_domain", "").lower(),
        custom_answers=answers, **known,
    )  # fmt: skip


@dataclass
class _Known:
    """What the database says about the people of one chunk, read in a few queries."""

    leads: dict[tuple[str, str], Lead]
    withdrawn: set[int]
    suppressed: set[tuple[str, str]]  # ("email", hash) or ("phone", hash): the keys on the suppression list
    in_batch: set[int]


def _known(rows: list[CheckedRow], *, batch: LeadImport | None) -> _Known:
    emails = [row.details.email for row in rows if row.details and row.details.email]
    # Rows with an email too: capture takes a phone-only lead who now gives an email for the same person.
    phones = [row.details.phone for row in rows if row.details and row.details.phone]
    found = Lead.objects.filter(Q(email__in=emails) | Q(phone__in=phones, email__isnull=True))
    if batch is None:
        found = found.only("id", "email", "phone")  # the preview only tells who is known
    leads: dict[tuple[str, str], Lead] = {}
    for lead in found.order_by("id"):
        key = ("email", lead.email) if lead.email else ("phone", lead.phone)
        leads.setdefault(key, lead)
    ids = [lead.pk for lead in leads.values()]
    consents = Consent.objects.filter(lead_id__in=ids)
    usable = set(
        consents.filter(status=ConsentStatus.CONFIRMED, withdrawn_at__isnull=True).values_list("lead_id", flat=True)
    )
    withdrawn = set(consents.filter(withdrawn_at__isnull=False).values_list("lead_id", flat=True))
    in_batch = set()
    if batch is not None and batch.pk:
        in_batch = set(ImportedLead.objects.filter(batch=batch, lead_id__in=ids).values_list("lead_id", flat=True))
    return _Known(
        leads=leads,
        withdrawn=withdrawn - usable,
        suppressed=_suppressed(rows),
        in_batch=in_batch,
    )


def _suppressed(rows: list[CheckedRow]) -> set[tuple[str, str]]:
    """The rows' keys on the suppression list, in one query: each row's email, or its phone when it has none.

    Read in the chunk's transaction: a person erased while the import held their row in memory is skipped too.
    """
    keys = {_suppression_key(row) for row in rows if row.details is not None}
    if not keys:
        return set()
    email_hashes = [value for kind, value in keys if kind == "email"]
    phone_hashes = [value for kind, value in keys if kind == "phone"]
    found = SuppressedAddress.objects.filter(Q(email_hash__in=email_hashes) | Q(phone_hash__in=phone_hashes))
    return {
        ("email", email) if email else ("phone", phone or "")
        for email, phone in found.values_list("email_hash", "phone_hash")
    }


def _suppression_key(row: CheckedRow) -> tuple[str, str]:
    kind, value = row.key  # the phone is normalised already (``_details``)
    return (kind, email_hash(value) if kind == "email" else phone_hash(value))


Classified = tuple[CheckedRow, str, str, Lead | None]


def _classify(row: CheckedRow, known: _Known, seen: set[tuple[str, str]]) -> Classified:
    """What the row will do, the message that goes with a row that is skipped, and the lead it merges into.

    ``seen`` holds the keys of the rows classified before, and the leads they merge into (``("lead", id)``).
    """
    if row.is_erased:
        return row, Outcome.SUPPRESSED, ERASED_ROW_MESSAGE, None
    if row.details is None:
        return row, Outcome.ERROR, row.error, None
    key = row.key
    lead = _lead_of(row, known)
    if lead is not None and ("lead", str(lead.pk)) in seen:
        lead = None  # a phone-only lead an earlier row gave an email: capture no longer finds it by phone
    if _suppression_key(row) in known.suppressed:
        return row, Outcome.SUPPRESSED, f"{key[1]} is suppressed (erased or objected): not imported.", None
    if lead is not None and lead.pk in known.withdrawn:
        return row, Outcome.WITHDRAWN, f"{key[1]} withdrew consent: not imported.", None
    if key in seen or (lead is not None and lead.pk in known.in_batch):
        return row, Outcome.DUPLICATE, f"{key[1]} appears on an earlier row; this row is skipped.", None
    seen.add(key)
    if lead is None:
        return row, Outcome.CREATE, "", None
    seen.add(("lead", str(lead.pk)))
    return row, Outcome.MERGE, "", lead


def _lead_of(row: CheckedRow, known: _Known) -> Lead | None:
    """The lead the row is, found as capture finds people: by email, else a phone-only lead by phone."""
    assert row.details is not None
    lead = known.leads.get(row.key)
    if lead is None and row.details.email and row.details.phone:
        lead = known.leads.get(("phone", row.details.phone))
    return lead


def _chunks(table: Table, *, start: int = 0) -> Iterator[list[FileRow]]:
    chunk: list[FileRow] = []
    for item in table.rows_with_extra_cells(start=start):
        chunk.append(item)
        if len(chunk) == CHUNK_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _checked(chunk: list[FileRow], mapping: Mapping[str, str]) -> list[CheckedRow]:
    return [check_row(item.number, item.values, mapping, extra_cells=item.extra_cells) for item in chunk]


# --- Preview ----------------------------------------------------------------------------------------------


def check_mapping(mapping: Mapping[str, str]) -> None:
    """Raise ``ValidationError`` for a mapping without an email or phone column, or a field mapped twice."""
    targets = set(mapping.values())
    if not targets & {"email", "phone"}:
        raise ValidationError("Map a column to Email or Phone: a lead needs a direct channel.")
    repeated = sorted(t for t in targets - {IGNORE, ANSWER_PREFIX} if list(mapping.values()).count(t) > 1)
    if repeated:
        raise ValidationError(f"Each lead field takes one column; mapped twice: {', '.join(repeated)}.")


def start_preview(*, batch: LeadImport, mapping: Mapping[str, str], now: datetime) -> LeadImport:
    """Save the mapping (remembered for the event) and queue the preview for the worker.

    Raises ``ValidationError`` for a mapping ``check_mapping`` refuses. A batch that is not being mapped or
    previewed (a second click, an import started) is left as it is.
    """
    check_mapping(mapping)
    with transaction.atomic():
        started = LeadImport.objects.filter(
            pk=batch.pk, status__in=[ImportStatus.MAPPING, ImportStatus.PREVIEWED]
        ).update(
            status=ImportStatus.PREVIEWING, mapping=dict(mapping), processed_rows=0, row_errors=[], failure="",
            heartbeat_at=now, previewed_rows=0, preview_seen={}, **dict.fromkeys(COUNTERS, 0),
        )  # fmt: skip
        if started:
            _remember_mapping(batch, mapping)
            services.enqueue_after_commit(PREVIEW_TASK, batch.pk)
    batch.refresh_from_db()
    return batch


def run_preview(*, batch_id: int, clock: Callable[[], datetime], budget: timedelta | None = None) -> LeadImport:
    """The worker's preview: check the rows with the batch's mapping, reporting progress as it goes.

    Once ``budget`` is spent (the worker passes the pipeline's task budget), the run stores what it found so
    far and queues the next, which goes on from there (``preview_import``). A file or mapping the preview
    cannot use sends the batch back to its mapping, with the reason in ``failure``. A batch no longer waiting
    for its preview is left as it is.
    """
    batch = LeadImport.objects.select_related("event").get(pk=batch_id)
    if batch.status != ImportStatus.PREVIEWING:
        return batch
    try:
        preview_import(batch=batch, mapping=batch.mapping, clock=clock, budget=budget)
    except (ValidationError, ImportFileError) as error:
        message = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        LeadImport.objects.filter(pk=batch_id, status=ImportStatus.PREVIEWING).update(
            status=ImportStatus.MAPPING, failure=message[:2000], previewed_rows=0, preview_seen={}
        )
    batch.refresh_from_db()
    return batch


@dataclass
class _PreviewSoFar:
    """What a preview found in the file's first ``rows`` rows: its counts and messages, and who the rows were."""

    rows: int = 0
    result: ChunkResult = field(default_factory=ChunkResult)
    seen: set[tuple[str, str]] = field(default_factory=set)

    @classmethod
    def stored_on(cls, batch: LeadImport) -> _PreviewSoFar:
        """What the earlier runs of the batch's preview stored (nothing, before the first has ended)."""
        counts = {name: getattr(batch, name) for name in COUNTERS}
        seen = {(kind, value) for kind, values in (batch.preview_seen or {}).items() for value in values}
        return cls(rows=batch.previewed_rows, result=ChunkResult(counts, list(batch.row_errors or [])), seen=seen)

    def to_store(self) -> dict[str, object]:
        seen: dict[str, list[str]] = {}
        for kind, value in sorted(self.seen):
            seen.setdefault(kind, []).append(value)
        return {
            **self.result.counts, "row_errors": self.result.messages[:KEPT_ROW_MESSAGES],
            "previewed_rows": self.rows, "preview_seen": seen,
        }  # fmt: skip


def preview_import(
    *,
    batch: LeadImport,
    mapping: Mapping[str, str],
    clock: Callable[[], datetime] | None = None,
    budget: timedelta | None = None,
) -> LeadImport:
    """Check every row of the file with ``mapping`` and store what an import would do; writes no lead.

    The mapping is saved on the batch and remembered for its event. Raises ``ValidationError`` for a mapping
    ``check_mapping`` refuses. With ``clock`` (the worker), the rows checked so far are recorded per chunk; a
    batch being previewed goes on from what the earlier runs stored, and once ``budget`` is spent the run
    stores what it found and queues the next. Whatever a run stores, it stores only if the batch still stands
    where the run found it: a second run of the same task (the sweep queued it again) neither counts rows
    twice nor sends an import the marketer has started back to "previewed".
    """
    check_mapping(mapping)
    so_far = _PreviewSoFar.stored_on(batch) if batch.status == ImportStatus.PREVIEWING else _PreviewSoFar()
    stands = Q(pk=batch.pk, status=batch.status, previewed_rows=so_far.rows)
    time_is_up = time_is_up_after(budget=budget, clock=clock)
    for number, chunk in enumerate(_chunks(table_of(batch), start=so_far.rows)):
        if number and time_is_up():
            _hand_preview_over(batch=batch, stands=stands, so_far=so_far)
            break
        _preview_chunk(chunk, mapping=mapping, so_far=so_far)
        if clock is not None and not LeadImport.objects.filter(stands).update(
            processed_rows=so_far.rows, heartbeat_at=clock()
        ):
            break  # another run went further, or the import has started: this run stores nothing
    else:  # read to the end
        found = {**so_far.to_store(), "previewed_rows": 0, "preview_seen": {}, "mapping": dict(mapping),
                 "total_rows": so_far.rows, "processed_rows": 0, "status": ImportStatus.PREVIEWED}  # fmt: skip
        if LeadImport.objects.filter(stands).update(**found, failure=""):
            _remember_mapping(batch, mapping)
    batch.refresh_from_db()
    return batch


def _preview_chunk(chunk: list[FileRow], *, mapping: Mapping[str, str], so_far: _PreviewSoFar) -> None:
    rows = _checked(chunk, mapping)
    known = _known(rows, batch=None)
    for row in rows:
        _, outcome, message, _ = _classify(row, known, so_far.seen)
        so_far.result.add(outcome, row=row.row, message=message)
    so_far.rows += len(rows)


def _hand_preview_over(*, batch: LeadImport, stands: Q, so_far: _PreviewSoFar) -> None:
    """The run's time is up: store what the preview found so far and queue the run that goes on from there."""
    if LeadImport.objects.filter(stands).update(**so_far.to_store(), processed_rows=so_far.rows):
        services.enqueue_after_commit(PREVIEW_TASK, batch.pk)


def _remember_mapping(batch: LeadImport, mapping: Mapping[str, str]) -> None:
    batch.event.column_mapping = {**batch.event.column_mapping, **mapping}
    batch.event.save(update_fields=["column_mapping"])


# --- Running ----------------------------------------------------------------------------------------------


def start_import(*, batch: LeadImport, now: datetime) -> bool:
    """Queue a previewed import for the worker; False when it was not waiting to start (a second click)."""
    with transaction.atomic():
        started = LeadImport.objects.filter(pk=batch.pk, status=ImportStatus.PREVIEWED).update(
            status=ImportStatus.QUEUED, processed_rows=0, row_errors=[], heartbeat_at=now,
            **dict.fromkeys(COUNTERS, 0),
        )  # fmt: skip
        if started:
            services.enqueue_after_commit(RUN_TASK, batch.pk)
    batch.refresh_from_db()
    return bool(started)


def run_import(*, batch_id: int, clock: Callable[[], datetime], budget: timedelta | None = None) -> LeadImport:
    """Import the batch's rows from where it stands, a chunk per transaction; the worker's entry point.

    Another worker already running it (its heartbeat recent) makes this return at once. ``clock`` gives
    the time for each chunk (and for the leads it captures). Once ``budget`` is spent (the worker passes a
    third of the task timeout), the batch goes back to Queued after the chunk in hand and the next run is
    queued, so a large file never outlives its task and waits for the sweep.
    """
    now = clock()
    stale = Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now - _stale_after())
    claimed = LeadImport.objects.filter(
        Q(status=ImportStatus.QUEUED) | (Q(status=ImportStatus.RUNNING) & stale), pk=batch_id
    ).update(status=ImportStatus.RUNNING, heartbeat_at=now)
    batch = LeadImport.objects.select_related("event").get(pk=batch_id)
    if not claimed:
        return batch
    if batch.started_at is None:
        LeadImport.objects.filter(pk=batch_id).update(started_at=now)
    time_is_up = time_is_up_after(budget=budget, clock=clock, started_at=now)
    try:
        table = table_of(batch)
        for chunk in _chunks(table, start=batch.processed_rows):
            if not _import_chunk(batch=batch, chunk=chunk, now=clock()):
                return batch  # another worker took the batch over
            if time_is_up():
                _hand_over(batch_id)
                batch.refresh_from_db()
                return batch
        LeadImport.objects.filter(pk=batch_id, status=ImportStatus.RUNNING).update(
            status=ImportStatus.DONE, finished_at=clock(), processed_rows=F("total_rows")
        )
    except ImportFileError as error:  # the file is gone: its reason is for the marketer, not a traceback
        logger.warning("Import %s failed: %s", batch_id, error)
        LeadImport.objects.filter(pk=batch_id).update(
            status=ImportStatus.FAILED, failure=str(error).rstrip(".")[:2000], finished_at=clock()
        )
    except Exception as error:
        logger.exception("Import %s failed", batch_id)
        LeadImport.objects.filter(pk=batch_id).update(
            status=ImportStatus.FAILED, failure=f"{type(error).__name__}: {error}"[:2000], finished_at=clock()
        )
    batch.refresh_from_db()
    return batch


def _hand_over(batch_id: int) -> None:
    """The run's time is up: the batch waits for the next run, which is queued (the rows done stay done)."""
    if LeadImport.objects.filter(pk=batch_id, status=ImportStatus.RUNNING).update(status=ImportStatus.QUEUED):
        services.enqueue_after_commit(RUN_TASK, batch_id)


def _stale_after() -> timedelta:
    return timedelta(seconds=STALE_AFTER_SECONDS)


def _import_chunk(*, batch: LeadImport, chunk: list[FileRow], now: datetime) -> bool:
    """Import one chunk's rows and move the batch past them, in one transaction; False if someone else did."""
    rows = _checked(chunk, batch.mapping)
    # The chunk's events are heard after its commit, by listeners that read their settings once per batch.
    with batch_scope(), transaction.atomic():
        outcomes, imported, failed = _write_chunk(batch=batch, rows=rows, now=now)
        written = {item.row: Outcome.CREATE if item.is_new else Outcome.MERGE for item in imported}
        result = ChunkResult()
        for row, outcome, message, _ in outcomes:
            if row.row in failed:
                outcome, message = Outcome.ERROR, failed[row.row]
            result.add(written.get(row.row, outcome), row=row.row, message=message)
        moved = LeadImport.objects.filter(
            pk=batch.pk, status=ImportStatus.RUNNING, processed_rows=batch.processed_rows
        ).update(
            processed_rows=batch.processed_rows + len(chunk), heartbeat_at=now,
            **{name: F(name) + count for name, count in result.counts.items()},
        )  # fmt: skip
        if not moved:
            transaction.set_rollback(True)
            return False
        if result.messages:
            _keep_messages(batch_id=batch.pk, messages=result.messages)
    batch.processed_rows += len(chunk)
    return True


def _write_chunk(
    *, batch: LeadImport, rows: list[CheckedRow], now: datetime
) -> tuple[list[Classified], list[ImportedLead], dict[int, str]]:
    """Classify the rows and write those to create or merge, set-based; row by row when that raises.

    Returns the rows' outcomes, what was written (with its touches and what undo needs), and the message of
    each row that failed.
    """
    known = _known(rows, batch=batch)
    outcomes = _classify_all(rows, known)
    failed: dict[int, str] = {}
    try:
        with transaction.atomic():
            imported = write_in_bulk(batch=batch, rows=_rows_to_write(outcomes), now=now)
        due = [item.lead_id for item in imported if not item.is_new]  # new leads were inserted due
    except DatabaseError:
        logger.warning("Import %s: a chunk's bulk write failed; writing it row by row", batch.pk, exc_info=True)
        # The failed write changed the leads it had read, and someone may have added one: read them again.
        known = _known(rows, batch=batch)
        outcomes = _classify_all(rows, known)
        imported, failed = write_row_by_row(batch=batch, rows=_rows_to_write(outcomes), now=now)
        due = [item.lead_id for item in imported]
    had_first_touch = {lead.pk for lead in known.leads.values() if lead.first_touch_id is not None}
    record_touches(imported, event=batch.event, had_first_touch=had_first_touch, now=now)
    record_changes(imported)
    ImportedLead.objects.bulk_create(imported)
    services.enqueue_pipeline_for(lead_ids=due)
    return outcomes, imported, failed


def _classify_all(rows: list[CheckedRow], known: _Known) -> list[Classified]:
    seen = set[tuple[str, str]]()
    return [_classify(row, known, seen) for row in rows]


def _rows_to_write(outcomes: list[Classified]) -> list[RowToWrite]:
    return [
        RowToWrite(row=row.row, details=row.details, existing=lead)
        for row, outcome, _, lead in outcomes
        if row.details is not None and outcome in (Outcome.CREATE, Outcome.MERGE)
    ]


def _keep_messages(*, batch_id: int, messages: list[dict[str, Any]]) -> None:
    kept = LeadImport.objects.filter(pk=batch_id).values_list("row_errors", flat=True).get()
    room = KEPT_ROW_MESSAGES - len(kept or [])
    if room > 0:
        LeadImport.objects.filter(pk=batch_id).update(row_errors=[*(kept or []), *messages[:room]])


def resume_stalled_imports(*, now: datetime) -> int:
    """Queue again the imports, previews and undos whose task was lost (no word from a worker for a while)."""
    stale = Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now - _stale_after())
    waiting = LeadImport.objects.filter(stale, status__in=list(_TASK_OF_STATUS))
    found = list(waiting.values_list("pk", "status")[:20])
    for batch_id, status in found:
        services.enqueue_after_commit(_TASK_OF_STATUS[status], batch_id)
    return len(found)


_TASK_OF_STATUS: dict[str, str] = {
    ImportStatus.QUEUED: RUN_TASK,
    ImportStatus.RUNNING: RUN_TASK,
    ImportStatus.PREVIEWING: PREVIEW_TASK,
    ImportStatus.UNDOING: UNDO_TASK,
}


# --- Undo -------------------------------------------------------------------------------------------------

# Apps that hear of every deleted lead and can do their part for many at once (the audit trail, which leads may
# not import) register a context manager here; the undo deletes each chunk's leads inside ``scope(actor=...)``.
BulkDeletion = Callable[..., AbstractContextManager[object]]
_bulk_deletions: list[BulkDeletion] = []


def register_bulk_deletion(scope: BulkDeletion) -> BulkDeletion:
    """Delete the undo's leads inside ``scope(actor=user)`` from now on (integrations.audit calls this)."""
    if scope not in _bulk_deletions:
        _bulk_deletions.append(scope)
    return scope


@contextmanager
def _deleting_in_bulk(*, actor: User | None) -> Iterator[None]:
    with ExitStack() as stack:
        for scope in _bulk_deletions:
            stack.enter_context(scope(actor=actor))
        yield


Touched = list[tuple[Lead, str]]


def undo_blockers(*, batch: LeadImport) -> list[str]:
    """Why the import cannot be undone now: one line per lead a person has touched since (at most ten)."""
    reasons: list[str] = []
    rows = ImportedLead.objects.filter(batch=batch).select_related(None)
    for chunk in _batched(rows.values_list("lead_id", "is_new", "previous").iterator(), 1000):
        reasons += [f"{lead}: {reason}" for lead, reason in _touched_by_people(batch=batch, rows=chunk)]
        if len(reasons) >= 10:
            return reasons[:10]
    return reasons


def _touched_by_people(*, batch: LeadImport, rows: list[tuple[int, bool, dict[str, Any]]]) -> Touched:
    """The leads of ``rows`` (lead id, is new, values before the import) a person has touched since, and how."""
    since = batch.started_at or batch.created_at
    previous = {lead_id: (is_new, before) for lead_id, is_new, before in rows}
    by_people = set(
        StageChange.objects.filter(lead_id__in=previous, changed_at__gte=since, changed_by__isnull=False)
        .values_list("lead_id", flat=True)
    )  # fmt: skip
    touched: Touched = []
    for lead in Lead.objects.filter(pk__in=previous).only("id", "owner_id", "email", "field_sources"):
        is_new, before = previous[lead.pk]
        reason = _blocker(lead, owner_before=None if is_new else before.get("owner_id"), since=since)
        if reason is None and lead.pk in by_people:
            reason = "a person changed its stage"
        if reason:
            touched.append((lead, reason))
    return touched


def _blocker(lead: Lead, *, owner_before: int | None, since: datetime) -> str | None:
    if lead.owner_id is not None and lead.owner_id != owner_before:
        return "it has been assigned to a rep"
    for entry in (lead.field_sources or {}).values():
        is_staffs = isinstance(entry, dict) and entry.get("source") == merge.Source.STAFF
        if is_staffs and entry.get("at", "") >= as_json(since):
            return "staff edited it"
    return None


def _batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def start_undo(*, batch: LeadImport, by: User | None, now: datetime) -> LeadImport:
    """Queue the undo of the whole import for the worker (``run_undo``), after checking that it may be undone.

    Raises ``ImportUndoRefusedError`` when the import is not finished, is undone (or being undone) already, or
    has leads a person has worked on since (``undo_blockers``, named in the message); nothing is queued then.
    """
    if batch.status not in (ImportStatus.DONE, ImportStatus.FAILED):
        status = batch.get_status_display()
        raise ImportUndoRefusedError(f"Only a finished import can be undone; this one is “{status}”.")
    blockers = undo_blockers(batch=batch)
    if blockers:
        raise ImportUndoRefusedError("Sales or staff have worked on leads of this import: " + "; ".join(blockers))
    with transaction.atomic():
        claimed = LeadImport.objects.filter(
            pk=batch.pk, status__in=[ImportStatus.DONE, ImportStatus.FAILED], undone_at__isnull=True
        ).update(status=ImportStatus.UNDOING, undone_at=now, undone_by=by, heartbeat_at=now)
        if not claimed:
            raise ImportUndoRefusedError("The import was undone already.")
        services.enqueue_after_commit(UNDO_TASK, batch.pk)
    batch.refresh_from_db()
    return batch


def run_undo(*, batch_id: int, clock: Callable[[], datetime], budget: timedelta) -> LeadImport:
    """The worker's undo: a chunk of the import's leads per transaction, until none is left or ``budget`` is spent.

    Each chunk is checked again as the button checked the whole import: a lead a person touched meanwhile (a rep
    was given it, a person moved its stage, staff edited it) is kept as it is, with everything the import gave
    it, and stays listed under the import; the others are undone. With no lead left to undo, the import is
    Undone (at that time). A run whose budget is spent queues the next. Two runs at once take turns: each chunk
    begins by updating the import's row (its heartbeat), which holds it until the chunk commits, and then reads
    what is left; a run that dies mid-chunk leaves nothing of that chunk, and the sweep queues the undo again.
    """
    batch = LeadImport.objects.get(pk=batch_id)
    if batch.status != ImportStatus.UNDOING:
        return batch
    time_is_up = time_is_up_after(budget=budget, clock=clock)
    after: int | None = 0  # the last row this run has read (the rows of kept leads stay behind)
    while after is not None:
        after = _undo_next_chunk(batch=batch, after=after, now=clock())
        if after is not None and time_is_up():
            services.enqueue_after_commit(UNDO_TASK, batch_id)
            break
    batch.refresh_from_db()
    return batch


def _undo_next_chunk(*, batch: LeadImport, after: int, now: datetime) -> int | None:
    """Undo the chunk of rows after ``after``, in one transaction; its last row, or None when there is no more."""
    with transaction.atomic():
        if not LeadImport.objects.filter(pk=batch.pk, status=ImportStatus.UNDOING).update(heartbeat_at=now):
            return None  # undone by another run meanwhile
        rows = list(ImportedLead.objects.filter(batch=batch, pk__gt=after).order_by("pk")[:UNDO_CHUNK_LEADS])
        if not rows:
            LeadImport.objects.filter(pk=batch.pk).update(status=ImportStatus.UNDONE, undone_at=now)
            return None
        _undo_chunk(batch=batch, rows=rows)
    return rows[-1].pk


def _undo_chunk(*, batch: LeadImport, rows: list[ImportedLead]) -> None:
    """Undo the chunk's leads but those a person has touched since, which stay as they are (and are logged)."""
    touched = _touched_by_people(batch=batch, rows=[(row.lead_id, row.is_new, row.previous) for row in rows])
    kept = {lead.pk for lead, _ in touched}
    if touched:  # ids only: the log outlives an erasure
        logger.info("Undo of import %s keeps leads people worked on meanwhile: %s", batch.pk, sorted(kept))
    rows = [row for row in rows if row.lead_id not in kept]
    with _deleting_in_bulk(actor=batch.undone_by):
        Lead.objects.filter(pk__in=[row.lead_id for row in rows if row.is_new]).delete()
    merged = [row for row in rows if not row.is_new]
    _restore(merged)
    # Done with: a new lead's row went with its lead; the rows left are the kept leads'.
    ImportedLead.objects.filter(pk__in=[row.pk for row in merged]).delete()


def undo_progress(*, batch: LeadImport) -> tuple[int, int]:
    """(leads undone so far, leads the import wrote) while the import is being undone; one count."""
    total = batch.created_count + batch.merged_count
    left = ImportedLead.objects.filter(batch=batch).count()
    return max(total - left, 0), total


def kept_by_undo(*, batch: LeadImport) -> int:
    """How many leads an undone import kept, because people worked on them while the undo ran."""
    if batch.status != ImportStatus.UNDONE:
        return 0
    return ImportedLead.objects.filter(batch=batch).count()


def _restore(rows: list[ImportedLead]) -> None:
    """Put back what the import changed on existing leads, where it is still what the import left."""
    leads = Lead.objects.in_bulk([row.lead_id for row in rows])
    Consent.objects.filter(pk__in=[row.consent_id for row in rows if row.consent_id]).delete()
    Touch.objects.filter(pk__in=[row.touch_id for row in rows if row.touch_id]).delete()
    Activity.objects.filter(pk__in=[row.activity_id for row in rows if row.activity_id]).delete()
    restored: list[int] = []
    for row in rows:
        lead = leads.get(row.lead_id)
        if lead is None:
            continue
        changed = [name for name, value in row.imported.items() if _put_back(lead, name, row.previous.get(name), value)]
        if changed:
            lead.save(update_fields=[*changed, "updated_at"])
        restored.append(lead.pk)
    if restored:
        services.enqueue_pipeline_for(lead_ids=restored)


def _put_back(lead: Lead, name: str, before: Any, after: Any) -> bool:
    current = as_json(getattr(lead, name))
    if name in DICT_COLUMNS:
        before, after, current = before or {}, after or {}, dict(current or {})
        restored = dict(current)
        for key in set(before) | set(after):
            if before.get(key) != after.get(key) and current.get(key) == after.get(key):
                if key in before:
                    restored[key] = before[key]
                else:
                    restored.pop(key, None)
        if restored == current:
            return False
        setattr(lead, name, restored)
        return True
    if current != after:
        return False  # someone (enrichment, staff) changed it since: theirs stands
    field = Lead._meta.get_field(name)
    assert isinstance(field, models.Field)
    setattr(lead, name, None if before is None else field.to_python(before))
    return True
