"""Writes to leads. Every capture path calls ``capture_lead``; every stage change goes through ``change_stage``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from auditlog.models import LogEntry as AuditLogEntry
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from core import bulk
from core.inserts import insert, insert_unless_conflict
from core.queue import async_task
from core.statements import Statement
from leads import attribution, events, import_erasure, merge, suppression
from leads.enrichment import freshness
from leads.models import (
    Activity,
    ActivityKind,
    CaptureForm,
    Consent,
    ConsentStatus,
    ImportedLead,
    Lead,
    PipelineStep,
    ProposedChange,
    ProposedChangeStatus,
    ProviderRun,
    Stage,
    StageChange,
    Submission,
    Touch,
)
from leads.normalise import normalise_email, normalise_phone

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

# Lead attributes a capture may set (with email, phone and custom answers), as the merge policy allows.
CAPTURED_FIELDS = (
    "first_name",
    "last_name",
    "company_name",
    "company_domain",
    "job_title",
    "country",
    "industry",
    "size_band",
)


@dataclass(frozen=True)
class LeadDetails:
    email: str = ""
    phone: str = ""
    first_name: str = ""
    last_name: str = ""
    company_name: str = ""
    company_domain: str = ""
    job_title: str = ""
    country: str = ""
    industry: str = ""
    size_band: str = ""
    custom_answers: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ConsentDetails:
    legal_basis: str
    text: str
    source: str
    text_version: str = ""
    source_ref: str = ""
    ip_address: str | None = None
    consent_text_id: int | None = None  # the form's ConsentText version shown, for form captures
    is_pending: bool = False  # double opt-in: pending until the person confirms by email


@dataclass(frozen=True)
class TouchDetails:
    source: str = ""
    medium: str = ""
    campaign: str = ""
    content: str = ""
    term: str = ""
    click_id: str = ""
    referrer: str = ""
    landing_page: str = ""
    channel: str = ""


@dataclass(frozen=True)
class CaptureResult:
    lead: Lead
    is_new: bool
    activity: Activity
    consent: Consent | None = None


@dataclass(frozen=True)
class PreparedLead:
    """A capture's details checked and normalised, and the lead they make if the person is new: the Python
    work of a capture, done before its transaction opens (``prepare_lead``) so the write lock is held only
    for the statements."""

    values: Mapping[str, Any]
    new_lead: Lead


_LEAD_FIELD_NAMES = tuple(field.name for field in Lead._meta.concrete_fields)


def prepare_lead(*, details: LeadDetails, source: merge.Source, now: datetime) -> PreparedLead:
    """Normalise and check ``details`` and build the lead a new person would get; reads nothing, writes nothing.

    Raises ``ValidationError`` when there is no usable direct channel or a value no lead may hold (the
    checks are the same whether the person turns out new or known: a refused value is refused as a
    proposed change too).
    """
    values = _incoming_values(details)
    if values["email"]:
        validate_email(values["email"])
    if not values["email"] and not values["phone"]:
        raise ValidationError({"email": "An email address or a phone number is required."})
    lead = Lead(created_at=now, stage_changed_at=now)
    given = {name: value for name, value in values.items() if not merge.is_blank(value)}
    changed = apply_values(lead=lead, values=given, source=source, now=now)
    # Every value given is a field of this lead, so this is also the check of what a known lead is sent. The
    # columns nobody set hold the model's defaults: checking those would find nothing.
    lead.full_clean(
        exclude=[name for name in _LEAD_FIELD_NAMES if name not in changed],
        validate_unique=False,
        validate_constraints=False,
    )
    return PreparedLead(values=values, new_lead=lead)


def capture_lead(
    *,
    details: LeadDetails | PreparedLead,
    consent: ConsentDetails | None,
    activity_kind: str,
    now: datetime,
    activity_metadata: Mapping[str, Any] | None = None,
    touch: TouchDetails | None = None,
    value_source: merge.Source = merge.Source.PERSON,
    submission: Submission | None = None,
    pipeline_due: bool = False,
) -> CaptureResult:
    """Create or update the lead for this person, with its consent, touch and activity, in one transaction.

    The lead is found by normalised email, or by phone when no email is given. An existing lead takes the
    values ``value_source`` may set under the merge policy (``leads.merge``); each other differing value
    is kept as a proposed change of ``submission``. After a withdrawal, a consent is pending until the
    person confirms it. With ``pipeline_due`` the lead is marked due for the pipeline in the same
    transaction (``enqueue_pipeline``). Raises ``ValidationError`` when there is no usable direct channel
    or a value no lead may hold.

    ``details`` may come prepared (``prepare_lead``, with the same ``value_source`` and ``now``) by a caller
    that opened its transaction after preparing. ``submission``, when given, is saved here with its lead and
    consent (one INSERT, or an UPDATE of those two columns when it is stored already), and the activity names it.
    """
    prepared = (
        details if isinstance(details, PreparedLead) else prepare_lead(details=details, source=value_source, now=now)
    )

    # No savepoint of its own inside a caller's transaction: an error here rolls that back whole anyway.
    with transaction.atomic(savepoint=False):
        lead, is_new, to_propose = _upsert_lead(
            prepared=prepared, source=value_source, now=now, pipeline_due=pipeline_due
        )
        if pipeline_due and not is_new:
            enqueue_pipeline(lead_id=lead.pk)
        consent_row = None
        if consent is not None:
            # A new lead has no consent to have withdrawn: no need to look.
            consent_row = _record_consent(lead=lead, consent=consent, source=value_source, now=now, is_new=is_new)
        metadata = dict(activity_metadata or {})
        if submission is not None:
            _save_submission(submission, lead=lead, consent=consent_row)
            metadata["submission"] = submission.pk
        _propose(lead=lead, values=to_propose, submission=submission, now=now)
        if touch is not None:
            attribution.record_touch(lead=lead, fields=_touch_fields(touch), now=now, is_new_lead=is_new)
        activity = insert(Activity(lead=lead, kind=activity_kind, occurred_at=now, metadata=metadata, created_at=now))
    return CaptureResult(lead=lead, is_new=is_new, activity=activity, consent=consent_row)


def _save_submission(submission: Submission, *, lead: Lead, consent: Consent | None) -> None:
    """Store the submission with its lead and consent: inserted with them rather than updated after them."""
    submission.lead, submission.consent = lead, consent
    if submission.pk is None:
        insert(submission)
    else:
        submission.save(update_fields=["lead", "consent"])


# The lookups of every capture, compiled once (``core.statements``): compiling the lead's fifty columns cost a
# capture more than running the query. A phone-only lead who later gives an email is the same person; a lead that
# already has a different email is not. Found by phone, an anonymous capture proposes its email (``_upsert_lead``).
_LEAD_BY_EMAIL = Statement(lambda email: Lead.objects.filter(email=email).order_by()[:1], email=str)
_PHONE_ONLY_LEAD = Statement(
    lambda phone: Lead.objects.filter(phone=phone, email__isnull=True).order_by("id")[:1], phone=str
)


def _find_lead(*, email: str | None, phone: str) -> Lead | None:
    if email:
        lead: Lead | None = _LEAD_BY_EMAIL.first(email=email)
        if lead is not None:
            return lead
    if phone:
        return _PHONE_ONLY_LEAD.first(phone=phone)
    return None


def _incoming_values(details: LeadDetails) -> dict[str, Any]:
    """The details as the merge policy compares them: normalised, each custom answer as "custom_answers.<key>"."""
    incoming: dict[str, Any] = {name: getattr(details, name).strip() for name in CAPTURED_FIELDS}
    incoming["country"] = incoming["country"].upper()
    incoming["phone"] = normalise_phone(details.phone, country=incoming["country"])
    incoming["email"] = normalise_email(details.email)
    return merge.flatten(incoming, answers=details.custom_answers)


def _upsert_lead(
    *, prepared: PreparedLead, source: merge.Source, now: datetime, pipeline_due: bool = False
) -> tuple[Lead, bool, Mapping[str, Any]]:
    """The person's lead, new or merged, whether it is new, and the values to keep as proposed changes."""
    values = prepared.values
    email, phone = values["email"], values["phone"]

    lead = _find_lead(email=email, phone=phone)
    if lead is None:
        lead = prepared.new_lead
        if pipeline_due:
            # What ``enqueue_pipeline`` would write, written with the lead instead of in an UPDATE after it.
            wake_at = timezone.now()
            lead.pipeline_step, lead.pipeline_step_at, lead.pipeline_due_at = PipelineStep.WAITING, wake_at, wake_at
            enqueue_after_commit(_wake_pipeline)
        # Another capture may have stored this person since the lookup (not on SQLite, which takes its write lock
        # when the transaction begins): then nothing is stored, and this one merges into theirs.
        if insert_unless_conflict(lead, unique_field="email"):
            events.emit(events.LEAD_CREATED, lead_id=lead.pk, event_id=f"lead.created:{lead.pk}", occurred_at=now)
            return lead, True, {}
        lead = _find_lead(email=email, phone=phone)
        if lead is None:
            raise IntegrityError("A lead with this email address was stored meanwhile, yet none is found.")

    if email and lead.email is None and source == merge.Source.PERSON:
        # Found by phone alone: whoever knows the number could send their own address. Filled, it would take the
        # double opt-in email and, confirmed, make their values the verified person's; proposed, staff decide.
        values = {name: value for name, value in values.items() if name != "email"}
        result = _merge_values(lead=lead, values=values, source=source, now=now)
        return lead, False, {**result.to_propose, "email": email}
    result = _merge_values(lead=lead, values=values, source=source, now=now)
    return lead, False, result.to_propose


def _check_values(values: Mapping[str, Any]) -> None:
    """Refuse a value no lead may hold (an overlong country, a malformed email), whether it is set or proposed."""
    given = {
        name: value for name, value in values.items() if merge.answer_key(name) is None and not merge.is_blank(value)
    }
    Lead(**given).clean_fields(exclude=[f.name for f in Lead._meta.concrete_fields if f.name not in given])


def _merge_values(
    *, lead: Lead, values: Mapping[str, Any], source: merge.Source, now: datetime, by: User | None = None
) -> merge.MergeResult:
    """Save on ``lead`` what the merge policy lets ``source`` set of ``values``; returns the policy's answer."""
    current = {name: getattr(lead, name) for name in values if merge.answer_key(name) is None}
    result = merge.merge(
        current=merge.flatten(current, answers=lead.custom_answers),
        sources=merge.sources_of(field_sources=lead.field_sources, enrichment_sources=lead.enrichment_sources),
        incoming=values,
        source=source,
    )
    if result.to_set:
        changed = apply_values(lead=lead, values=result.to_set, source=source, now=now, by=by)
        lead.save(update_fields=[*changed, "updated_at"])
        _enrich_again_if_marked(lead=lead, changed=changed)
    return result


def apply_values(
    *, lead: Lead, values: Mapping[str, Any], source: merge.Source, now: datetime, by: User | None = None
) -> list[str]:
    """Set ``values`` (fields and "custom_answers.<key>") on ``lead`` with their source; returns the columns changed."""
    answers, sources = dict(lead.custom_answers), dict(lead.field_sources)
    changed = {"field_sources"}
    for name, value in values.items():
        key = merge.answer_key(name)
        if key is None:
            setattr(lead, name, value)
            changed.add(name)
        else:
            answers[key] = value
            changed.add("custom_answers")
        sources[name] = _source_entry(source=source, now=now, by=by)
    lead.custom_answers, lead.field_sources = answers, sources
    # A provider's provenance no longer describes a value someone else set; without it, enrichment treats
    # the value as typed and fills only around it.
    if source != merge.Source.PROVIDER and set(values) & set(lead.enrichment_sources):
        lead.enrichment_sources = {k: v for k, v in lead.enrichment_sources.items() if k not in values}
        changed.add("enrichment_sources")
    # A new title, address or company makes what providers derived from the old one stale.
    changed.update(freshness.mark_for_enrichment(lead, changed=values))
    return sorted(changed)


def _enrich_again_if_marked(*, lead: Lead, changed: list[str]) -> None:
    if "enrichment_status" in changed:
        enqueue_pipeline(lead_id=lead.pk)  # the pipeline enriches, then rescores


def _source_entry(*, source: merge.Source, now: datetime, by: User | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"source": source.value, "at": now.isoformat()}
    if by is not None:
        entry["by"] = by.pk
    return entry


def _propose(*, lead: Lead, values: Mapping[str, Any], submission: Submission | None, now: datetime) -> None:
    """Keep each value the policy did not let replace the lead's as an open proposed change, once per value."""
    if not values:
        return
    already = list(
        ProposedChange.objects.filter(lead=lead, status=ProposedChangeStatus.OPEN, field__in=values).values_list(
            "field", "value"
        )
    )
    ProposedChange.objects.bulk_create(
        ProposedChange(lead=lead, field=name, value=value, submission=submission, created_at=now)
        for name, value in values.items()
        if (name, value) not in already
    )


def _record_consent(
    *, lead: Lead, consent: ConsentDetails, source: merge.Source, now: datetime, is_new: bool = False
) -> Consent:
    # Anyone can send a form with the person's address: after a withdrawal, only the person restores
    # consent, by following the confirm link we email them (``leads.submissions.confirm_consent``).
    is_pending = consent.is_pending or (
        source != merge.Source.PERSON_VERIFIED and not is_new and _consent_was_withdrawn(lead)
    )
    return insert(
        Consent(
            lead=lead,
            legal_basis=consent.legal_basis,
            text=consent.text,
            text_version=consent.text_version,
            source=consent.source,
            source_ref=consent.source_ref,
            given_at=now,
            ip_address=consent.ip_address or None,
            consent_text_id=consent.consent_text_id,
            status=ConsentStatus.PENDING if is_pending else ConsentStatus.CONFIRMED,
        )
    )


# Asked on every capture of a known person; compiled once (``core.statements``).
_WITHDRAWN_CONSENT = Statement(
    lambda lead_id: (
        Consent.objects.filter(lead_id=lead_id, withdrawn_at__isnull=False).order_by().values_list("pk")[:1]
    ),
    lead_id=int,
)
_STANDING_CONSENT = Statement(
    lambda lead_id: (
        Consent.objects.filter(lead_id=lead_id, status=ConsentStatus.CONFIRMED, withdrawn_at__isnull=True)
        .order_by()
        .values_list("pk")[:1]
    ),
    lead_id=int,
)


def _consent_was_withdrawn(lead: Lead) -> bool:
    """The lead withdrew consent and has not confirmed a new one since."""
    if _WITHDRAWN_CONSENT.first(lead_id=lead.pk) is None:
        return False
    return _STANDING_CONSENT.first(lead_id=lead.pk) is None


def _touch_fields(touch: TouchDetails) -> dict[str, str]:
    return {name: value.strip() for name, value in touch.__dict__.items()}


# --- Activities and the pipeline ---------------------------------------------------------------


def enqueue_pipeline(*, lead_id: int) -> None:
    """Give the lead pipeline work (enrich, score, route, assign) and wake the workers after commit.

    The work is recorded on the lead, in the caller's transaction: ``pipeline_due_at`` becomes now
    unless the lead was already due earlier (it keeps its place in the line). The wake-up goes out once
    per transaction; if the broker is down or loses it, the pipeline's periodic run finds the lead anyway.
    """
    enqueue_pipeline_for(lead_ids=[lead_id])


def enqueue_pipeline_for(*, lead_ids: list[int]) -> None:
    """``enqueue_pipeline`` for many leads in one statement (an import's chunk)."""
    if lead_ids:
        # Written as SQL: the ORM's conditional UPDATE cost a known person's capture more CPU to build than to run.
        at = bulk.db_value(Lead, "pipeline_step_at", timezone.now())
        step, step_at, reason, due_at, lease_owner, pk = (
            bulk.column(Lead, name)
            for name in (
                "pipeline_step", "pipeline_step_at", "pipeline_reason", "pipeline_due_at", "pipeline_lease_owner", "id"
            )
        )  # fmt: skip
        # A lead a worker holds is due again from now, not from its earlier time: the worker keeps it due when it
        # finishes only if it was asked for after the claim (handoff.pipeline._finish); else this work is lost.
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {connection.ops.quote_name(Lead._meta.db_table)} SET {step} = %s, {step_at} = %s,"
                f" {reason} = %s, {due_at} = CASE WHEN {due_at} <= %s AND {lease_owner} = '' THEN {due_at} ELSE %s END"
                f" WHERE {pk} IN ({', '.join(['%s'] * len(lead_ids))})",
                [PipelineStep.WAITING.value, at, "", at, at, *lead_ids],
            )
    enqueue_after_commit(_wake_pipeline)


def _wake_pipeline() -> None:
    events.pipeline_work_due.send(sender=Lead)


def enqueue_after_commit(task: str | Callable[[], None], object_id: int | None = None) -> None:
    """After the current transaction commits, hand ``task`` to the task queue for ``object_id``, once.

    ``task`` is a django-q2 task path (queued with ``object_id``) or a function to call. Asking again for
    the same task and object before the commit queues nothing more, so a batch of fifty activities for
    one lead wakes its pipeline once. What the task works on is already stored when it is queued, so a
    queue failure is logged, not raised: each task has a periodic sweep behind it.
    """
    callback = _Enqueue(task, object_id)
    connection = transaction.get_connection()
    # Django drops the callbacks of a rolled-back block from this list, so a task is only skipped
    # while an identical one is really waiting for the commit.
    if connection.in_atomic_block and any(queued == callback for _, queued, _ in connection.run_on_commit):
        return
    transaction.on_commit(callback)


@dataclass(frozen=True)
class _Enqueue:
    task: str | Callable[[], None]
    object_id: int | None

    def __call__(self) -> None:
        try:
            if callable(self.task):
                self.task()
            else:
                async_task(self.task, self.object_id)
        except Exception:
            logger.exception("Could not enqueue %s for %s; what it works on is stored", self.task, self.object_id)


def record_activity(
    *, lead: Lead, kind: str, occurred_at: datetime, now: datetime, metadata: Mapping[str, Any] | None = None
) -> Activity:
    """Record something the lead did (a webinar attended, an email clicked) and queue a rescore.

    An activity reported twice with the same ``metadata["external_id"]`` is stored once, so an
    integration may resend a batch safely.
    """
    if kind not in ActivityKind.values:
        raise ValidationError({"kind": f"Unknown activity kind {kind!r}."})
    metadata = dict(metadata or {})
    external_id = metadata.get("external_id")
    if external_id:
        existing = Activity.objects.filter(lead=lead, kind=kind, metadata__external_id=external_id).first()
        if existing is not None:
            return existing
    with transaction.atomic():
        activity = Activity.objects.create(
            lead=lead, kind=kind, occurred_at=occurred_at, metadata=metadata, created_at=now
        )
        enqueue_pipeline(lead_id=lead.pk)
    return activity


# --- Consent withdrawal ---------------------------------------------------------------------------


def withdraw_consents(*, lead: Lead, now: datetime, source: str, by: User | None = None, note: str = "") -> int:
    """Withdraw every consent of ``lead`` not withdrawn yet (GDPR art. 7(3)); returns how many were.

    ``source`` says how the withdrawal reached us: ``link`` (the person, through the link in our emails),
    ``admin`` or ``api`` (a marketer or another system recording one received by phone or email). Pending
    double opt-in consents are withdrawn too, so a later click on the confirm link makes none usable.

    The update is conditional, so a second withdrawal (a double click, a retried request) changes
    nothing, records nothing and returns 0. The lead's stage and owner are left alone: scoring never makes
    a lead without a usable consent an MQL, the rep's lead page warns a rep who has it already, and
    ``lead.consent_withdrawn`` tells the systems that subscribe (a CRM, the email tool).
    """
    with transaction.atomic():
        withdrawn = Consent.objects.filter(lead=lead, withdrawn_at__isnull=True).update(withdrawn_at=now)
        if not withdrawn:
            return 0
        metadata: dict[str, Any] = {"source": source, "note": note, "consents": withdrawn}
        if by is not None:
            metadata["by"] = by.pk
        activity = Activity.objects.create(
            lead=lead, kind=ActivityKind.CONSENT_WITHDRAWN, occurred_at=now, metadata=metadata, created_at=now
        )
        # The note is an internal remark: it stays here. The activity's id makes the event id, once per withdrawal.
        event = events.LEAD_CONSENT_WITHDRAWN
        events.emit(
            event,
            lead_id=lead.pk,
            event_id=f"{event}:{activity.pk}",
            data={"source": source, "consents": withdrawn},
            occurred_at=now,
        )
    return withdrawn


# --- Proposed changes (the merge policy, ``leads.merge``) ----------------------------------------------


class ChangeAlreadyDecidedError(Exception):
    """Someone accepted or dismissed the proposed change first."""


def accept_proposed_change(*, change: ProposedChange, by: User, now: datetime) -> ProposedChange:
    """Make the proposed value the lead's, as set by staff (``by``), and give the lead to the pipeline to rescore.

    The claim is conditional: of two clicks one accepts and the other raises ``ChangeAlreadyDecidedError``.
    A value no lead may hold raises ``ValidationError`` and leaves the change open.
    """
    with transaction.atomic():
        _decide(change=change, status=ProposedChangeStatus.ACCEPTED, by=by, now=now)
        _check_values({change.field: change.value})
        lead = Lead.objects.get(pk=change.lead_id)
        _merge_values(lead=lead, values={change.field: change.value}, source=merge.Source.STAFF, now=now, by=by)
        enqueue_pipeline(lead_id=lead.pk)
    return change


def dismiss_proposed_change(*, change: ProposedChange, by: User, now: datetime) -> ProposedChange:
    """Keep the lead's value and close the proposed change; raises ``ChangeAlreadyDecidedError`` when decided."""
    _decide(change=change, status=ProposedChangeStatus.DISMISSED, by=by, now=now)
    return change


def _decide(*, change: ProposedChange, status: str, by: User | None, now: datetime) -> None:
    decided = ProposedChange.objects.filter(pk=change.pk, status=ProposedChangeStatus.OPEN).update(
        status=status, decided_at=now, decided_by=by
    )
    if decided != 1:
        raise ChangeAlreadyDecidedError("This change was already accepted or dismissed.")
    change.status, change.decided_at, change.decided_by = status, now, by


def apply_verified_details(*, lead_id: int, details: LeadDetails, now: datetime) -> Lead:
    """The person proved the address (followed the confirm link we emailed): what they sent may now replace
    what they typed before, never what staff, a provider or an import set (``leads.merge``). The proposed
    changes it settles are closed as accepted, by nobody: the person decided."""
    values = _incoming_values(details)
    with transaction.atomic():
        lead = Lead.objects.get(pk=lead_id)
        result = _merge_values(lead=lead, values=values, source=merge.Source.PERSON_VERIFIED, now=now)
        settled = [
            change.pk
            for change in ProposedChange.objects.filter(
                lead=lead, status=ProposedChangeStatus.OPEN, field__in=result.to_set
            )
            if change.value == result.to_set[change.field]
        ]
        ProposedChange.objects.filter(pk__in=settled, status=ProposedChangeStatus.OPEN).update(
            status=ProposedChangeStatus.ACCEPTED, decided_at=now
        )
    return lead


def record_staff_edit(*, lead: Lead, before: Mapping[str, Any], by: User, now: datetime) -> Lead:
    """Record that ``by`` set the lead's values that differ from ``before`` (field -> value before the edit), so
    no submission replaces them. Admin calls it after saving a lead."""
    fields = [name for name in before if name != "custom_answers"]
    old = merge.flatten({name: before[name] for name in fields}, answers=before.get("custom_answers") or {})
    new = merge.flatten({name: getattr(lead, name) for name in fields}, answers=lead.custom_answers or {})
    # A value staff cleared (or an answer they removed) is empty again, and empty values anyone may fill.
    edited = {name: value for name, value in new.items() if old.get(name) != value}
    if edited:
        changed = apply_values(lead=lead, values=edited, source=merge.Source.STAFF, now=now, by=by)
        lead.save(update_fields=[*changed, "updated_at"])
        _enrich_again_if_marked(lead=lead, changed=changed)
    return lead


# --- Stages -------------------------------------------------------------------------------------

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    Stage.NEW: frozenset({Stage.NURTURE, Stage.MQL, Stage.DISQUALIFIED}),
    Stage.NURTURE: frozenset({Stage.MQL, Stage.DISQUALIFIED}),
    Stage.MQL: frozenset({Stage.NURTURE, Stage.SQL, Stage.REJECTED, Stage.DISQUALIFIED}),
    Stage.SQL: frozenset({Stage.NURTURE, Stage.REJECTED, Stage.DISQUALIFIED}),
    Stage.REJECTED: frozenset({Stage.NURTURE, Stage.MQL, Stage.DISQUALIFIED}),
    Stage.DISQUALIFIED: frozenset({Stage.NURTURE}),
}


# The stages other systems hear about (webhooks), and their lead events.
STAGE_EVENTS: dict[str, str] = {
    Stage.MQL: events.LEAD_MQL,
    Stage.SQL: events.LEAD_SQL,
    Stage.REJECTED: events.LEAD_REJECTED,
}


class StageTransitionError(Exception):
    """The requested stage cannot follow the lead's current stage."""


class StageConflictError(StageTransitionError):
    """The lead's stage changed under us: someone else acted on it first."""


def change_stage(*, lead: Lead, to_stage: str, now: datetime, by: User | None = None, reason: str = "") -> Lead:
    """Move ``lead`` to ``to_stage`` and record the change; a no-op when it is already there.

    The update is conditional on the stage we read, so of two concurrent changes exactly one wins
    and the other raises ``StageConflictError`` (this works the same on SQLite and PostgreSQL).
    """
    from_stage = lead.stage
    if from_stage == to_stage:
        return lead
    if to_stage not in ALLOWED_TRANSITIONS[from_stage]:
        raise StageTransitionError(f"A lead cannot move from {from_stage} to {to_stage}.")

    with transaction.atomic():
        updated = Lead.objects.filter(pk=lead.pk, stage=from_stage).update(
            stage=to_stage, stage_changed_at=now, updated_at=now
        )
        if updated != 1:
            raise StageConflictError("This lead was changed by someone else; reload and try again.")
        change = StageChange.objects.create(
            lead=lead, from_stage=from_stage, to_stage=to_stage, changed_by=by, changed_at=now, reason=reason
        )
        event = STAGE_EVENTS.get(to_stage)
        if event is not None:
            # Announced after commit, once per StageChange: its id is the event id listeners deduplicate on.
            events.emit(
                event, lead_id=lead.pk, event_id=f"{event}:{change.pk}", data={"reason": reason}, occurred_at=now
            )
    lead.stage = to_stage
    lead.stage_changed_at = now
    return lead


# --- Ownership ---------------------------------------------------------------------------------
# Handoff decides who works a lead and records it (assignments, SLA clocks); the lead's own column
# is written here, so the leads app stays the only writer of its model.


def set_owner(*, lead: Lead, owner: User, now: datetime) -> None:
    """Give the lead to the sales rep ``owner``; its pipeline has reached its end, whoever assigned it."""
    step = {"pipeline_step": PipelineStep.ASSIGNED, "pipeline_step_at": now, "pipeline_reason": f"Owned by {owner}."}
    Lead.objects.filter(pk=lead.pk).update(owner=owner, updated_at=now, **step)
    lead.owner = owner


def set_owners(*, lead_ids: Iterable[int], owner: User, now: datetime) -> None:
    """``set_owner`` for several leads given to the same rep (a pipeline batch): one statement."""
    step = {"pipeline_step": PipelineStep.ASSIGNED, "pipeline_step_at": now, "pipeline_reason": f"Owned by {owner}."}
    Lead.objects.filter(pk__in=list(lead_ids)).update(owner=owner, updated_at=now, **step)


def release_owner(*, lead_id: int, owner: User, now: datetime) -> bool:
    """Take the lead back from ``owner`` for marketing; False when it is no longer theirs."""
    step = {"pipeline_step": PipelineStep.PARKED, "pipeline_step_at": now, "pipeline_reason": "Sent back by sales."}
    return Lead.objects.filter(pk=lead_id, owner=owner).update(owner=None, updated_at=now, **step) == 1


def set_nurture_end(*, lead_id: int, ends_at: datetime | None, now: datetime) -> bool:
    """Park the lead in nurture until ``ends_at`` (scoring will not make it an MQL before), or end the park (None).

    Returns whether the stored value changed, so that of two sweeps ending the same park only one goes on.
    """
    changed = (
        Lead.objects.filter(pk=lead_id).exclude(nurture_ends_at=ends_at).update(nurture_ends_at=ends_at, updated_at=now)
    )
    return changed == 1


# --- Routing ------------------------------------------------------------------------------------


def mark_routed(*, lead_id: int, now: datetime) -> None:
    """Record that routing decided for the lead at ``now`` (where it went is handoff's ``RoutingDecision``)."""
    mark_leads_routed(lead_ids=[lead_id], now=now)


def mark_leads_routed(*, lead_ids: Iterable[int], now: datetime) -> None:
    """``mark_routed`` for a batch of leads: one statement, and ``events.leads_routed`` for those who keep count."""
    lead_ids = list(lead_ids)
    Lead.objects.filter(pk__in=lead_ids).update(routed_at=now, updated_at=now)
    events.leads_routed.send(sender=Lead, lead_ids=lead_ids, now=now)


# --- Data subject requests (GDPR art. 15, 17 and 20) ----------------------------------------------------

# The lead's values about the person, blanked by erasure (email becomes NULL, custom answers {}): who they are, and
# their role, typed or read by enrichment from the job title (seniority, function) or the address (its domain kind).
# The company's facts stay (``Kept`` in ``erase_lead_personal_data``).
ERASED_FIELDS = (
    "email", "phone", "first_name", "last_name", "job_title", "custom_answers", "seniority", "job_function",
    "email_domain_kind",
)  # fmt: skip
# The reason on the stage change an erasure makes; people's reasons are blanked, this one stays.
ERASURE_REASON = "Personal data erased"
# Marketing still works leads in these stages: an erased lead leaves them, so that neither scoring nor the
# rotation takes it up again. Stages sales decided (sql, rejected) and disqualified stay as they are.
ERASED_LEAVES_STAGES = (Stage.NEW, Stage.NURTURE, Stage.MQL)
# Activity metadata the app writes itself that says nothing about the person: a form slug (reports filter
# on it), a submission id, how a withdrawal came, how many consents, a user id. Notes, external ids, URLs
# and whatever else another system sent are erased.
KEPT_ACTIVITY_METADATA = ("form", "submission", "source", "consents", "by")
# The values the app itself writes under "source" (how a withdrawal came): another system may send any text there.
WITHDRAWAL_SOURCES = frozenset({"link", "admin", "api", "erasure", "unsubscribe", "complaint"})
# A submission's attribution keeps the campaign, not the visit (addresses, click ids).
KEPT_ATTRIBUTION = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")


def lead_personal_data(*, lead: Lead) -> dict[str, Any]:
    """The leads app's part of a lead's data export (GDPR art. 15 and 20): the lead and its own records.

    ``integrations.privacy.export_lead_data`` adds the other apps' parts and makes the whole JSON.
    """
    submissions = lead.submissions.select_related("form").order_by("submitted_at", "id")
    return {
        "lead": _fields_of(lead),
        "consents": [_fields_of(row) for row in lead.consents.order_by("given_at", "id")],
        "submissions": [{"form": row.form.name, **_fields_of(row)} for row in submissions],
        "touches": [_fields_of(row) for row in lead.touches.order_by("occurred_at", "id")],
        "activities": [_fields_of(row) for row in lead.activities.order_by("occurred_at", "id")],
        "stage_changes": [_fields_of(row) for row in lead.stage_changes.order_by("changed_at", "id")],
        "enrichment_runs": [_fields_of(row) for row in lead.provider_runs.order_by("started_at", "id")],
        "proposed_changes": [_fields_of(row) for row in lead.proposed_changes.order_by("created_at", "id")],
        # The audit trail of the lead's row: earlier e-mails, phones and names are held there too.
        "history": [
            {"at": entry.timestamp, "action": entry.get_action_display(), "changes": entry.changes_dict}
            for entry in AuditLogEntry.objects.get_for_object(lead).order_by("timestamp", "id")
        ],
    }


def _fields_of(row: models.Model) -> dict[str, Any]:
    return {f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields if f.attname != "lead_id"}


def erase_lead_personal_data(*, lead: Lead, now: datetime, by: User | None, reason: str) -> None:
    """The leads app's part of erasing a lead's personal data (GDPR art. 17); records who erased it and why.

    Only ``integrations.privacy.erase_lead`` calls this, inside its transaction, before the other apps' parts.
    Blanked: name, job title and the role enrichment read from it (seniority, function), email (NULL) and its
    domain kind, phone, custom answers (and who set each of these), score reasons (they quote answers),
    submissions' answers, IP address and user agent, consents' IP address, activity metadata but the
    app's own non-personal keys, people's stage-change reasons, the query string of touch and submission
    addresses, click ids, enrichment errors and conflicts, what imports kept for their undo, the person's rows in
    stored import files and the row messages quoting them (``leads.import_erasure``), and the admin
    history's name for the lead. Kept: company
    and firmographics, stage history, touches' source, medium, campaign and channel, scores, and the
    consents' basis, text and times as the proof they were given.

    Processing ends too: every consent is withdrawn (subscribers hear ``lead.consent_withdrawn``), a
    lead marketing still works is disqualified, and its enrichment retry and pipeline work due are cancelled
    (no provider is called for an erased lead: ``enrichment.is_enrichment_due``). A ``data_erased`` activity
    records who and why, once; run again, the erasure changes nothing more.
    """
    if not reason.strip():
        raise ValidationError({"reason": "Say why the data is erased (e.g. the request's date and channel)."})
    with transaction.atomic():
        # No list staff import later brings the person back (leads.imports skips suppressed addresses and, for a
        # person known by phone alone, numbers).
        email, phone = Lead.objects.filter(pk=lead.pk).values_list("email", "phone").get()
        suppression.suppress_address(email=email, phone=phone, reason="Erased on request", now=now)
        # Nor do the uploads of imports keep the person's rows (redacted in place: row numbers stay).
        import_erasure.erase_from_uploads(lead_id=lead.pk, email=email, phone=phone)
        _erase_held_submissions(email=email, phone=phone)
        is_first = Lead.objects.filter(pk=lead.pk, erased_at__isnull=True).update(erased_at=now, updated_at=now)
        # Before the scrub, which trims the withdrawal's activity as it would on a second run.
        withdraw_consents(lead=lead, now=now, source="erasure", by=by)
        _erase_lead_row(lead_id=lead.pk, now=now)
        _erase_lead_records(lead_id=lead.pk)
        current = Lead.objects.get(pk=lead.pk)
        if current.stage in ERASED_LEAVES_STAGES:
            change_stage(lead=current, to_stage=Stage.DISQUALIFIED, now=now, by=by, reason=ERASURE_REASON)
        if is_first:
            metadata = {"by": by.pk if by is not None else None, "reason": reason.strip()}
            Activity.objects.create(
                lead=lead, kind=ActivityKind.DATA_ERASED, occurred_at=now, metadata=metadata, created_at=now
            )
    lead.refresh_from_db()


def _erase_held_submissions(*, email: str | None, phone: str) -> None:
    """Blank the submissions held as spam that the person sent: they have no lead yet, so they are found by the
    address they gave, or by the number when they gave no address (normalised as the lead's, however it was typed).
    """
    blanks: dict[str, object] = {"payload": {}, "attribution": {}, "ip_address": None, "user_agent": ""}
    held = Submission.objects.filter(lead__isnull=True)
    if email:
        held.filter(payload__email__iexact=email).update(**blanks)
    if not phone:
        return
    # Held submissions are few (spam and the time trap's), and a number is matched only once normalised: in Python.
    numbers = held.filter(payload__has_key="phone").exclude(payload__phone="").values_list("pk", "payload")
    ids = [
        pk
        for pk, payload in numbers.iterator(chunk_size=2000)
        if not normalise_email(str(payload.get("email") or ""))
        and normalise_phone(str(payload.get("phone") or ""), country=str(payload.get("country") or "")) == phone
    ]
    for start in range(0, len(ids), 500):
        Submission.objects.filter(pk__in=ids[start : start + 500]).update(**blanks)


def _erase_lead_row(*, lead_id: int, now: datetime) -> None:
    lead = Lead.objects.get(pk=lead_id)
    breakdown = [{**row, "reason": ""} if isinstance(row, dict) else row for row in lead.score_breakdown or []]
    erased: dict[str, object] = dict.fromkeys(ERASED_FIELDS, "") | {"email": None, "custom_answers": {}}
    # Who set each erased value (typed, imported, a provider) goes with it; who set the company's facts stays.
    # A custom answer's entry is keyed "custom_answers.<key>" (``merge.ANSWER_PREFIX``).
    field_sources = {key: entry for key, entry in (lead.field_sources or {}).items() if key.split(".")[0] not in erased}
    enrichment_sources = {key: entry for key, entry in (lead.enrichment_sources or {}).items() if key not in erased}
    # Enrichment's conflicts quote the values the lead kept against a provider (a typed job title, say).
    blanks: dict[str, object] = {
        **erased, "score_breakdown": breakdown, "enrichment_conflicts": {}, "field_sources": field_sources,
        "enrichment_sources": enrichment_sources,
    }  # fmt: skip
    # No provider hears of the person again: the retry is cancelled, and no pipeline work is due for the lead.
    blanks |= {"enrichment_retry_at": None, "pipeline_due_at": None}
    changed = {name: value for name, value in blanks.items() if getattr(lead, name) != value}
    if changed:
        Lead.objects.filter(pk=lead_id).update(**changed, updated_at=now)
    # The admin's history names the lead as it was called when someone changed it.
    content_type = ContentType.objects.get_for_model(Lead)
    LogEntry.objects.filter(content_type=content_type, object_id=str(lead_id)).update(object_repr=f"Lead #{lead_id}")


def _erase_lead_records(*, lead_id: int) -> None:
    Consent.objects.filter(lead_id=lead_id).update(ip_address=None, confirmed_ip_address=None)
    # Values someone sent for the person (name, phone, answers): nothing left to decide about.
    ProposedChange.objects.filter(lead_id=lead_id).delete()
    ProviderRun.objects.filter(lead_id=lead_id).update(error="")
    # What a rep or marketer wrote when moving the lead; scoring's own reasons (no person) stay.
    by_people = StageChange.objects.filter(lead_id=lead_id, changed_by__isnull=False).exclude(reason=ERASURE_REASON)
    by_people.exclude(reason="").update(reason="")
    submissions = list(Submission.objects.filter(lead_id=lead_id))
    for submission in submissions:
        submission.payload, submission.ip_address, submission.user_agent = {}, None, ""
        submission.attribution = _erased_attribution(submission.attribution)
    Submission.objects.bulk_update(submissions, ["payload", "ip_address", "user_agent", "attribution"])
    touches = list(Touch.objects.filter(lead_id=lead_id))
    for touch in touches:
        touch.referrer = _bare_url(touch.referrer)
        touch.landing_page = _bare_url(touch.landing_page)
        touch.click_id = ""
    Touch.objects.bulk_update(touches, ["referrer", "landing_page", "click_id"])
    activities = list(Activity.objects.filter(lead_id=lead_id).exclude(kind=ActivityKind.DATA_ERASED))
    form_slugs = set(CaptureForm.objects.values_list("slug", flat=True))
    for activity in activities:
        activity.metadata = _erased_metadata(activity.metadata, form_slugs=form_slugs)
    Activity.objects.bulk_update(activities, ["metadata"])
    # An import's record of what it set and what was there before (for its undo) holds the person's values.
    ImportedLead.objects.filter(lead_id=lead_id).update(previous={}, imported={})


def _erased_metadata(values: Any, *, form_slugs: Collection[str]) -> dict[str, Any]:
    """The app's own keys, where they hold what the app writes there: a form that exists, a known withdrawal
    source, numbers. Another system's activity may use the same keys for anything."""
    values = values if isinstance(values, dict) else {}
    kept = {}
    for key, value in values.items():
        if key not in KEPT_ACTIVITY_METADATA or not isinstance(value, str | int | None) or isinstance(value, bool):
            continue
        if key == "form" and value not in form_slugs:
            continue
        if key == "source" and value not in WITHDRAWAL_SOURCES:
            continue
        if key in ("submission", "consents", "by") and not isinstance(value, int | None):
            continue
        kept[key] = value
    return kept


def _erased_attribution(values: Any) -> dict[str, Any]:
    values = values if isinstance(values, dict) else {}
    kept = {key: value for key, value in values.items() if key in KEPT_ATTRIBUTION}
    for key in ("referrer", "landing_page"):
        if values.get(key):
            kept[key] = _bare_url(str(values[key]))
    return kept


def _bare_url(url: str) -> str:
    """The address without query string, fragment or user info: those can say who the visitor was."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return ""
    return urlunsplit((parts.scheme, host + port, parts.path, "", ""))
