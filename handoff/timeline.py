"""The lead page's one timeline: everything that happened to a lead, newest first.

Handoff merges what it can read itself (the lead's activities, touches, consents, stage changes and
enrichment runs from ``leads``; assignments, contacts, BANT notes and follow-ups of its own) from the lead
as ``selectors.lead_page_lead`` loaded it, so building the timeline costs no query of its own.

**Other apps add entries** without handoff importing them (the import graph points the other way): an
app's ``AppConfig`` may define ``timeline_entries(self, lead_id: int) -> Iterable[object]``, each object
having ``at`` (an aware datetime), ``kind`` (a short word: "nurture"), ``title`` and optionally ``detail``
and ``actor`` (plain strings). Handoff asks every installed app once per lead page and merges the answers.
Keep that method to one or two queries: it runs on every view of the page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.apps import apps

from leads.models import Lead


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # activity, touch, consent, stage, assignment, contact, note, enrichment, follow_up, or another app's
    title: str
    detail: str = ""
    actor: str = ""


TimelineSource = Callable[[Lead], Iterable[TimelineEntry]]
# Handoff's own sources, in the order ties are shown (same instant: the stage change before its cause).
TIMELINE_SOURCES: list[TimelineSource] = []


def timeline_source(source: TimelineSource) -> TimelineSource:
    TIMELINE_SOURCES.append(source)
    return source


def lead_timeline(lead: Lead) -> list[TimelineEntry]:
    """Every entry of the lead's timeline, newest first."""
    entries: list[TimelineEntry] = []
    for source in TIMELINE_SOURCES:
        entries.extend(source(lead))
    entries.extend(_other_apps_entries(lead.pk))
    # Each source yields in the order things happened, so among entries of the same instant the one
    # yielded later happened later, and comes first.
    ordered = sorted(enumerate(entries), key=lambda pair: (pair[1].at, pair[0]), reverse=True)
    return [entry for _, entry in ordered]


def _other_apps_entries(lead_id: int) -> Iterable[TimelineEntry]:
    for config in apps.get_app_configs():
        provide = getattr(config, "timeline_entries", None)
        if provide is None:
            continue
        for item in provide(lead_id):
            yield TimelineEntry(
                at=item.at,
                kind=str(item.kind),
                title=str(item.title),
                detail=str(getattr(item, "detail", "") or ""),
                actor=str(getattr(item, "actor", "") or ""),
            )


def _name(user: Any) -> str:
    if user is None:
        return ""
    return str(user.get_full_name() or user.get_username())


@timeline_source
def _stage_changes(lead: Lead) -> Iterable[TimelineEntry]:
    for change in lead.stage_changes.all():
        yield TimelineEntry(
            change.changed_at,
            "stage",
            f"Stage {change.get_from_stage_display()} → {change.get_to_stage_display()}",
            change.reason,
            _name(change.changed_by),
        )


@timeline_source
def _assignments(lead: Lead) -> Iterable[TimelineEntry]:
    for assignment in lead.assignments.all():
        rep = _name(assignment.rep)
        title = f"Assigned to {rep} ({assignment.team.name})"
        yield TimelineEntry(
            assignment.assigned_at, "assignment", title, assignment.reason, _name(assignment.assigned_by)
        )
        if assignment.accepted_at:
            yield TimelineEntry(assignment.accepted_at, "assignment", f"Accepted by {rep}", actor=rep)
        for contact in assignment.contacts.all():
            yield TimelineEntry(
                contact.contacted_at,
                "contact",
                f"{contact.get_kind_display()} logged",
                contact.note,
                _name(contact.rep),
            )
        sla = assignment.sla
        if sla.breached_at:
            yield TimelineEntry(sla.breached_at, "assignment", f"First-contact SLA breached ({rep})")
        qualification = getattr(assignment, "qualification", None)
        if qualification is not None:
            notes = " · ".join(
                f"{label}: {value}"
                for label, value in (
                    ("Budget", qualification.budget),
                    ("Authority", qualification.authority),
                    ("Need", qualification.need),
                    ("Timing", qualification.timing),
                )
                if value
            )
            yield TimelineEntry(qualification.qualified_at, "note", "Qualification notes (BANT)", notes, rep)
        if assignment.ended_at and assignment.outcome:
            outcome = assignment.get_outcome_display()
            when = f" · back on {assignment.recycle_on:%d %b %Y}" if assignment.recycle_on else ""
            yield TimelineEntry(assignment.ended_at, "assignment", f"Handoff ended: {outcome}{when}", actor=rep)


@timeline_source
def _follow_ups(lead: Lead) -> Iterable[TimelineEntry]:
    for follow_up in lead.follow_ups.all():
        rep = _name(follow_up.rep)
        yield TimelineEntry(follow_up.created_at, "follow_up", "Follow-up set", follow_up.note, rep)
        if follow_up.done_at:
            yield TimelineEntry(follow_up.done_at, "follow_up", "Follow-up done", follow_up.note, rep)


@timeline_source
def _activities(lead: Lead) -> Iterable[TimelineEntry]:
    for activity in lead.recent_activities:  # type: ignore[attr-defined]  # prefetched, the newest 50
        metadata = activity.metadata if isinstance(activity.metadata, dict) else {}
        detail = " · ".join(str(metadata[key]) for key in ("form", "title", "url", "note") if metadata.get(key))
        yield TimelineEntry(activity.occurred_at, "activity", activity.get_kind_display(), detail)


@timeline_source
def _touches(lead: Lead) -> Iterable[TimelineEntry]:
    for touch in lead.touches.all():
        origin = " / ".join(part for part in (touch.source or "direct", touch.medium) if part)
        detail = " · ".join(part for part in (touch.campaign and f"Campaign {touch.campaign}", touch.channel) if part)
        yield TimelineEntry(touch.occurred_at, "touch", f"Visit from {origin}", detail)


@timeline_source
def _consents(lead: Lead) -> Iterable[TimelineEntry]:
    for consent in lead.consents.all():
        basis = consent.get_legal_basis_display()
        yield TimelineEntry(consent.given_at, "consent", f"Consent recorded: {basis}", consent.get_source_display())
        if consent.confirmed_at:
            yield TimelineEntry(consent.confirmed_at, "consent", "Consent confirmed by email")
        if consent.withdrawn_at:
            yield TimelineEntry(consent.withdrawn_at, "consent", "Consent withdrawn")


@timeline_source
def _enrichment(lead: Lead) -> Iterable[TimelineEntry]:
    for run in lead.recent_provider_runs:  # type: ignore[attr-defined]  # prefetched, the newest 20
        fields = ", ".join(str(field) for field in run.fields_set) if isinstance(run.fields_set, list) else ""
        detail = run.error if run.error else (f"Set {fields}" if fields else "")
        yield TimelineEntry(
            run.started_at, "enrichment", f"Enrichment: {run.provider_name} — {run.get_status_display()}", detail
        )
