"""The worker that sends due nurture steps, and the marketer's preview and test email.

`send_due_steps` claims due enrollments in batches with a lease (a conditional UPDATE, so any number
of workers share the work), decides for each what is due, and — in one transaction — writes a `Send`
row per email and moves the enrollment past the step *before* anything is sent. The unique
(enrollment, step) constraint and the moved enrollment make a retry, a second worker or a restarted
task find nothing to send again: an email goes out at most once. It is then handed to sender threads
that send over `NURTURE_SMTP_CONNECTIONS` connections of Django's SMTP backend (configured by the EMAIL_*
settings), as bytes written by `nurture.mime`, while this thread claims and records the next batch; an
email the server refuses for good is failed (and a refused recipient is a hard bounce), and when the
server cannot be reached the run ends and the unsent steps are given back, to be tried a few minutes later (those
of an enrollment that ended meanwhile are not: it stays ended).

Nothing is sent to a lead without a usable consent, outside the lead's local daytime on a business
day, or past the per-domain hourly limit of the track (those wait for the next window or hour).
"""

from __future__ import annotations

import logging
import queue
import re
import smtplib
import threading
import time as clock
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.mail.message import sanitize_address
from django.db import IntegrityError, transaction
from django.db import connection as db_connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.template.loader import render_to_string
from django.utils.html import escape

from leads.models import Lead, Stage, usable_consent_q
from nurture import links, mime, rendering
from nurture.models import Enrollment, EnrollmentStatus, ExitReason, Send, SendStatus, Step, Track, TrackStatus
from nurture.services import end_enrollments, lead_calendar, record_bounce

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
CHUNK = 10  # emails handed to a sender thread at once: fewer thread wake-ups than one at a time
LEASE = timedelta(minutes=5)
RETRY_AFTER = timedelta(minutes=10)  # the mail server was unreachable
# A run settles its emails (sent, failed or given back) before its task is killed (Q_TIMEOUT, 2 minutes by default):
# an email "sending" for longer was left by a run that died, and no longer holds its enrollment's next step back.
IN_FLIGHT_AT_MOST = timedelta(hours=1)
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
    """Send every step due at ``now``, a batch at a time, until none is left, the mail server cannot be reached,
    or ``budget`` (wall time) is spent.

    The sender threads (``_Postman``) live for the whole run: while they send one batch, this thread claims and
    records the next, then settles the one before (what was sent, failed or is given back).
    """
    started = clock.monotonic()
    total = SendResult()
    postman = _Postman()
    handed: _Delivery | None = None
    try:
        while not postman.stop.is_set():
            result, delivery = _send_batch(now=now, batch_size=batch_size, postman=postman)
            total.add(result)
            if handed is not None:
                total.add(_settle(handed, now=now))
            handed = delivery
            if delivery is None and not any(vars(result).values()):
                break
            if budget is not None and clock.monotonic() - started > budget.total_seconds():
                break
    finally:
        postman.close()
        if handed is not None:
            total.add(_settle(handed, now=now))
    return total


# --- One batch -------------------------------------------------------------------------------------


@dataclass
class _Due:
    """A claimed enrollment with what the worker needs of its lead."""

    enrollment_id: int
    track_id: int
    last_position: int
    last_sent_at: datetime | None
    until: datetime | None
    lead_id: int
    email: str | None
    country: str
    stage: str
    values: dict[str, str]
    has_usable_consent: bool
    is_erased: bool
    became_stage_since_enrolled: bool


@dataclass
class _Plan:
    exits: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    postponed: dict[datetime, list[int]] = field(default_factory=lambda: defaultdict(list))
    sends: list[tuple[_Due, Step, datetime | None]] = field(default_factory=list)


def _send_batch(*, now: datetime, batch_size: int, postman: _Postman) -> tuple[SendResult, _Delivery | None]:
    """Claim, decide and record one batch, and hand its emails to ``postman``; what became of them is settled later."""
    owner = uuid.uuid4().hex
    due = _claim(now=now, batch_size=batch_size, owner=owner)
    if not due:
        return SendResult(), None
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
    result = SendResult(
        exited=sum(len(ids) for reason, ids in plan.exits.items() if reason != "completed"),
        completed=len(plan.exits.get("completed", [])),
        postponed=sum(len(ids) for ids in plan.postponed.values()),
    )
    delivery = postman.deliver(sends, compiled=compiled, tracks=tracks, now=now) if sends else None
    return result, delivery


def _claim(*, now: datetime, batch_size: int, owner: str) -> list[_Due]:
    claimable = (
        (Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        & Q(status=EnrollmentStatus.ACTIVE, next_due_at__lte=now)
        & ~Q(last_sent_at__gte=now)  # a step sent in this run (a 0-day next step) waits for the next run
        & ~Exists(_in_flight(now=now))
    )
    due = Enrollment.objects.filter(claimable, track__status=TrackStatus.LIVE)
    ids = list(due.order_by("next_due_at", "pk").values_list("pk", flat=True)[:batch_size])
    if not ids:
        return []
    # Checked again in the UPDATE (the enrollment's own row, no join): another worker may have claimed one, or sent
    # its step, since the read above.
    Enrollment.objects.filter(claimable, pk__in=ids).update(lease_until=now + LEASE, lease_owner=owner)
    query = (
        Enrollment.objects.filter(lease_owner=owner, status=EnrollmentStatus.ACTIVE)
        .values_list(
            "pk", "track_id", "last_position", "until", "lead_id", "lead__email", "lead__country", "lead__stage",
            "lead__first_name", "lead__last_name", "lead__company_name", "lead__job_title", "lead__erased_at",
            "started_at", "lead__stage_changed_at", "last_sent_at",
        )
    )  # fmt: skip
    rows = list(query)
    usable = _usable_consent_leads({row[4] for row in rows})
    return [
        _Due(
            enrollment_id=row[0],
            track_id=row[1],
            last_position=row[2],
            last_sent_at=row[15],
            until=row[3],
            lead_id=row[4],
            email=row[5],
            country=row[6],
            stage=row[7],
            values={"first_name": row[8], "last_name": row[9], "company": row[10], "job_title": row[11]},
            has_usable_consent=row[4] in usable,
            is_erased=row[12] is not None,
            # An MQL enrolled as one (routing sent it to this track) did not become one since.
            became_stage_since_enrolled=row[14] is not None and row[14] > row[13],
        )
        for row in rows
    ]


def _in_flight(*, now: datetime) -> QuerySet[Send]:
    """The enrollment's email still with a run's senders ("sending"): no other run sends its next step before it is
    settled, as a give-back (the mail server unreachable) puts the enrollment back before that email."""
    return Send.objects.filter(
        enrollment=OuterRef("pk"), status=SendStatus.SENDING, created_at__gt=now - IN_FLIGHT_AT_MOST
    )


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
    if item.stage in EXIT_STAGES and (item.stage != Stage.MQL or item.became_stage_since_enrolled):
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
    # Where the enrollment was before the run moved it past the step: what a give-back puts back.
    last_position: int
    last_sent_at: datetime | None


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
        ~Exists(_in_flight(now=now)),  # PostgreSQL: a claim that waited for a run recording a step may not see it
        pk__in=[item.enrollment_id for item, _, _ in planned],
        lease_owner=owner,
        status=EnrollmentStatus.ACTIVE,
    )
    if db_connection.features.has_select_for_update:
        held = held.select_for_update()
    still_held = set(held.values_list("pk", flat=True))
    outgoing: list[_Outgoing] = []
    moves: dict[tuple[int, datetime | None], list[int]] = defaultdict(list)
    sender_domain = _domain(parseaddr(settings.DEFAULT_FROM_EMAIL)[1]) or "localhost"
    for index, (item, step, next_due) in enumerate(planned):
        if item.enrollment_id not in still_held:
            continue
        send = Send(
            enrollment_id=item.enrollment_id,
            step_id=step.pk,
            track_id=item.track_id,
            lead_id=item.lead_id,
            position=step.position,
            subject=compiled[step.pk].render_subject(item.values)[:300],
            to_email=item.email or "",
            domain=_domain(item.email or ""),
            message_id=f"<nurture.{owner}.{index}@{sender_domain}>",  # owner: random, one per batch
            created_at=now,
        )
        outgoing.append(
            _Outgoing(send=send, values=item.values, last_position=item.last_position, last_sent_at=item.last_sent_at)
        )
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


Payload = mime.RawEmail | EmailMultiAlternatives
Chunk = list[tuple[Send, Payload]]  # emails handed to a sender thread at once


class _Delivery:
    """One batch's emails in the senders' hands, and what became of each (filled in by the senders)."""

    def __init__(self, outgoing: list[_Outgoing]) -> None:
        self.outgoing = outgoing
        self.sent: list[int] = []
        self.failed: list[tuple[Send, Exception, bool]] = []  # (send, error, is_hard_bounce)
        self._pending = 0
        self._changed = threading.Condition()

    def expect(self, count: int = 1) -> None:
        with self._changed:
            self._pending += count

    def report(self, send: Send, outcome: bool | tuple[Exception, bool] | None) -> None:
        """``True`` sent, ``(error, is_hard_bounce)`` failed, ``None`` not handed to the server."""
        with self._changed:
            if outcome is True:
                self.sent.append(send.pk)
            elif isinstance(outcome, tuple):
                error, is_hard_bounce = outcome
                self.failed.append((send, error, is_hard_bounce))
            self._pending -= 1
            if not self._pending:
                self._changed.notify_all()

    def wait(self) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self._pending == 0)


class _Postman:
    """The run's sender threads (``_Sender``, each with its own connection) and the queue they take emails from.

    Building an email is Python work, sending it mostly waiting for the server's answers (four round trips
    an email), so the senders send while this thread builds the next emails, and claims the next batch. Over
    Django's SMTP backend an email is built as bytes (``build_raw``); any other backend (console, locmem, a
    service's API) gets Django's message (``build_message``), over one connection.
    """

    def __init__(self) -> None:
        # At most 200 emails built ahead of the senders.
        self.outbox: queue.Queue[tuple[_Delivery, Chunk] | None] = queue.Queue(maxsize=200 // CHUNK)
        self.stop = threading.Event()
        self.senders = [_Sender(get_connection(), outbox=self.outbox, stop=self.stop) for _ in range(_connections())]
        self.as_bytes = all(type(sender.connection) is SmtpBackend for sender in self.senders)
        self.is_started = False

    def deliver(
        self,
        outgoing: list[_Outgoing],
        *,
        compiled: dict[int, rendering.CompiledStep],
        tracks: dict[int, Track],
        now: datetime,
    ) -> _Delivery:
        """Build each email and queue it for the senders; returns at once, with the last ones still queued."""
        if not self.is_started:
            for sender in self.senders:
                sender.start()
            self.is_started = True
        delivery = _Delivery(outgoing)
        frames = {track_id: Frame.for_track(track, now=now) for track_id, track in tracks.items()}
        chunk: Chunk = []
        for out in outgoing:
            if self.stop.is_set():
                break
            send = out.send
            try:
                payload = self._build(out, compiled=compiled[send.step_id], frame=frames[send.track_id])  # type: ignore[index]
            except ValueError as error:  # an address that cannot be written in a header
                delivery.expect()
                delivery.report(send, (error, False))
                continue
            chunk.append((send, payload))
            if len(chunk) == CHUNK:
                self._hand_over(delivery, chunk)
                chunk = []
        if chunk:
            self._hand_over(delivery, chunk)
        return delivery

    def _hand_over(self, delivery: _Delivery, chunk: Chunk) -> None:
        delivery.expect(len(chunk))
        self.outbox.put((delivery, chunk))

    def _build(self, out: _Outgoing, *, compiled: rendering.CompiledStep, frame: Frame) -> Payload:
        send = out.send
        if self.as_bytes:
            return build_raw(
                compiled, frame=frame, values=out.values, to=send.to_email, send_id=send.pk, message_id=send.message_id
            )
        return build_message(
            compiled,
            track=frame.track,
            layout=frame.layout,
            values=out.values,
            to=send.to_email,
            send_id=send.pk,
            message_id=send.message_id,
        )

    def close(self) -> None:
        """Let the senders finish what is queued, then close their connections."""
        if not self.is_started:
            return
        for _ in self.senders:
            self.outbox.put(None)
        for sender in self.senders:
            sender.join()


def _settle(delivery: _Delivery, *, now: datetime) -> SendResult:
    """Once the senders are done with a batch: mark what was sent, fail what was refused, give back the rest."""
    delivery.wait()
    result = SendResult(sent=len(delivery.sent), failed=len(delivery.failed))
    for send, error, is_hard_bounce in delivery.failed:
        _fail(send, error=error, now=now, is_hard_bounce=is_hard_bounce)
    done = set(delivery.sent) | {send.pk for send, _, _ in delivery.failed}
    unsent = [out for out in delivery.outgoing if out.send.pk not in done]
    if unsent:
        result.given_back += _give_back(unsent, now=now)
        logger.error(
            "Mail server unreachable; %s nurture emails not sent, %s given back (the rest ended meanwhile)",
            len(unsent),
            result.given_back,
        )
    for start in range(0, len(delivery.sent), 900):
        Send.objects.filter(pk__in=delivery.sent[start : start + 900]).update(status=SendStatus.SENT, sent_at=now)
    return result


def _connections() -> int:
    """SMTP connections a run sends over at once; other backends (console, tests' locmem) get one."""
    is_smtp = settings.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend"
    return max(1, settings.NURTURE_SMTP_CONNECTIONS) if is_smtp else 1


class _Sender(threading.Thread):
    """Hands the emails taken from ``outbox`` to the backend over one connection, until ``None``; no database.

    Each email's outcome is reported to its batch's ``_Delivery``. When the server cannot be reached or goes
    away, it sets ``stop`` for every sender: what is still queued is reported as not handed over, and given back.
    """

    def __init__(
        self,
        connection: Any,
        *,
        outbox: queue.Queue[tuple[_Delivery, Chunk] | None],
        stop: threading.Event,
    ) -> None:
        super().__init__(name="nurture-sender", daemon=True)
        self.connection = connection
        self.outbox = outbox
        self.stop = stop
        self.is_open = False

    def run(self) -> None:
        try:
            while (item := self.outbox.get()) is not None:
                delivery, chunk = item
                for send, payload in chunk:
                    delivery.report(send, None if self.stop.is_set() else self._send(payload))
        finally:
            if self.is_open:
                self.connection.close()

    def _send(self, payload: Payload) -> bool | tuple[Exception, bool] | None:
        try:
            if not self.is_open:
                self.connection.open()
                self.is_open = True
            if isinstance(payload, mime.RawEmail):
                # The backend opened the connection as EMAIL_* says (host, TLS, login); the bytes are ready.
                self.connection.connection.sendmail(payload.envelope_from, [payload.recipient], payload.data)
            else:
                self.connection.send_messages([payload])
        except smtplib.SMTPRecipientsRefused as error:
            return error, True
        except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as error:
            return error, False
        except (OSError, smtplib.SMTPException) as error:
            logger.error("Mail server unreachable: %s", error)
            self.stop.set()
            return None
        except ValueError as error:  # Django's backend refusing an address it cannot encode
            return error, False
        except Exception as error:
            # Whether the server took it is unknown: failed, never retried; nothing more is sent in this run.
            logger.exception("Unexpected error sending a nurture email")
            self.stop.set()
            return error, False
        return True


def _fail(send: Send, *, error: Exception, now: datetime, is_hard_bounce: bool) -> None:
    Send.objects.filter(pk=send.pk).update(status=SendStatus.FAILED, error=str(error)[:500])
    if is_hard_bounce:
        record_bounce(message_id=send.message_id, email="", is_complaint=False, is_hard=True, now=now,
                               detail=f"Refused by the mail server: {error}"[:300])  # fmt: skip


def _give_back(unsent: list[_Outgoing], *, now: datetime) -> int:
    """Undo the sends never handed to the server; returns how many enrollments try their step again soon.

    Only an enrollment still as this run left it goes back before its step: one ended meanwhile (an MQL, a
    withdrawal, an erasure, a recycle date, a move to another track) stays ended, and a lead enrolled again
    meanwhile keeps its new enrollment (one active per lead). Each in its own savepoint, so one never undoes the rest.
    """
    given_back = 0
    for out in unsent:
        with transaction.atomic():
            Send.objects.filter(pk=out.send.pk, status=SendStatus.SENDING).delete()
            given_back += _reopen(out, now=now)
    return given_back


def _reopen(out: _Outgoing, *, now: datetime) -> int:
    """Put the send's enrollment back where the run found it, due again soon, if the run's move is all that changed it.

    An enrollment ended meanwhile only gets its position back, so that the lead, back in the track, is sent the
    step then; a new enrollment of the lead there that counted the step as sent and has sent nothing goes back too.
    """
    send = out.send
    before = {"last_position": out.last_position, "last_sent_at": out.last_sent_at}
    moved = Enrollment.objects.filter(pk=send.enrollment_id, last_position=send.position, last_sent_at=now)
    as_left = moved.filter(Q(status=EnrollmentStatus.ACTIVE) | Q(status=EnrollmentStatus.COMPLETED, ended_at=now))
    active = Enrollment.objects.filter(lead_id=send.lead_id, status=EnrollmentStatus.ACTIVE)
    try:
        with transaction.atomic():
            reopened = as_left.filter(~Exists(active.exclude(pk=send.enrollment_id))).update(
                status=EnrollmentStatus.ACTIVE, ended_at=None, next_due_at=now + RETRY_AFTER, **before
            )
    except IntegrityError:  # PostgreSQL: a new enrollment of the lead committed after the check
        reopened = 0
    if not reopened:
        moved.update(**before)
        active.filter(track_id=send.track_id, last_position=send.position, last_sent_at__isnull=True).update(
            last_position=out.last_position
        )
    return reopened


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
    for it to scan the body, for every message. A random boundary that cannot occur in the encoded bodies
    needs no scan.
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


@dataclass(frozen=True)
class Frame:
    """What every email of a track sent at ``now`` shares, worked out once: the layout, the sender, the date, the
    MIME boundary, and those headers as they are written (``headers``, for ``build_raw``)."""

    track: Track
    layout: Layout
    sender: str
    headers: str
    boundary: str

    @classmethod
    def for_track(cls, track: Track, *, now: datetime) -> Frame:
        # Encoded as Django's backend encodes it: a name with accents as RFC 2047 words, a domain in IDNA.
        sender = _crlf(sanitize_address(_from_email(track), settings.DEFAULT_CHARSET))
        date = format_datetime(now.astimezone() if settings.EMAIL_USE_LOCALTIME else now.astimezone(UTC))
        headers = f"From: {sender}\r\nDate: {date}\r\nList-Unsubscribe-Post: {_ONE_CLICK}\r\n"
        boundary = f"==nurture-{uuid.uuid4().hex}=="
        return cls(track=track, layout=Layout.for_track(track), sender=sender, headers=headers, boundary=boundary)


_ONE_CLICK = "List-Unsubscribe=One-Click"  # RFC 8058
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")


def _from_email(track: Track) -> str:
    """The track's sender as Django's ``from_email`` takes it: a display name is quoted (a comma in it included)."""
    address = track.from_email or settings.DEFAULT_FROM_EMAIL
    return formataddr((track.from_name, parseaddr(address)[1])) if track.from_name else address


def _recipient(email: str) -> str:
    """The address for the To header and the envelope: a plain ASCII one as it is, any other encoded by Django."""
    return email if _PLAIN_ADDRESS.fullmatch(email) else _crlf(sanitize_address(email, settings.DEFAULT_CHARSET))


def _crlf(value: str) -> str:
    """A header value ``email.header.Header`` folded with bare LFs, with the CRLFs SMTP wants."""
    return value.replace("\r\n", "\n").replace("\n", "\r\n")


def _content(
    compiled: rendering.CompiledStep, *, layout: Layout, values: dict[str, str], send_id: int
) -> tuple[str, str, str, str]:
    """(subject, html, text, unsubscribe URL) of one email, its links signed for ``send_id``."""

    def link(url: str) -> str:
        if send_id == links.TEST_SEND or not links.is_trackable(url):
            return url
        return links.click_url(send_id=send_id, url=url)

    email = compiled.render(values, link=link)
    unsubscribe = links.unsubscribe_url(send_id=send_id)
    html, text = layout.fill(email, unsubscribe_url=unsubscribe)
    return email.subject, html, text, unsubscribe


def build_raw(
    compiled: rendering.CompiledStep,
    *,
    frame: Frame,
    values: dict[str, str],
    to: str,
    send_id: int,
    message_id: str,
) -> mime.RawEmail:
    """One email as the bytes the SMTP server gets: what ``build_message`` makes, without ``email.mime``.

    Raises ``ValueError`` for an address that cannot be written in a header (as Django's backend would).
    """
    subject, html, text, unsubscribe = _content(compiled, layout=frame.layout, values=values, send_id=send_id)
    recipient = _recipient(to)
    headers = "".join(
        (
            frame.headers,
            mime.header("Subject", subject),
            f"To: {recipient}\r\nMessage-ID: {message_id}\r\n",
            mime.header("List-Unsubscribe", f"<{unsubscribe}>"),
        )
    )
    data = mime.multipart_alternative(headers=headers, text=text, html=html, boundary=frame.boundary)
    return mime.RawEmail(envelope_from=frame.sender, recipient=recipient, data=data)


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
    nothing. A batch passes the track's ``layout`` it rendered once. The worker uses this for backends other
    than SMTP; over SMTP it sends ``build_raw``'s bytes, the same email.
    """
    layout = layout or Layout.for_track(track)
    subject, html, text, unsubscribe = _content(compiled, layout=layout, values=values, send_id=send_id)
    message = NurtureEmail(
        subject=subject,
        body=text,
        from_email=_from_email(track),
        to=[to],
        headers={"Message-ID": message_id, "List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": _ONE_CLICK},
        connection=connection,
    )
    message.attach_alternative(html, "text/html")
    return message
