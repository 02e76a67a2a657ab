"""Writing one chunk of an import (``leads.imports``): set-based, with a row-by-row fallback.

``write_in_bulk`` does for a whole chunk what ``leads.services.capture_lead`` does for one row, in a few
statements: the new leads are inserted together (with the pipeline's waiting mark and their ``lead.created``
events), the existing ones take what the merge policy (``leads.merge``, ``import`` source) lets an import set,
and every lead gets the event's consent and an activity. The rows reaching it were checked already
(``leads.imports.check_row``), so no row fails here; when the chunk's write raises anyway (someone created
one of its people in between, a constraint the check does not know), the caller rolls it back and writes
the chunk with ``write_row_by_row``, each row through the capture service with a savepoint of its own.

A merged lead whose values change is saved on its own (``save(update_fields=...)``): its ``post_save`` is
what the audit trail and the reports' rollup marks listen to. Those are a few percent of a list; the new
leads, their consents, touches and activities are inserted in bulk (no listener cares about their
``post_save``: auditlog skips a lead's creation, reports recompute the recent days anyway); the touches of the
leads merged into are told to the reports by ``leads.events.lead_rows_written``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import OuterRef, Q, Subquery

from leads import events, merge, services
from leads.channels import Channel
from leads.models import (
    Activity,
    ActivityKind,
    Consent,
    ConsentSource,
    ConsentStatus,
    ImportedLead,
    ImportEvent,
    Lead,
    LeadImport,
    LegalBasis,
    PipelineStep,
    ProposedChange,
    ProposedChangeStatus,
    Touch,
)

# The lead's columns an import may change (through capture and its touch), which undo restores.
SNAPSHOT_COLUMNS = (
    *services.CAPTURED_FIELDS, "email", "phone", "custom_answers", "field_sources", "enrichment_sources",
    "first_touch_id", "first_touch_at", "first_touch_source", "first_touch_medium", "first_touch_campaign",
    "first_touch_channel", "last_touch_at",
)  # fmt: skip


@dataclass(frozen=True)
class RowToWrite:
    """A checked row the import creates or merges: its file row, its details and the lead it merges into."""

    row: int
    details: services.LeadDetails
    existing: Lead | None


# --- Set-based ------------------------------------------------------------------------------------------


def write_in_bulk(*, batch: LeadImport, rows: list[RowToWrite], now: datetime) -> list[ImportedLead]:
    """Create and merge the chunk's leads with their consents and activities; the caller adds the touches.

    New leads are marked waiting for the pipeline as they are inserted; merged ones are not (the caller
    gives them to the pipeline in one statement).
    """
    created = _create_leads(batch=batch, rows=[row for row in rows if row.existing is None], now=now)
    merged = _merge_leads(batch=batch, rows=[row for row in rows if row.existing is not None], now=now)
    imported = sorted([*created, *merged], key=lambda item: item.row)
    consents = Consent.objects.bulk_create(_consent(batch=batch, lead_id=item.lead_id, now=now) for item in imported)
    activities = Activity.objects.bulk_create(
        _activity(batch=batch, lead_id=item.lead_id, row=item.row, now=now) for item in imported
    )
    for item, consent, activity in zip(imported, consents, activities, strict=True):
        item.consent, item.activity = consent, activity
    return imported


def _create_leads(*, batch: LeadImport, rows: list[RowToWrite], now: datetime) -> list[ImportedLead]:
    leads = []
    for row in rows:
        # What capture_lead(pipeline_due=True) writes for a new lead, the waiting mark included.
        lead = Lead(created_at=now, stage_changed_at=now, pipeline_step=PipelineStep.WAITING, pipeline_step_at=now,
                    pipeline_due_at=now)  # fmt: skip
        given = {name: value for name, value in incoming_values(row.details).items() if not merge.is_blank(value)}
        services.apply_values(lead=lead, values=given, source=merge.Source.IMPORT, now=now)
        leads.append(lead)
    Lead.objects.bulk_create(leads)
    for lead in leads:
        events.emit(events.LEAD_CREATED, lead_id=lead.pk, event_id=f"lead.created:{lead.pk}", occurred_at=now)
    return [
        ImportedLead(batch=batch, lead=lead, is_new=True, row=row.row) for row, lead in zip(rows, leads, strict=True)
    ]


def _merge_leads(*, batch: LeadImport, rows: list[RowToWrite], now: datetime) -> list[ImportedLead]:
    """Apply the merge policy to each existing lead; what it may not replace becomes a proposed change."""
    imported, proposals = [], []
    for row in rows:
        lead = row.existing
        assert lead is not None
        previous = as_it_was(lead)
        values = incoming_values(row.details)
        current = {name: getattr(lead, name) for name in values if merge.answer_key(name) is None}
        result = merge.merge(
            current=merge.flatten(current, answers=lead.custom_answers),
            sources=merge.sources_of(field_sources=lead.field_sources, enrichment_sources=lead.enrichment_sources),
            incoming=values,
            source=merge.Source.IMPORT,
        )
        if result.to_set:
            changed = services.apply_values(lead=lead, values=result.to_set, source=merge.Source.IMPORT, now=now)
            lead.save(update_fields=[*changed, "updated_at"])
        proposals += [(lead.pk, name, value) for name, value in result.to_propose.items()]
        imported.append(ImportedLead(batch=batch, lead=lead, is_new=False, row=row.row, previous=previous))
    _propose(proposals, now=now)
    return imported


def _propose(proposals: list[tuple[int, str, Any]], *, now: datetime) -> None:
    """Each value the policy did not let the import replace, as an open proposed change (once per value)."""
    if not proposals:
        return
    open_changes = ProposedChange.objects.filter(
        status=ProposedChangeStatus.OPEN, lead_id__in={lead_id for lead_id, _, _ in proposals}
    ).values_list("lead_id", "field", "value")
    already = [(lead_id, name, value) for lead_id, name, value in open_changes]
    ProposedChange.objects.bulk_create(
        ProposedChange(lead_id=lead_id, field=name, value=value, submission=None, created_at=now)
        for lead_id, name, value in proposals
        if (lead_id, name, value) not in already
    )


def incoming_values(details: services.LeadDetails) -> dict[str, Any]:
    """The row's values as the merge policy compares them (checked rows are normalised already)."""
    values: dict[str, Any] = {name: getattr(details, name) for name in services.CAPTURED_FIELDS}
    values["email"], values["phone"] = details.email or None, details.phone
    return merge.flatten(values, answers=details.custom_answers)


def _consent(*, batch: LeadImport, lead_id: int, now: datetime) -> Consent:
    # A lead whose consent was withdrawn is skipped before it gets here: the consent is confirmed.
    return Consent(
        lead_id=lead_id, legal_basis=batch.legal_basis, text=batch.consent_text, source=ConsentSource.IMPORT,
        source_ref=_source_ref(batch), given_at=now, status=ConsentStatus.CONFIRMED,
    )  # fmt: skip


def _activity(*, batch: LeadImport, lead_id: int, row: int, now: datetime) -> Activity:
    return Activity(lead_id=lead_id, kind=_activity_kind(batch), occurred_at=now, created_at=now,
                    metadata=_activity_metadata(batch, row=row))  # fmt: skip


def _source_ref(batch: LeadImport) -> str:
    return f"Import #{batch.pk}: {batch.event.name}"[:200]


def _activity_kind(batch: LeadImport) -> str:
    return ActivityKind.EVENT_BADGE_SCAN if batch.legal_basis == LegalBasis.EVENT else ActivityKind.IMPORTED


def _activity_metadata(batch: LeadImport, *, row: int) -> dict[str, Any]:
    return {"import": batch.pk, "event": batch.event.source, "row": row}


# --- Row by row (the fallback) --------------------------------------------------------------------------


def write_row_by_row(
    *, batch: LeadImport, rows: list[RowToWrite], now: datetime
) -> tuple[list[ImportedLead], dict[int, str]]:
    """Each row through the capture service with a savepoint of its own; returns what it wrote and, per file
    row, the message of each row that failed (counted as an error, the others imported)."""
    imported: list[ImportedLead] = []
    failed: dict[int, str] = {}
    for row in rows:
        try:
            with transaction.atomic():
                imported.append(_capture_row(batch=batch, row=row, now=now))
        except ValidationError as error:
            failed[row.row] = " ".join(error.messages)
        except DatabaseError as error:
            failed[row.row] = f"The database refused the row: {error}"[:300]
    return imported, failed


def _capture_row(*, batch: LeadImport, row: RowToWrite, now: datetime) -> ImportedLead:
    captured = services.capture_lead(
        details=row.details,
        consent=services.ConsentDetails(legal_basis=batch.legal_basis, text=batch.consent_text,
                                        source=ConsentSource.IMPORT, source_ref=_source_ref(batch)),
        activity_kind=_activity_kind(batch),
        activity_metadata=_activity_metadata(batch, row=row.row),
        now=now,
        value_source=merge.Source.IMPORT,
    )  # fmt: skip
    before = row.existing
    previous = as_it_was(before) if before is not None and not captured.is_new else {}
    return ImportedLead(
        batch=batch, lead=captured.lead, is_new=captured.is_new, row=row.row, previous=previous,
        consent=captured.consent, activity=captured.activity,
    )  # fmt: skip


# --- What both ways share ------------------------------------------------------------------------------


def record_touches(
    imported: list[ImportedLead], *, event: ImportEvent, had_first_touch: set[int], now: datetime
) -> None:
    """The event's touch for each imported lead, in a few statements per chunk rather than a few per row.

    As ``leads.attribution.record_touch`` does for one touch: the touch becomes the lead's first touch only
    while it has none (``had_first_touch``: the leads that have one), and its last touch when it is later
    than the one recorded.
    """
    touches = Touch.objects.bulk_create(
        Touch(lead_id=item.lead_id, occurred_at=now, source=event.source, medium="event", campaign=event.source,
              channel=Channel.EVENT, is_meaningful=True)
        for item in imported
    )  # fmt: skip
    for item, touch in zip(imported, touches, strict=True):
        item.touch = touch
    # Every touch of the chunk is alike but for its lead: one UPDATE sets each lead's own.
    own_touch = Touch.objects.filter(lead=OuterRef("pk"), occurred_at=now, source=event.source).order_by("-id")
    Lead.objects.filter(pk__in=[item.lead_id for item in imported if item.lead_id not in had_first_touch]).update(
        first_touch_id=Subquery(own_touch.values("id")[:1]), first_touch_at=now, first_touch_source=event.source,
        first_touch_medium="event", first_touch_campaign=event.source, first_touch_channel=Channel.EVENT,
    )  # fmt: skip
    later = Q(last_touch_at__isnull=True) | Q(last_touch_at__lt=now)
    Lead.objects.filter(later, pk__in=[item.lead_id for item in imported]).update(last_touch_at=now)
    # A merged lead's path changed, which no post_save tells (a new lead's day is counted again anyway).
    merged = [item.lead_id for item in imported if not item.is_new]
    if merged:
        events.lead_rows_written.send(sender=Lead, lead_ids=merged, now=now)


def record_changes(imported: list[ImportedLead]) -> None:
    """Keep, for each merged lead, the columns the import changed: their value before and after."""
    merged = {item.lead_id: item for item in imported if not item.is_new}
    if not merged:
        return
    for lead in Lead.objects.filter(pk__in=merged).only("id", *SNAPSHOT_COLUMNS):
        item = merged[lead.pk]
        after = snapshot(lead)
        changed = [name for name in SNAPSHOT_COLUMNS if after[name] != item.previous.get(name)]
        item.imported = {name: after[name] for name in changed}
        item.previous = {
            **{name: item.previous.get(name) for name in changed},
            "owner_id": item.previous.get("owner_id"),
            "stage": item.previous.get("stage"),
        }


def as_it_was(lead: Lead) -> dict[str, Any]:
    """What undo restores of a merged lead (``snapshot``), with the owner and stage it checks against."""
    return {**snapshot(lead), "owner_id": lead.owner_id, "stage": lead.stage}


def snapshot(lead: Lead) -> dict[str, Any]:
    return {name: as_json(getattr(lead, name)) for name in SNAPSHOT_COLUMNS}


def as_json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
