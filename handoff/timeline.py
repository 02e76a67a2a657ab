"""The lead page's one timeline: everything that happened to a lead, newest first.

Handoff merges what it can read itself (the lead's activities, touches, consents, stage changes and
enrichment runs from ``leads``; assignments, contacts, BANT notes and follow-ups of its own) from
``selectors.lead_page``, which reads them in a fixed number of queries, so building the timeline costs no
query of its own.

**Other apps add entries** without handoff importing them (the import graph points the other way): an
app's ``AppConfig`` may define ``timeline_entries(self, lead_id: int) -> Iterable[object]``, each object
having ``at`` (an aware datetime), ``kind`` (a short word: "nurture"), ``title`` and optionally ``detail``
and ``actor`` (plain strings). Handoff asks every installed app once per lead page and merges the answers.
Keep that method to one or two queries: it runs on every view of the page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from html import escape
from typing import Any

from django.apps import apps
from django.utils.dates import MONTHS_3
from django.utils.safestring import SafeString, mark_safe

from handoff.models import ContactKind
from handoff.selectors import LeadPage
from leads.models import ActivityKind, ProviderRunStatus, Stage


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # activity, touch, consent, stage, assignment, contact, note, enrichment, follow_up, or another app's
    title: str
    detail: str = ""
    actor: str = ""


TimelineSource = Callable[[LeadPage], Iterable[TimelineEntry]]
# Handoff's own sources, in the order ties are shown (same instant: the stage change before its cause).
TIMELINE_SOURCES: list[TimelineSource] = []


def timeline_source(source: TimelineSource) -> TimelineSource:
    TIMELINE_SOURCES.append(source)
    return source


def lead_timeline(page: LeadPage) -> list[TimelineEntry]:
    """Every entry of the lead's timeline, newest first."""
    entries: list[TimelineEntry] = []
    for source in TIMELINE_SOURCES:
        entries.extend(source(page))
    entries.extend(_other_apps_entries(page.lead.pk))
    # Each source yields in the order things happened, so among entries of the same instant the one
    # yielded later happened later, and comes first.
    ordered = sorted(enumerate(entries), key=lambda pair: (pair[1].at, pair[0]), reverse=True)
    return [entry for _, entry in ordered]


def timeline_items_html(entries: Iterable[TimelineEntry], zone: tzinfo) -> SafeString:
    """The timeline's ``<li>`` items, times in ``zone``: built in Python, as a long history has hundreds of
    values to print and the template language costs several microseconds for each."""
    # Django's ``format_html`` and ``dateformat`` cost about 45 µs an entry, most of a long history's page; this
    # is the markup they printed, each text escaped, the dates as the ``date`` filter prints "c" and "j M Y, H:i T".
    months: dict[int, str] = {}
    items = []
    for entry in entries:
        at = entry.at.astimezone(zone)
        month = months.get(at.month)
        if month is None:
            month = months[at.month] = str(MONTHS_3[at.month]).title()
        # Like the filter, no zone name for a wall-clock time the zone has twice (or never).
        ambiguous = zone.utcoffset(at.replace(fold=not at.fold)) != zone.utcoffset(at)
        badge = entry.kind.replace("_", "")
        items.append(
            _ITEM.format(
                kind=escape(entry.kind),
                badge=escape(badge[:1].upper() + badge[1:]),
                title=escape(entry.title),
                actor=_ACTOR.format(escape(entry.actor)) if entry.actor else "",
                iso=escape(at.isoformat()),
                wall_clock=escape(
                    f"{at.day} {month} {at.year:04d}, {at.hour:02d}:{at.minute:02d} {'' if ambiguous else at.tzname()}"
                ),
                detail=_DETAIL.format(escape(entry.detail)) if entry.detail else "",
            )
        )
    return mark_safe("".join(items))  # every text escaped


_ITEM = (
    '<li class="list-group-item timeline-{kind}" data-testid="timeline-entry" data-kind="{kind}">'
    '<div class="d-flex flex-wrap justify-content-between gap-2">'
    '<span><span class="badge timeline-badge">{badge}</span> <strong>{title}</strong>{actor}</span>'
    '<time class="text-body-secondary text-nowrap" datetime="{iso}">{wall_clock}</time></div>{detail}</li>'
)
_ACTOR = ' <span class="text-body-secondary">· {}</span>'
_DETAIL = '<div class="text-body-secondary text-break">{}</div>'


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


_STAGES = dict(Stage.choices)
_CONTACT_KINDS = dict(ContactKind.choices)
_ACTIVITY_KINDS = dict(ActivityKind.choices)
_RUN_STATUSES = dict(ProviderRunStatus.choices)


@timeline_source
def _stage_changes(page: LeadPage) -> Iterable[TimelineEntry]:
    for change in page.history.stage_changes:
        from_stage = _STAGES.get(change.from_stage, change.from_stage)
        to_stage = _STAGES.get(change.to_stage, change.to_stage)
        yield TimelineEntry(
            change.changed_at, "stage", f"Stage {from_stage} → {to_stage}", change.reason, change.changed_by
        )


@timeline_source
def _assignments(page: LeadPage) -> Iterable[TimelineEntry]:
    contacts: dict[int, list[Any]] = {}
    for contact in page.history.contacts:
        contacts.setdefault(contact.assignment_id, []).append(contact)
    for assignment in page.assignments:
        rep = _name(assignment.rep)
        title = f"Assigned to {rep} ({assignment.team.name})"
        yield TimelineEntry(
            assignment.assigned_at, "assignment", title, assignment.reason, _name(assignment.assigned_by)
        )
        if assignment.accepted_at:
            yield TimelineEntry(assignment.accepted_at, "assignment", f"Accepted by {rep}", actor=rep)
        for contact in contacts.get(assignment.pk, []):
            kind = _CONTACT_KINDS.get(contact.kind, contact.kind)
            yield TimelineEntry(contact.contacted_at, "contact", f"{kind} logged", contact.note, contact.rep)
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
def _follow_ups(page: LeadPage) -> Iterable[TimelineEntry]:
    for follow_up in page.history.follow_ups:
        yield TimelineEntry(follow_up.created_at, "follow_up", "Follow-up set", follow_up.note, follow_up.rep)
        if follow_up.done_at:
            yield TimelineEntry(follow_up.done_at, "follow_up", "Follow-up done", follow_up.note, follow_up.rep)


@timeline_source
def _activities(page: LeadPage) -> Iterable[TimelineEntry]:
    for activity in page.history.activities:  # the newest 50
        metadata = activity.metadata if isinstance(activity.metadata, dict) else {}
        detail = " · ".join(str(metadata[key]) for key in ("form", "title", "url", "note") if metadata.get(key))
        yield TimelineEntry(activity.occurred_at, "activity", _ACTIVITY_KINDS.get(activity.kind, activity.kind), detail)


@timeline_source
def _touches(page: LeadPage) -> Iterable[TimelineEntry]:
    for touch in page.history.touches:
        origin = " / ".join(part for part in (touch.source or "direct", touch.medium) if part)
        detail = " · ".join(part for part in (touch.campaign and f"Campaign {touch.campaign}", touch.channel) if part)
        yield TimelineEntry(touch.occurred_at, "touch", f"Visit from {origin}", detail)


@timeline_source
def _consents(page: LeadPage) -> Iterable[TimelineEntry]:
    for consent in page.consents:
        basis = consent.get_legal_basis_display()
        yield TimelineEntry(consent.given_at, "consent", f"Consent recorded: {basis}", consent.get_source_display())
        if consent.confirmed_at:
            yield TimelineEntry(consent.confirmed_at, "consent", "Consent confirmed by email")
        if consent.withdrawn_at:
            yield TimelineEntry(consent.withdrawn_at, "consent", "Consent withdrawn")


@timeline_source
def _enrichment(page: LeadPage) -> Iterable[TimelineEntry]:
    for run in page.history.provider_runs:  # the newest 20
        fields = ", ".join(str(field) for field in run.fields_set) if isinstance(run.fields_set, list) else ""
        detail = run.error if run.error else (f"Set {fields}" if fields else "")
        status = _RUN_STATUSES.get(run.status, run.status)
        yield TimelineEntry(run.started_at, "enrichment", f"Enrichment: {run.provider_name} — {status}", detail)
