"""The worker that sends due nurture steps, and the marketer's preview and test email.

`send_due_steps` claims due enrollments in batches with a lease (a conditional UPDATE, so any number
of workers share the work), decides for each what is due, and — in one transaction — writes a `Send`
row per email and moves the enrollment past the step *before* anything is sent. The unique
(enrollment, step) constraint and the moved enrollment make a retry, a second worker or a restarted
task find nothing to send again: an email goes out at most once. It is then handed to Django's email
backend, the whole batch over one connection; an email the server refuses for good is failed (and a
refused recipient is a hard bounce), and when the server cannot be reached at all the batch's unsent
steps are given back, to be tried a few minutes later.

Nothing is sent to a lead without a usable consent, outside the lead's local daytime on a business
day, or past the per-domain hourly limit of the track (those wait for the next window or hour).
"""

from __future__ import annotations

import logging
import queue
import smtplib
import threading
import time as clock
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.utils.html import escape

from leads.models import Lead, Stage, usable_consent_q
from nurture import links, rendering
from nurture.models import Enrollment, EnrollmentStatus, ExitReason, Send, SendStatus, Step, Track, TrackStatus
from nurture.services import end_enrollments, lead_calendar, record_bounce

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
LEASE = timedelta(minutes=5)
RETRY_AFTER = timedelta(minutes=10)  # the mail server was unreachable
THROTTLE_WAIT = timedelta(minutes=15)  # a domain's hourly limit was reached
THROTTLE_WINDOW = timedelta(hours=1)
EXIT_STAGES: dict[str, str] = {
    Stage.MQL: ExitReason.MQL,
    Stage.SQL: ExitReason.SQL,
    Stage.DISQUALIFIED: ExitReason.DISQUALIFIED,
}


@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0
    exited: int = 0
    completed: int = 0
    postponed: int = 0
    given_back: int = 0

    def add(self, other: SendResult) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def send_due_steps(*, now: datetime, batch_size: int = BATCH_SIZE, budget: timedelta | None = None) -> SendResult:
    """Send every step due at ``now``, a batch at a time, until none is left or ``budget`` (wall time) is spent."""
    started = clock.monotonic()
    total = SendResult()
    while True:
        result = _send_batch(now=now, batch_size=batch_size)
        total.add(result)
        if not any(vars(result).values()):
            return total
        if budget is not None and clock.monotonic() - started > budget.total_seconds():
            return total


# --- One batch -------------------------------------------------------------------------------------


@dataclass
class _Due:
    """A claimed enrollment with what the worker needs of its lead."""

    enrollment_id: int
    track_id: int
    last_position: int
    until: datetime | None
    lead_id: int
    email: str | None
    country: str
    stage: str
    values: dict[str, str]
    has_usable_consent: bool
    is_erased: bool


@dataclass
class _Plan:
    exits: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    postponed: dict[datetime, list[int]] = field(default_factory=lambda: defaultdict(list))
    sends: list[tuple[_Due, Step, datetime | None]] = field(default_factory=list)


def _send_batch(*, now: datetime, batch_size: int) -> SendResult:
    owner = uuid.uuid4().hex
    due = _claim(now=now, batch_size=batch_size, owner=owner)
    if not due:
        return SendResult()
    tracks = Track.objects.in_bulk({d.track_id for d in due})
    steps = _active_steps(tracks.values())
    plan = _plan(due, tracks=tracks, steps=steps, now=now)
    compiled = {step.pk: compile_step(step) for track_steps in steps.values() for step in track_steps}
    with transaction.atomic():
        for reason, ids in plan.exits.items():
            _exit(ids, reason=reason, now=now)
        for when, ids in plan.postponed.items():
            Enrollment.objects.filter(pk__in=ids, lease_owner=owner).update(next_due_at=when, lease_until=None)
        sends = _record_sends(plan.sends, compiled=compiled, owner=owner, now=now)
    result = _deliver(sends, compiled=compiled, tracks=tracks, now=now)
    result.exited += sum(len(ids) for reason, ids in plan.exits.items() if reason != "completed")
    result.completed += len(plan.exits.get("completed", []))
    result.postponed += sum(len(ids) for ids in plan.postponed.values())
    return result


def _claim(*, now: datetime, batch_size: int, owner: str) -> list[_Due]:
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    due = Enrollment.objects.filter(
        free, status=EnrollmentStatus.ACTIVE, next_due_at__lte=now, track__status=TrackStatus.LIVE
    )
    ids = list(due.order_by("next_due_at", "pk").values_list("pk", flat=True)[:batch_size])
    if not ids:
        return []
    Enrollment.objects.filter(free, pk__in=ids, status=EnrollmentStatus.ACTIVE).update(
        lease_until=now + LEASE, lease_owner=owner
    )
    query = (
        Enrollment.objects.filter(lease_owner=owner, status=EnrollmentStatus.ACTIVE)
        .values_list(
            "pk", "track_id", "last_position", "until", "lead_id", "lead__email", "lead__country", "lead__stage",
            "lead__first_name", "lead__last_name", "lead__company_name", "lead__job_title", "lead__erased_at",
        )
    )  # fmt: skip
    rows = list(query)
    usable = _usable_consent_leads({row[4] for row in rows})
    return [
        _Due(
            enrollment_id=row[0],
            track_id=row[1],
            last_position=row[2],
            until=row[3],
            lead_id=row[4],
            email=row[5],
            country=row[6],
            stage=row[7],
            values={"first_name": row[8], "last_name": row[9], "company": row[10], "job_title": row[11]},
            has_usable_consent=row[4] in usable,
            is_erased=row[12] is not None,
        )
        for row in rows
    ]


def _usable_consent_leads(lead_ids: set[int]) -> set[int]:
    """Which of the leads have a usable consent, by the leads app's own rule (``usable_consent_q``)."""
    return set(Lead.objects.filter(usable_consent_q(), pk__in=lead_ids).values_list("pk", flat=True))


def _active_steps(tracks: Any) -> dict[int, list[Step]]:
    steps: dict[int, list[Step]] = defaultdict(list)
    for step in Step.objects.filter(track__in=list(tracks), is_active=True).order_by("position"):
        steps[step.track_id].append(step)
    return steps


def _plan(due: list[_Due], *, tracks: dict[int, Track], steps: dict[int, list[Step]], now: datetime) -> _Plan:
    """Decide, for each claimed enrollment: end it, wait (night, weekend, throttle), or send its next step."""
    plan = _Plan()
    domains = _recent_sends_by_domain({_domain(d.email) for d in due if d.email}, now=now)
    for item in due:
        track = tracks[item.track_id]
        reason = _exit_reason(item, now=now)
        if reason:
            plan.exits[reason].append(item.enrollment_id)
            continue
        upcoming = [step for step in steps[item.track_id] if step.position > item.last_position]
        if not upcoming:
            plan.exits["completed"].append(item.enrollment_id)
            continue
        calendar = lead_calendar(track, item.country)
        if not calendar.is_send_time(now):
            plan.postponed[calendar.next_send_time(now)].append(item.enrollment_id)
            continue
        domain = _domain(item.email or "")
        if domains[domain] >= track.per_domain_hourly_limit:
            plan.postponed[now + THROTTLE_WAIT].append(item.enrollment_id)
            continue
        domains[domain] += 1
        following = upcoming[1] if len(upcoming) > 1 else None
        next_due = calendar.due_after(now, following.delay_days) if following else None
        plan.sends.append((item, upcoming[0], next_due))
    return plan


def _exit_reason(item: _Due, *, now: datetime) -> str:
    if item.is_erased:
        return ExitReason.ERASURE
    if item.stage in EXIT_STAGES:
        return EXIT_STAGES[item.stage]
    if not item.email:
        return ExitReason.NO_EMAIL
    if not item.has_usable_consent:
        return ExitReason.CONSENT
    if item.until is not None and item.until <= now:
        return ExitReason.UNTIL
    return ""


def _exit(ids: list[int], *, reason: str, now: datetime) -> None:
    enrollments = Enrollment.objects.filter(pk__in=ids)
    if reason == "completed":
        enrollments.filter(status=EnrollmentStatus.ACTIVE).update(
            status=EnrollmentStatus.COMPLETED, ended_at=now, next_due_at=None, lease_until=None
        )
    else:
        end_enrollments(enrollments=enrollments, reason=reason, now=now)


def _domain(email: str) -> str:
    return email.rpartition("@")[2].lower()


def _recent_sends_by_domain(domains: set[str], *, now: datetime) -> Counter[str]:
    counts: Counter[str] = Counter()
    recent = Send.objects.filter(created_at__gt=now - THROTTLE_WINDOW, domain__in=domains)
    for row in recent.values("domain").annotate(n=Count("id")):
        counts[row["domain"]] = row["n"]
    return counts


@dataclass
class _Outgoing:
    send: Send
    values: dict[str, str]


def _record_sends(
    planned: list[tuple[_Due, Step, datetime | None]],
    *,
    compiled: dict[int, rendering.CompiledStep],
    owner: str,
    now: datetime,
) -> list[_Outgoing]:
    """Write the sends and move each enrollment past its step, for the enrollments this worker still holds."""
    if not planned:
        return []
    held = Enrollment.objects.filter(
        pk__in=[item.enrollment_id for item, _, _ in planned], lease_owner=owner, status=EnrollmentStatus.ACTIVE
    )
    if db_connection.features.has_select_for_update:
        held = held.select_for_update()
    still_held = set(held.values_list("pk", flat=True))
    outgoing: list[_Outgoing] = []
    moves: dict[tuple[int, datetime | None], list[int]] = defaultdict(list)
    sender_domain = _domain(settings.DEFAULT_FROM_EMAIL) or "localhost"
    for item, step, next_due in planned:
        if item.enrollment_id not in still_held:
            continue
        send = Send(
            enrollment_id=item.enrollment_id,
            step=step,
            track_id=item.track_id,
            lead_id=item.lead_id,
            position=step.position,
            subject=compiled[step.pk].render_subject(item.values)[:300],
            to_email=item.email or "",
            domain=_domain(item.email or ""),
            message_id=f"<nurture.{uuid.uuid4().hex}@{sender_domain}>",
            created_at=now,
        )
        outgoing.append(_Outgoing(send=send, values=item.values))
        moves[(step.position, next_due)].append(item.enrollment_id)
    Send.objects.bulk_create([out.send for out in outgoing], batch_size=500)
    for (position, next_due), ids in moves.items():
        changes: dict[str, Any] = {"last_position": position, "last_sent_at": now, "lease_until": None}
        if next_due is None:
            changes.update(status=EnrollmentStatus.COMPLETED, ended_at=now, next_due_at=None)
        else:
            changes["next_due_at"] = next_due
        Enrollment.objects.filter(pk__in=ids).update(**changes)
    return outgoing


# --- Delivery --------------------------------------------------------------------------------------


def _deliver(
    outgoing: list[_Outgoing], *, compiled: dict[int, rendering.CompiledStep], tracks: dict[int, Track], now: datetime
) -> SendResult:
    """Build the batch's emails and send them; record what became of each.

    Building an email is Python work, sending it mostly waiting for the server's answers (three round trips
    an email), so sender threads (``_Sender``, each with its own connection) send while this one builds the
    next ones; the database is written here, once they have finished.
    """
    result = SendResult()
    if not outgoing:
        return result
    layouts = {track_id: Layout.for_track(track) for track_id, track in tracks.items()}
    outbox: queue.Queue[tuple[Send, EmailMultiAlternatives] | None] = queue.Queue(maxsize=200)
    stop = threading.Event()
    senders = [_Sender(get_connection(), outbox=outbox, stop=stop) for _ in range(_connections())]
    for sender in senders:
        sender.start()
    try:
        for out in outgoing:
            if stop.is_set():
                break
            send = out.send
            message = build_message(
                compiled[send.step_id],  # type: ignore[index]
                track=tracks[send.track_id],
                values=out.values,
                to=send.to_email,
                send_id=send.pk,
                message_id=send.message_id,
                layout=layouts[send.track_id],
            )
            outbox.put((send, message))
    finally:
        for _ in senders:
            outbox.put(None)
        for sender in senders:
            sender.join()
    sent = [pk for sender in senders for pk in sender.sent]
    failed = [failure for sender in senders for failure in sender.failed]
    for send, error, is_hard_bounce in failed:
        _fail(send, error=error, now=now, is_hard_bounce=is_hard_bounce)
    done = set(sent) | {send.pk for send, _, _ in failed}
    unsent = [out.send for out in outgoing if out.send.pk not in done]
    if unsent:
        cause = next((sender.error for sender in senders if sender.error), None)
        logger.error("Mail server unreachable; giving back %s nurture emails", len(unsent), exc_info=cause)
        result.given_back += _give_back(unsent, now=now)
    for start in range(0, len(sent), 900):
        Send.objects.filter(pk__in=sent[start : start + 900]).update(status=SendStatus.SENT, sent_at=now)
    result.sent += len(sent)
    result.failed += len(failed)
    return result


def _connections() -> int:
    """SMTP connections a batch sends over at once; other backends (console, tests' locmem) get one."""
    is_smtp = settings.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend"
    return max(1, settings.NURTURE_SMTP_CONNECTIONS) if is_smtp else 1


class _Sender(threading.Thread):
    """Hands the emails taken from ``outbox`` to the backend over one connection, until ``None``; no database.

    A recipient or message the server refuses is failed (``failed``); when the server cannot be reached or
    goes away, it sets ``stop`` for every sender, and what was not handed over is given back by the caller.
    """

    def __init__(
        self,
        connection: Any,
        *,
        outbox: queue.Queue[tuple[Send, EmailMultiAlternatives] | None],
        stop: threading.Event,
    ) -> None:
        super().__init__(name="nurture-sender", daemon=True)
        self.connection = connection
        self.outbox = outbox
        self.stop = stop
        self.sent: list[int] = []
        self.failed: list[tuple[Send, Exception, bool]] = []
        self.error: BaseException | None = None
        self.is_open = False

    def run(self) -> None:
        try:
            while (item := self.outbox.get()) is not None:
                if not self.stop.is_set():
                    self._send(*item)
        finally:
            if self.is_open:
                self.connection.close()

    def _send(self, send: Send, message: EmailMultiAlternatives) -> None:
        try:
            if not self.is_open:
                self.connection.open()
                self.is_open = True
            self.connection.send_messages([message])
        except smtplib.SMTPRecipientsRefused as error:
            self.failed.append((send, error, True))
        except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as error:
            self.failed.append((send, error, False))
        except (OSError, smtplib.SMTPException) as error:
            self.error = error
            self.stop.set()
        else:
            self.sent.append(send.pk)


def _fail(send: Send, *, error: Exception, now: datetime, is_hard_bounce: bool) -> None:
    Send.objects.filter(pk=send.pk).update(status=SendStatus.FAILED, error=str(error)[:500])
    if is_hard_bounce:
        record_bounce(message_id=send.message_id, email="", is_complaint=False, is_hard=True, now=now,
                               detail=f"Refused by the mail server: {error}"[:300])  # fmt: skip


def _give_back(sends: list[Send], *, now: datetime) -> int:
    """Undo the sends never handed to the server: the enrollment goes back before the step, due again soon."""
    with transaction.atomic():
        for send in sends:
            Send.objects.filter(pk=send.pk, status=SendStatus.SENDING).delete()
            previous = Send.objects.filter(enrollment_id=send.enrollment_id).order_by("-position").first()
            Enrollment.objects.filter(pk=send.enrollment_id).update(
                status=EnrollmentStatus.ACTIVE,
                ended_at=None,
                last_position=previous.position if previous else 0,
                last_sent_at=previous.created_at if previous else None,
                next_due_at=now + RETRY_AFTER,
            )
    return len(sends)


# --- Building one email ----------------------------------------------------------------------------


def compile_step(step: Step) -> rendering.CompiledStep:
    return rendering.compile_step(subject=step.subject, body=step.body, asset_url=step.asset_url)


def person_values(lead: Lead) -> dict[str, str]:
    return {
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "company": lead.company_name,
        "job_title": lead.job_title,
    }


class NurtureEmail(EmailMultiAlternatives):
    """An email with its MIME boundary chosen up front.

    Left to itself, the standard library's generator picks a boundary and compiles a regular expression
    for it to scan the body, for every message: a fifth of the worker's time in a batch
    (bench/nurture_send.py). A random boundary that cannot occur in the encoded bodies needs no scan.
    """

    def message(self, *args: Any, **kwargs: Any) -> Any:
        message = super().message(*args, **kwargs)
        if message.is_multipart():
            message.set_boundary(f"==nurture-{uuid.uuid4().hex}==")
        return message


@dataclass(frozen=True)
class Layout:
    """The email's frame (``templates/nurture/email/step.*``) rendered once, with markers where each email differs."""

    html: str
    text: str

    @classmethod
    def for_track(cls, track: Track) -> Layout:
        email = rendering.RenderedEmail(subject=_SUBJECT, html=_BODY, text=_BODY)
        context = {"email": email, "unsubscribe_url": _UNSUBSCRIBE, "track": track}
        return cls(
            html=render_to_string("nurture/email/step.html", context),
            text=render_to_string("nurture/email/step.txt", context),
        )

    def fill(self, email: rendering.RenderedEmail, *, unsubscribe_url: str) -> tuple[str, str]:
        """(html, text) of one email: the subject and the address escaped for HTML, the body already is."""
        html = self.html.replace(_SUBJECT, escape(email.subject)).replace(_UNSUBSCRIBE, escape(unsubscribe_url))
        text = self.text.replace(_UNSUBSCRIBE, unsubscribe_url)
        return html.replace(_BODY, email.html), text.replace(_BODY, email.text)


_SUBJECT, _BODY, _UNSUBSCRIBE = "NRTSUBJECTMARK", "NRTBODYMARK", "NRTUNSUBSCRIBEMARK"


def build_message(
    compiled: rendering.CompiledStep,
    *,
    track: Track,
    values: dict[str, str],
    to: str,
    send_id: int,
    message_id: str,
    connection: Any = None,
    layout: Layout | None = None,
) -> EmailMultiAlternatives:
    """One email with both bodies, the signed click links and the RFC 8058 one-click unsubscribe headers.

    ``send_id`` 0 is a test email: its links go straight to their targets and its unsubscribe link changes
    nothing. A batch passes the track's ``layout`` it rendered once.
    """

    def link(url: str) -> str:
        if send_id == links.TEST_SEND or not links.is_trackable(url):
            return url
        return links.click_url(send_id=send_id, url=url)

    email = compiled.render(values, link=link)
    unsubscribe = links.unsubscribe_url(send_id=send_id)
    html, text = (layout or Layout.for_track(track)).fill(email, unsubscribe_url=unsubscribe)
    sender = track.from_email or settings.DEFAULT_FROM_EMAIL
    message = NurtureEmail(
        subject=email.subject,
        body=text,
        from_email=f"{track.from_name} <{sender}>" if track.from_name else sender,
        to=[to],
        headers={
            "Message-ID": message_id,
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        connection=connection,
    )
    message.attach_alternative(html, "text/html")
    return message
