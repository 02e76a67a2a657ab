"""The audit trail: who changed which setting or lead field, from which value to which, and when.

Built on django-auditlog rather than django-simple-history. Both are maintained (auditlog 3.4, Dec 2025;
simple-history 3.13), but simple-history keeps a shadow ``Historical<Model>`` table per audited model, so
auditing a model of leads or handoff would add a migration to those apps for every field anyone adds
later, while other work adds migrations there too. Auditlog keeps one ``LogEntry`` table (its own app's
migrations) with each change as JSON ``{"field": [old, new]}``, and is switched on per model here,
without touching the audited apps: integrations is the one app that may import them all.

What is audited (``register_audited_models``, from ``IntegrationsConfig.ready``): scoring models and
rules, routing rules, SLA policies, teams with their hours, closed dates and members, forms with their
fields and consent texts, API keys and webhook endpoints, and the person and firm fields of leads. Secrets
are never written to the log: a key's hash and an endpoint's signing secret are left out (a rotation shows
as no change; the key's prefix is its public hint). Leads are audited on change and delete only, not on
creation (the capture records that, with its consent), and only for the fields a person or staff type:
the machine columns (score, pipeline step, lease) change on every pipeline run and are not edits.

The actor is the signed-in user of the request (``auditlog.middleware.AuditlogMiddleware``); a change made
by a task, the pipeline or a public form has none ("system" in the list).

Erasing a lead (``integrations.privacy.erase_lead``) calls ``erase_lead_history``: the lead's entries keep
which fields changed, when and by whom, but no value and no name. A deleted lead gets the same: its "deleted"
entry and its earlier ones keep no value. Deleting many leads at once (undoing an import, ``leads.imports``)
does that per batch: inside ``lead_deletions_logged_in_bulk`` the entries are written and the histories
scrubbed in a few statements when the block ends, instead of three statements per lead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auditlog.cid import get_cid
from auditlog.diff import model_instance_diff
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from auditlog.signals import post_log, pre_log
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model

from handoff.models import ClosedDate, Membership, RoutingRule, SLAPolicy, Team, TeamHours
from integrations.models import ApiKey, WebhookEndpoint
from leads import imports as lead_imports
from leads.models import CaptureForm, ConsentText, FormField, Lead
from scoring.models import ScoringModel, ScoringRule

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Entries shown on an object's History page; older ones are in the audit list (Audit log > Log entries).
HISTORY_LIMIT = 200

# The value written in place of a lead's personal data once it is erased.
ERASED = "[erased]"

# The lead fields a person, an import, enrichment or staff set: the ones a change of is worth a record.
LEAD_AUDITED_FIELDS = [
    "email",
    "phone",
    "first_name",
    "last_name",
    "company_name",
    "company_domain",
    "job_title",
    "country",
    "custom_answers",
    "seniority",
    "job_function",
    "industry",
    "employee_count",
    "size_band",
    "website",
]

# Columns that only say which row or when: every entry has its own time.
UNTRACKED_FIELDS = ["id", "created_at", "updated_at"]

# Never in the log: what would let someone who reads it act as the key or sign as Leadsite.
SECRET_FIELDS: dict[type[Model], list[str]] = {ApiKey: ["hashed_key"], WebhookEndpoint: ["secret"]}

# Leads deleted inside ``lead_deletions_logged_in_bulk``: id -> the fields their "deleted" entry names.
_deleted_in_bulk: ContextVar[dict[int, list[str]] | None] = ContextVar("audit_deleted_in_bulk", default=None)


def audited_models() -> list[type[Model]]:
    """Every model with an audit trail, leads included."""
    settings_models: list[type[Model]] = [
        ScoringModel,
        ScoringRule,
        RoutingRule,
        SLAPolicy,
        Team,
        TeamHours,
        ClosedDate,
        Membership,
        CaptureForm,
        FormField,
        ConsentText,
        ApiKey,
        WebhookEndpoint,
    ]
    return [*settings_models, Lead]


def register_audited_models() -> None:
    """Switch the audit trail on for each audited model (idempotent)."""
    for model in audited_models():
        if auditlog.contains(model):
            continue
        if model is Lead:
            auditlog.register(Lead, include_fields=LEAD_AUDITED_FIELDS)
        else:
            m2m = ["managers"] if model is Team else []
            exclude = {*UNTRACKED_FIELDS, *SECRET_FIELDS.get(model, [])}
            # The model's own columns only: auditlog would otherwise put every reverse relation (a form's fields,
            # submissions, daily stats...) in each "create" entry, as a meaningless "leads.FormField.None".
            columns = [field.name for field in model._meta.concrete_fields if field.name not in exclude]
            auditlog.register(model, include_fields=columns, m2m_fields=m2m)
    pre_log.connect(_before_lead_log, sender=Lead, dispatch_uid="integrations.audit.before_lead_log")
    post_log.connect(_forget_deleted_lead, sender=Lead, dispatch_uid="integrations.audit.forget_deleted_lead")
    lead_imports.register_bulk_deletion(lead_deletions_logged_in_bulk)


def _forget_deleted_lead(sender: type[Model], instance: Lead, action: int, log_created: bool, **kwargs: Any) -> None:
    """A deleted lead can no longer be erased: keep that it was deleted, when and by whom, but none of its values."""
    if action == LogEntry.Action.DELETE and log_created and instance.pk is not None:
        erase_lead_history(lead_id=instance.pk)


def _before_lead_log(sender: type[Model], instance: Lead, action: int, **kwargs: Any) -> bool:
    """Whether auditlog writes this lead's entry now (False: not at all, or later with its batch).

    No entry for a new lead: its capture is recorded by its consent, touch and activity. A lead deleted inside
    ``lead_deletions_logged_in_bulk`` is noted, and its entry written when the block ends.
    """
    if action == LogEntry.Action.CREATE:
        return False
    pending = _deleted_in_bulk.get()
    if action == LogEntry.Action.DELETE and pending is not None and instance.pk is not None:
        diff = model_instance_diff(instance, None, use_json_for_changes=settings.AUDITLOG_STORE_JSON_CHANGES)
        pending[instance.pk] = list(diff or {})
        return False
    return True


@contextmanager
def lead_deletions_logged_in_bulk(*, actor: User | None) -> Iterator[None]:
    """Leads deleted inside the block get their audit entries when it ends, in a few statements for all of them.

    The same entries as a lead deleted on its own gets: one "deleted" entry per lead naming the fields it had,
    with no value, by ``actor`` (the caller names them: a worker has no request, and auditlog leaves the last
    request's actor in its context variable after the request), and every earlier entry of the lead scrubbed
    (``erase_lead_history``). Use it inside the transaction that deletes the leads, so they and their entries
    are committed together; a block that raises writes nothing.
    """
    pending: dict[int, list[str]] = {}
    token = _deleted_in_bulk.set(pending)
    try:
        yield
    finally:
        _deleted_in_bulk.reset(token)
    if pending:
        log_deleted_leads(fields_by_lead=pending, actor=actor)


def log_deleted_leads(*, fields_by_lead: dict[int, list[str]], actor: User | None) -> int:
    """Record that these leads were deleted, keeping none of their values; returns the entries written."""
    erase_leads_history(lead_ids=list(fields_by_lead))
    content_type = ContentType.objects.get_for_model(Lead)
    cid = get_cid()
    entries = [
        LogEntry(
            content_type=content_type,
            object_pk=str(lead_id),
            object_id=lead_id,
            object_repr=f"Lead #{lead_id}",
            action=LogEntry.Action.DELETE,
            changes={name: [ERASED, ERASED] for name in fields},
            actor=actor,
            actor_email=getattr(actor, "email", None),
            cid=cid,
        )
        for lead_id, fields in fields_by_lead.items()
    ]
    LogEntry.objects.bulk_create(entries, batch_size=500)
    return len(entries)


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class AuditRow:
    """One audit entry as the History page shows it: when, who, what, and each field's old and new value."""

    entry: LogEntry
    changes: list[FieldChange]


def history_of(*, model: type[Model], object_id: str | int, limit: int = HISTORY_LIMIT) -> list[AuditRow]:
    """The object's newest audit entries (at most ``limit``; the audit list has them all), with their actors."""
    content_type = ContentType.objects.get_for_model(model)
    entries = (
        LogEntry.objects.filter(content_type=content_type, object_pk=str(object_id))
        .select_related("actor")
        .order_by("-timestamp", "-pk")[:limit]
    )
    return [AuditRow(entry=entry, changes=field_changes(entry, model=model)) for entry in entries]


def field_changes(entry: LogEntry, *, model: type[Model]) -> list[FieldChange]:
    """Each field the entry changed with its old and new value, in words (labels, not column names)."""
    rows = []
    for name, values in (entry.changes_dict or {}).items():
        try:
            label = str(getattr(model._meta.get_field(name), "verbose_name", name))
        except FieldDoesNotExist:
            label = name
        if isinstance(values, dict):  # a many-to-many change: {"type": "m2m", "operation": "add", "objects": […]}
            objects = ", ".join(str(item) for item in values.get("objects", []))
            verb = "added" if values.get("operation") == "add" else "removed"
            rows.append(
                FieldChange(field=label, old="" if verb == "added" else objects, new=objects if verb == "added" else "")
            )
        else:
            old, new = [*values, "", ""][:2]
            rows.append(FieldChange(field=label, old=_shown(old), new=_shown(new)))
    return rows


def _shown(value: Any) -> str:
    if value is None or value == "None":
        return "—"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def erase_lead_history(*, lead_id: int) -> int:
    """Keep of the lead's audit entries which fields changed, when and by whom, and drop every value.

    Runs last in ``erase_lead`` (in its transaction), so an entry written by any step of the erasure that
    saves the lead is cleaned too. Returns the number of entries cleaned.
    """
    return erase_leads_history(lead_ids=[lead_id])


def erase_leads_history(*, lead_ids: list[int]) -> int:
    """``erase_lead_history`` for many leads, 500 at a time; returns the number of entries cleaned."""
    content_type = ContentType.objects.get_for_model(Lead)
    cleaned = 0
    for start in range(0, len(lead_ids), 500):
        object_pks = [str(lead_id) for lead_id in lead_ids[start : start + 500]]
        entries = list(LogEntry.objects.filter(content_type=content_type, object_pk__in=object_pks))
        for entry in entries:
            entry.object_repr = f"Lead #{entry.object_pk}"
            entry.changes = {field: [ERASED, ERASED] for field in (entry.changes or {})}
            entry.changes_text = ""
            entry.serialized_data = None
            entry.additional_data = None
        LogEntry.objects.bulk_update(
            entries, ["object_repr", "changes", "changes_text", "serialized_data", "additional_data"], batch_size=500
        )
        cleaned += len(entries)
    return cleaned
