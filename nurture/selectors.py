"""Reads of the nurture app: the track report, a lead's nurture history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from core.statements import Statement
from leads.models import Lead, Stage, StageChange
from nurture.models import Click, Enrollment, EnrollmentStatus, ExitReason, Send, SendStatus, Step, Track

MEASURES = ("sent", "clicked", "scanned", "unsubscribed", "bounced", "became_mql", "became_sql")


@dataclass
class StepRow:
    position: int
    subject: str
    sent: int = 0
    clicked: int = 0  # by a person (a mail scanner's clicks are never counted)
    scanned: int = 0  # links opened by a mail scanner only, nobody clicking
    unsubscribed: int = 0
    bounced: int = 0
    became_mql: int = 0
    became_sql: int = 0


@dataclass
class TrackRow:
    track: Track
    enrolled: int = 0
    active: int = 0
    completed: int = 0
    exited: int = 0
    became_mql: int = 0
    became_sql: int = 0
    steps: list[StepRow] = field(default_factory=list)

    def total(self, measure: str) -> int:
        return sum(getattr(step, measure) for step in self.steps)


def _later_stage(to_stage: str, *, since: str) -> Exists:
    """Whether the lead moved to ``to_stage`` at or after the row's ``since`` time (a send, an enrollment)."""
    return Exists(
        StageChange.objects.filter(lead=OuterRef("lead_id"), to_stage=to_stage, changed_at__gte=OuterRef(since))
    )


def track_report(*, created_from: date | None, created_to: date | None) -> list[TrackRow]:
    """Per track and step: enrolled, sent, clicked (by a person), opened by mail scanners only, unsubscribed,
    bounced, and how many later became MQL or SQL.

    Filtered like the reports page: by the day the leads were created (from and to inclusive, in the site's
    time zone).
    """
    # Joined to each row's lead: ``lead IN (leads created then)`` made the database list every lead of the
    # period first (0.3 s a query at a million leads) for a few thousand enrollments.
    created = _created_between(created_from, created_to)
    enrollments = Enrollment.objects.filter(created)
    sends = Send.objects.filter(created)
    rows = {track.pk: TrackRow(track=track) for track in Track.objects.order_by("name")}
    by_track = enrollments.values("track_id").annotate(
        enrolled=Count("id"),
        active=Count("id", filter=Q(status=EnrollmentStatus.ACTIVE)),
        completed=Count("id", filter=Q(status=EnrollmentStatus.COMPLETED)),
        exited=Count("id", filter=Q(status=EnrollmentStatus.EXITED)),
        became_mql=Count("id", filter=_later_stage(Stage.MQL, since="started_at")),
        became_sql=Count("id", filter=_later_stage(Stage.SQL, since="started_at")),
    )
    for values in by_track:
        row = rows[values["track_id"]]
        for name in ("enrolled", "active", "completed", "exited", "became_mql", "became_sql"):
            setattr(row, name, values[name])
    subjects = {(s.track_id, s.position): s.subject for s in Step.objects.only("track_id", "position", "subject")}
    by_step = (
        sends.filter(status=SendStatus.SENT)
        .values("track_id", "position")
        .annotate(
            sent=Count("id"),
            clicked=Count("id", filter=Q(first_clicked_at__isnull=False)),
            scanned=Count("id", filter=Q(_has_bot_click(), first_clicked_at__isnull=True)),
            unsubscribed=Count("id", filter=Q(unsubscribed_at__isnull=False)),
            bounced=Count("id", filter=Q(bounced_at__isnull=False) | Q(complained_at__isnull=False)),
            became_mql=Count("id", filter=_later_stage(Stage.MQL, since="created_at")),
            became_sql=Count("id", filter=_later_stage(Stage.SQL, since="created_at")),
        )
        .order_by("track_id", "position")
    )
    for counts in by_step:
        key = (counts["track_id"], counts["position"])
        rows[key[0]].steps.append(
            StepRow(
                position=key[1],
                subject=subjects.get(key, "(step deleted)"),
                sent=counts["sent"],
                clicked=counts["clicked"],
                scanned=counts["scanned"],
                unsubscribed=counts["unsubscribed"],
                bounced=counts["bounced"],
                became_mql=counts["became_mql"],
                became_sql=counts["became_sql"],
            )
        )
    return list(rows.values())


def _has_bot_click() -> Exists:
    return Exists(Click.objects.filter(send=OuterRef("pk"), is_bot=True))


def _created_between(created_from: date | None, created_to: date | None) -> Q:
    """A row whose lead was created from ``created_from`` to ``created_to`` (days, inclusive, in the site's zone)."""
    zone = timezone.get_current_timezone()
    condition = Q()
    if created_from is not None:
        condition &= Q(lead__created_at__gte=datetime.combine(created_from, time.min, tzinfo=zone))
    if created_to is not None:
        condition &= Q(lead__created_at__lt=datetime.combine(created_to + timedelta(days=1), time.min, tzinfo=zone))
    return condition


def chart_data(rows: list[TrackRow]) -> dict[str, Any]:
    """The report's chart: one bar group per track and step, one series per measure."""
    labels = [f"{row.track.name} · {step.position}" for row in rows for step in row.steps]
    series = [
        {"label": label, "data": [getattr(step, measure) for row in rows for step in row.steps]}
        for measure, label in (("sent", "Sent"), ("clicked", "Clicked"), ("unsubscribed", "Unsubscribed"),
                               ("bounced", "Bounced"), ("became_mql", "Later MQL"))
    ]  # fmt: skip
    return {"labels": labels, "datasets": series}


def lead_history(lead: Lead) -> list[Enrollment]:
    """The lead's enrollments, newest first, each with its sends (``sends_list``) in order: two queries."""
    enrollments = list(lead.nurture_enrollments.select_related("track").order_by("-started_at", "-id"))
    sends: dict[int, list[Send]] = {enrollment.pk: [] for enrollment in enrollments}
    for send in Send.objects.filter(enrollment__in=enrollments).order_by("position", "id"):
        sends[send.enrollment_id].append(send)
    for enrollment in enrollments:
        enrollment.sends_list = sends[enrollment.pk]  # type: ignore[attr-defined]
    return enrollments


@dataclass(frozen=True)
class NurtureTimelineEntry:
    at: datetime
    title: str
    detail: str = ""
    kind: str = "nurture"


def timeline_entries(lead_id: int) -> list[NurtureTimelineEntry]:
    """What nurture did with a lead, for its page's timeline: two queries, compiled once (``Statement``)."""
    entries: list[NurtureTimelineEntry] = []
    for started_at, track, reason, ended_at, exit_reason in _TIMELINE_ENROLLMENTS.rows(lead=lead_id):
        entries.append(NurtureTimelineEntry(started_at, f"Enrolled in nurture track “{track}”", reason))
        if ended_at is not None:
            ended = f"Left nurture track “{track}”"
            entries.append(NurtureTimelineEntry(ended_at, ended, _EXIT_REASONS.get(exit_reason, exit_reason)))
    for sent_at, subject, track, position, status, click_count in _TIMELINE_SENDS.rows(lead=lead_id):
        clicks = f"; {click_count} click(s)" if click_count else ""
        detail = f"{track}, step {position}: {_SEND_STATUSES.get(status, status)}{clicks}"
        entries.append(NurtureTimelineEntry(sent_at, f"Nurture email “{subject}”", detail))
    return entries


# In the models' order (newest first), which decides the order of entries of the same instant on the timeline.
_TIMELINE_ENROLLMENTS = Statement(
    lambda lead: Enrollment.objects.filter(lead_id=lead).values_list(
        "started_at", "track__name", "reason", "ended_at", "exit_reason"
    ),
    lead=int,
)
_TIMELINE_SENDS = Statement(
    lambda lead: Send.objects.filter(lead_id=lead, sent_at__isnull=False).values_list(
        "sent_at", "subject", "track__name", "position", "status", "click_count"
    ),
    lead=int,
)
_EXIT_REASONS = dict(ExitReason.choices)
_SEND_STATUSES = dict(SendStatus.choices)
