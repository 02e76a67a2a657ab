"""Importing a list staff bring in (event badge scans, a partner's attendee list): preview, run, undo.

Every row goes through the capture service the forms and the API use (``leads.services.capture_lead``) as
the ``import`` source of the merge policy (``leads.merge``): it fills what is empty and replaces what a
person, a provider or an earlier import typed, never what staff set. Each imported lead gets the event's
consent (its basis and the exact text or notice shown there), a touch from the event and an activity, and
goes through the pipeline. Rows are skipped and counted when the address withdrew its consent, is on the
suppression list (every erased lead's address is), or repeats an earlier row of the file.

The worker imports in chunks, one transaction each, and records how far it got on the batch; a task that
runs again (or a second worker) goes on from there or finds nothing left to do.

**Undo** removes the leads the import created and restores the values it changed on existing leads (a
value someone changed since stays), with the consents, touches and activities it added. It is refused
while any of the import's leads has been touched by a person since: given an owner (the pipeline's
automatic assignment included: the rep has been told of the lead, so it is with sales), moved to another
stage by a person, or edited by staff. Scoring's own stage changes do not count.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils.text import slugify

from leads import merge, services
from leads.channels import Channel
from leads.countries import COUNTRIES
from leads.import_files import ANSWER_PREFIX, FULL_NAME, IGNORE, Table, read_table
from leads.models import (
    Activity,
    ActivityKind,
    Consent,
    ConsentSource,
    ConsentStatus,
    ImportedLead,
    ImportEvent,
    ImportStatus,
    Lead,
    LeadImport,
    LegalBasis,
    StageChange,
    SuppressedAddress,
    Touch,
)
from leads.normalise import normalise_email, normalise_phone
from leads.suppression import email_hash

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

RUN_TASK = "leads.tasks.run_lead_import"
CHUNK_ROWS = 500
KEPT_ROW_MESSAGES = 500
# A running import whose worker has not reported for this long is taken over by the sweep.
STALE_AFTER_SECONDS = 600

# The lead's columns an import may change (through capture and its touch), which undo restores.
SNAPSHOT_COLUMNS = (
    *services.CAPTURED_FIELDS, "email", "phone", "custom_answers", "field_sources", "enrichment_sources",
    "first_touch_id", "first_touch_at", "first_touch_source", "first_touch_medium", "first_touch_campaign",
    "first_touch_channel", "last_touch_at",
)  # fmt: skip
DICT_COLUMNS = frozenset({"custom_answers", "field_sources", "enrichment_sources"})
_COUNTRY_CODES = {code for code, _ in COUNTRIES}
_COUNTRY_NAMES = {name.lower(): code for code, name in COUNTRIES} | {"uk": "GB", "usa": "US", "united states": "US"}


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


def table_of(batch: LeadImport) -> Table:
    with batch.file.open("rb") as handle:
        return read_table(handle, name=batch.file_name)


def check_row(row: int, values: Mapping[str, str], mapping: Mapping[str, str]) -> CheckedRow:
    """The row as lead details, or the first thing wrong with it (for the person who made the file)."""
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
    try:
        details = _details(fields, answers)
    except ValidationError as error:
        return CheckedRow(row=row, error=" ".join(error.messages))
    return CheckedRow(row=row, details=details)


def _details(fields: dict[str, str], answers: dict[str, str]) -> services.LeadDetails:
    email = normalise_email(fields.get("email")) or ""
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError(f"“{fields['email']}” is not an email address.") from None
    country = _country_code(fields.get("country", ""))
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


def _country_code(raw: str) -> str:
    if not raw:
        return ""
    code = _COUNTRY_NAMES.get(raw.strip().lower(), raw.strip().upper())
    if code not in _COUNTRY_CODES:
        raise ValidationError(f"“{raw}” is not a country: give its name or two-letter code (e.g. DE).")
    return code


@dataclass
class _Known:
    """What the database says about the people of one chunk, read in a few queries."""

    leads: dict[tuple[str, str], Lead]
    withdrawn: set[int]
    suppressed: set[str]
    in_batch: set[int]


def _known(rows: list[CheckedRow], *, batch: LeadImport | None) -> _Known:
    emails = [row.details.email for row in rows if row.details and row.details.email]
    phones = [row.details.phone for row in rows if row.details and not row.details.email]
    found = Lead.objects.filter(Q(email__in=emails) | Q(phone__in=phones, email__isnull=True)).only(
        "id", "owner_id", "stage", *SNAPSHOT_COLUMNS
    )
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
    hashes = [email_hash(email) for email in emails]
    in_batch = set()
    if batch is not None and batch.pk:
        in_batch = set(ImportedLead.objects.filter(batch=batch, lead_id__in=ids).values_list("lead_id", flat=True))
    return _Known(
        leads=leads,
        withdrawn=withdrawn - usable,
        suppressed=set(SuppressedAddress.objects.filter(email_hash__in=hashes).values_list("email_hash", flat=True)),
        in_batch=in_batch,
    )


def _classify(row: CheckedRow, known: _Known, seen: set[tuple[str, str]]) -> tuple[str, str]:
    """What the row will do, and the message that goes with a row that is skipped."""
    if row.details is None:
        return Outcome.ERROR, row.error
    key = row.key
    lead = known.leads.get(key)
    if row.details.email and email_hash(row.details.email) in known.suppressed:
        return Outcome.SUPPRESSED, f"{key[1]} is suppressed (erased or objected): not imported."
    if lead is not None and lead.pk in known.withdrawn:
        return Outcome.WITHDRAWN, f"{key[1]} withdrew consent: not imported."
    if key in seen or (lead is not None and lead.pk in known.in_batch):
        return Outcome.DUPLICATE, f"{key[1]} appears on an earlier row; this row is skipped."
    seen.add(key)
    return (Outcome.MERGE if lead is not None else Outcome.CREATE), ""


def _chunks(table: Table, *, start: int = 0) -> Iterator[list[tuple[int, dict[str, str]]]]:
    chunk: list[tuple[int, dict[str, str]]] = []
    for item in table.rows(start=start):
        chunk.append(item)
        if len(chunk) == CHUNK_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --- Preview ----------------------------------------------------------------------------------------------


def preview_import(*, batch: LeadImport, mapping: Mapping[str, str]) -> LeadImport:
    """Check every row of the file with ``mapping`` and store what an import would do; writes no lead.

    The mapping is saved on the batch and remembered for its event. Raises ``ValidationError`` for a mapping
    without an email or phone column.
    """
    targets = set(mapping.values())
    if not targets & {"email", "phone"}:
        raise ValidationError("Map a column to Email or Phone: a lead needs a direct channel.")
    repeated = sorted(t for t in targets - {IGNORE, ANSWER_PREFIX} if list(mapping.values()).count(t) > 1)
    if repeated:
        raise ValidationError(f"Each lead field takes one column; mapped twice: {', '.join(repeated)}.")
    table = table_of(batch)
    result, total, seen = ChunkResult(), 0, set[tuple[str, str]]()
    for chunk in _chunks(table):
        rows = [check_row(number, values, mapping) for number, values in chunk]
        known = _known(rows, batch=None)
        for row in rows:
            outcome, message = _classify(row, known, seen)
            result.add(outcome, row=row.row, message=message)
        total += len(rows)
    for name, count in result.counts.items():
        setattr(batch, name, count)
    batch.mapping, batch.total_rows, batch.processed_rows = dict(mapping), total, 0
    batch.row_errors, batch.status = result.messages[:KEPT_ROW_MESSAGES], ImportStatus.PREVIEWED
    batch.save()
    batch.event.column_mapping = {**batch.event.column_mapping, **mapping}
    batch.event.save(update_fields=["column_mapping"])
    return batch


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


def run_import(*, batch_id: int, clock: Callable[[], datetime]) -> LeadImport:
    """Import the batch's rows from where it stands, a chunk per transaction; the worker's entry point.

    Another worker already running it (its heartbeat recent) makes this return at once. ``clock`` gives
    the time for each chunk (and for the leads it captures).
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
    try:
        table = table_of(batch)
        for chunk in _chunks(table, start=batch.processed_rows):
            if not _import_chunk(batch=batch, chunk=chunk, now=clock()):
                return batch  # another worker took the batch over
        LeadImport.objects.filter(pk=batch_id, status=ImportStatus.RUNNING).update(
            status=ImportStatus.DONE, finished_at=clock(), processed_rows=F("total_rows")
        )
    except Exception as error:
        logger.exception("Import %s failed", batch_id)
        LeadImport.objects.filter(pk=batch_id).update(
            status=ImportStatus.FAILED, failure=f"{type(error).__name__}: {error}"[:2000], finished_at=clock()
        )
    batch.refresh_from_db()
    return batch


def _stale_after() -> timedelta:
    return timedelta(seconds=STALE_AFTER_SECONDS)


def _import_chunk(*, batch: LeadImport, chunk: list[tuple[int, dict[str, str]]], now: datetime) -> bool:
    """Capture one chunk's rows and move the batch past them, in one transaction; False if someone else did."""
    rows = [check_row(number, values, batch.mapping) for number, values in chunk]
    with transaction.atomic():
        known = _known(rows, batch=batch)
        result, seen, imported = ChunkResult(), set[tuple[str, str]](), list[ImportedLead]()
        for row in rows:
            outcome, message = _classify(row, known, seen)
            if outcome in (Outcome.CREATE, Outcome.MERGE):
                try:
                    with transaction.atomic():
                        imported.append(_capture_row(batch=batch, row=row, before=known.leads.get(row.key), now=now))
                except ValidationError as error:
                    outcome, message = Outcome.ERROR, " ".join(error.messages)
            result.add(outcome, row=row.row, message=message)
        _record_touches(imported, event=batch.event, known=known, now=now)
        _record_changes(imported)
        ImportedLead.objects.bulk_create(imported)
        services.enqueue_pipeline_for(lead_ids=[row.lead_id for row in imported])
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


def _capture_row(*, batch: LeadImport, row: CheckedRow, before: Lead | None, now: datetime) -> ImportedLead:
    assert row.details is not None
    event = batch.event
    is_badge_scan = batch.legal_basis == LegalBasis.EVENT
    captured = services.capture_lead(
        details=row.details,
        consent=services.ConsentDetails(
            legal_basis=batch.legal_basis,
            text=batch.consent_text,
            source=ConsentSource.IMPORT,
            source_ref=f"Import #{batch.pk}: {event.name}"[:200],
        ),
        activity_kind=ActivityKind.EVENT_BADGE_SCAN if is_badge_scan else ActivityKind.IMPORTED,
        activity_metadata={"import": batch.pk, "event": event.source, "row": row.row},
        now=now,
        value_source=merge.Source.IMPORT,
    )
    previous = _snapshot(before) if before is not None and not captured.is_new else {}
    if before is not None and not captured.is_new:
        previous["owner_id"], previous["stage"] = before.owner_id, before.stage
    return ImportedLead(
        batch=batch, lead=captured.lead, is_new=captured.is_new, row=row.row, previous=previous,
        consent=captured.consent, activity=captured.activity,
    )  # fmt: skip


def _record_touches(imported: list[ImportedLead], *, event: ImportEvent, known: _Known, now: datetime) -> None:
    """The event's touch for each imported lead, in a few statements per chunk rather than a few per row.

    As ``leads.attribution.record_touch`` does for one touch: the touch becomes the lead's first touch only
    while it has none, and its last touch when it is later than the one recorded.
    """
    touches = Touch.objects.bulk_create(
        Touch(lead_id=row.lead_id, occurred_at=now, source=event.source, medium="event", campaign=event.source,
              channel=Channel.EVENT, is_meaningful=True)
        for row in imported
    )  # fmt: skip
    had_first = {lead.pk for lead in known.leads.values() if lead.first_touch_id is not None}
    for row, touch in zip(imported, touches, strict=True):
        row.touch = touch
    # Every touch of the chunk is alike but for its lead: one UPDATE sets each lead's own.
    own_touch = Touch.objects.filter(lead=OuterRef("pk"), occurred_at=now, source=event.source).order_by("-id")
    Lead.objects.filter(pk__in=[row.lead_id for row in imported if row.lead_id not in had_first]).update(
        first_touch_id=Subquery(own_touch.values("id")[:1]), first_touch_at=now, first_touch_source=event.source,
        first_touch_medium="event", first_touch_campaign=event.source, first_touch_channel=Channel.EVENT,
    )  # fmt: skip
    later = Q(last_touch_at__isnull=True) | Q(last_touch_at__lt=now)
    Lead.objects.filter(later, pk__in=[row.lead_id for row in imported]).update(last_touch_at=now)


def _snapshot(lead: Lead) -> dict[str, Any]:
    return {name: _json(getattr(lead, name)) for name in SNAPSHOT_COLUMNS}


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _record_changes(imported: list[ImportedLead]) -> None:
    """Keep, for each merged lead, the columns the import changed: their value before and after."""
    merged = {row.lead_id: row for row in imported if not row.is_new}
    if not merged:
        return
    for lead in Lead.objects.filter(pk__in=merged).only("id", *SNAPSHOT_COLUMNS):
        row = merged[lead.pk]
        after = _snapshot(lead)
        changed = [name for name in SNAPSHOT_COLUMNS if after[name] != row.previous.get(name)]
        row.imported = {name: after[name] for name in changed}
        row.previous = {
            **{name: row.previous.get(name) for name in changed},
            "owner_id": row.previous.get("owner_id"),
            "stage": row.previous.get("stage"),
        }


def _keep_messages(*, batch_id: int, messages: list[dict[str, Any]]) -> None:
    kept = LeadImport.objects.filter(pk=batch_id).values_list("row_errors", flat=True).get()
    room = KEPT_ROW_MESSAGES - len(kept or [])
    if room > 0:
        LeadImport.objects.filter(pk=batch_id).update(row_errors=[*(kept or []), *messages[:room]])


def resume_stalled_imports(*, now: datetime) -> int:
    """Queue again the imports whose task was lost (queued, or running with no word for a while)."""
    stale = Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now - _stale_after())
    waiting = LeadImport.objects.filter(Q(status=ImportStatus.QUEUED) | Q(status=ImportStatus.RUNNING), stale)
    ids = list(waiting.values_list("pk", flat=True)[:20])
    for batch_id in ids:
        services.enqueue_after_commit(RUN_TASK, batch_id)
    return len(ids)


# --- Undo -------------------------------------------------------------------------------------------------


def undo_blockers(*, batch: LeadImport) -> list[str]:
    """Why the import cannot be undone now: one line per lead a person has touched since (at most ten)."""
    reasons: list[str] = []
    since = batch.started_at or batch.created_at
    rows = ImportedLead.objects.filter(batch=batch).select_related(None)
    for chunk in _batched(rows.values_list("lead_id", "is_new", "previous").iterator(), 1000):
        previous = {lead_id: (is_new, before) for lead_id, is_new, before in chunk}
        by_people = set(
            StageChange.objects.filter(lead_id__in=previous, changed_at__gte=since, changed_by__isnull=False)
            .values_list("lead_id", flat=True)
        )  # fmt: skip
        for lead in Lead.objects.filter(pk__in=previous).only("id", "owner_id", "email", "field_sources"):
            is_new, before = previous[lead.pk]
            reason = _blocker(lead, owner_before=None if is_new else before.get("owner_id"), since=since)
            if reason is None and lead.pk in by_people:
                reason = "a person changed its stage"
            if reason:
                reasons.append(f"{lead}: {reason}")
                if len(reasons) >= 10:
                    return reasons
    return reasons


def _blocker(lead: Lead, *, owner_before: int | None, since: datetime) -> str | None:
    if lead.owner_id is not None and lead.owner_id != owner_before:
        return "it has been assigned to a rep"
    for entry in (lead.field_sources or {}).values():
        is_staffs = isinstance(entry, dict) and entry.get("source") == merge.Source.STAFF
        if is_staffs and entry.get("at", "") >= _json(since):
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


def undo_import(*, batch: LeadImport, by: User | None, now: datetime) -> LeadImport:
    """Take the whole import back; raises ``ImportUndoRefusedError`` when it is running, undone or worked on."""
    if batch.status not in (ImportStatus.DONE, ImportStatus.FAILED):
        status = batch.get_status_display()
        raise ImportUndoRefusedError(f"Only a finished import can be undone; this one is “{status}”.")
    blockers = undo_blockers(batch=batch)
    if blockers:
        raise ImportUndoRefusedError("Sales or staff have worked on leads of this import: " + "; ".join(blockers))
    with transaction.atomic():
        claimed = LeadImport.objects.filter(
            pk=batch.pk, status__in=[ImportStatus.DONE, ImportStatus.FAILED], undone_at__isnull=True
        ).update(status=ImportStatus.UNDONE, undone_at=now, undone_by=by)
        if not claimed:
            raise ImportUndoRefusedError("The import was undone already.")
        rows = ImportedLead.objects.filter(batch=batch)
        for chunk in _batched(rows.filter(is_new=True).values_list("lead_id", flat=True).iterator(), 1000):
            Lead.objects.filter(pk__in=chunk).delete()
        for chunk in _batched(rows.filter(is_new=False).iterator(), 500):
            _restore(chunk)
    batch.refresh_from_db()
    return batch


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
    current = _json(getattr(lead, name))
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
