"""Writes of the nurture app: enrolling leads, ending enrollments, and what recipients do with the emails.

Sending itself lives in ``nurture.sending``.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.db.models.functions import Coalesce

from core import link_scanners
from leads import services as lead_services
from leads.events import NURTURE_BELOW_THRESHOLD, NURTURE_FROM_RECYCLE
from leads.models import ActivityKind, Lead
from nurture import calendar
from nurture.models import (
    Click,
    ClickBotReason,
    Enrollment,
    EnrollmentStatus,
    ExitReason,
    Send,
    Step,
    Track,
    TrackStatus,
)

logger = logging.getLogger(__name__)


def lead_calendar(track: Track, country: str) -> calendar.SendCalendar:
    return calendar.for_lead(
        country=country,
        timezone=track.time_zone,
        holiday_country=track.holiday_country,
        send_from=track.send_from,
        send_until=track.send_until,
    )


def live_track_choices() -> list[tuple[str, str]]:
    """(key, name) of the live tracks: what routing rules may send a lead to (``leads.events``)."""
    return list(Track.objects.filter(status=TrackStatus.LIVE).order_by("name").values_list("key", "name"))


def track_for(*, key: str, source: str) -> Track | None:
    """The live track named ``key``, or the live default track of ``source`` when no key is given."""
    tracks = Track.objects.filter(status=TrackStatus.LIVE)
    if key:
        return tracks.filter(key=key).first()
    if source == NURTURE_BELOW_THRESHOLD:
        return tracks.filter(is_default_below_threshold=True).first()
    if source == NURTURE_FROM_RECYCLE:
        return tracks.filter(is_default_recycle=True).first()
    return None


# --- Enrollment -----------------------------------------------------------------------------------


def enroll_lead(
    *, lead_id: int, track: Track, source: str, reason: str, now: datetime, until: datetime | None = None
) -> Enrollment | None:
    """Enroll the lead in ``track`` (live), keeping why; returns the active enrollment, or None for no lead.

    A lead has one active enrollment: already in this track, it stays where it is (a recycle updates the
    date it ends); in another one, that one ends ("moved") and this one starts. An enrollment whose recycle
    date has passed is over, whichever of the sender and this request gets there first: it ends ("until") and a
    new one starts. A lead that went through this track before picks up after the last step it was sent there,
    so it never gets the same email of a track twice. The next step is due its delay in business days from
    now, in the lead's calendar.
    """
    lead = Lead.objects.filter(pk=lead_id, erased_at__isnull=True).only("id", "country").first()
    if lead is None:
        return None
    # Read before the transaction: no step goes out for an ended enrollment, nor for one past its recycle date.
    sent = _last_position_sent(lead_id=lead_id, track=track)
    upcoming = _next_step(track, after=sent)
    due = lead_calendar(track, lead.country).due_after(now, upcoming.delay_days) if upcoming else now
    try:
        with transaction.atomic():
            active = Enrollment.objects.filter(lead_id=lead_id, status=EnrollmentStatus.ACTIVE).first()
            if active is not None and active.track_id == track.pk and (active.until is None or active.until > now):
                if until is not None and active.until != until:
                    active.until = until
                    active.save(update_fields=["until"])
                return active
            if active is not None:
                is_same = active.track_id == track.pk
                _end(
                    Enrollment.objects.filter(pk=active.pk),
                    reason=ExitReason.UNTIL if is_same else ExitReason.MOVED,
                    now=now,
                    note="" if is_same else f"Moved to {track}",
                )
            return Enrollment.objects.create(
                lead_id=lead_id,
                track=track,
                source=source,
                reason=reason[:500],
                until=until,
                started_at=now,
                last_position=sent,
                next_due_at=due,
            )
    except IntegrityError:
        # Another request enrolled the lead at the same moment; theirs stands.
        return Enrollment.objects.filter(lead_id=lead_id, status=EnrollmentStatus.ACTIVE).first()


def _last_position_sent(*, lead_id: int, track: Track) -> int:
    """The position of the last step of ``track`` the lead was sent, in any of its enrollments there (0: none)."""
    enrollments = Enrollment.objects.filter(lead_id=lead_id, track=track)
    return int(enrollments.aggregate(last=Coalesce(Max("last_position"), 0))["last"])


def handle_nurture_request(
    *, lead_id: int, track_key: str, source: str, reason: str, until: datetime | None, now: datetime
) -> Enrollment | None:
    """What ``leads.events.nurture_requested`` asks: enroll in the named track or the source's default one."""
    track = track_for(key=track_key, source=source)
    if track is None:
        if track_key:  # a routing rule names a track that is not live: the marketer should hear of it
            logger.warning("No live nurture track %r (source %s) for lead %s", track_key, source, lead_id)
        else:  # no default track is set: a choice, so nobody is enrolled
            logger.info("No default nurture track (source %s): lead %s not enrolled", source, lead_id)
        return None
    return enroll_lead(lead_id=lead_id, track=track, source=source, reason=reason, until=until, now=now)


def end_enrollment(*, lead_id: int, reason: str, now: datetime, note: str = "") -> int:
    """End the lead's active enrollment at once, with the reason; returns 1 when there was one, else 0."""
    active = Enrollment.objects.filter(lead_id=lead_id, status=EnrollmentStatus.ACTIVE)
    return _end(active, reason=reason, now=now, note=note)


def end_enrollments(*, enrollments: Any, reason: str, now: datetime, note: str = "") -> int:
    """End the given enrollments (a marketer's action in admin); ended ones stay as they are."""
    return _end(enrollments.filter(status=EnrollmentStatus.ACTIVE), reason=reason, now=now, note=note)


def _end(enrollments: Any, *, reason: str, now: datetime, note: str = "") -> int:
    status = EnrollmentStatus.EXITED
    return int(
        enrollments.update(
            status=status, exit_reason=reason, exit_note=note[:300], ended_at=now, next_due_at=None, lease_until=None
        )
    )


def _next_step(track: Track, *, after: int) -> Step | None:
    return track.steps.filter(is_active=True, position__gt=after).order_by("position").first()


# --- What recipients do ---------------------------------------------------------------------------


def record_click(*, send_id: int, url: str, now: datetime, method: str = "GET", user_agent: str = "") -> Click | None:
    """Keep a request for a link of a send as a ``Click``, deciding whether a mail scanner made it.

    A scanner's (a HEAD request, a scanner's or no user agent, ``NURTURE_CLICK_MIN_DELAY_SECONDS`` or less after
    the send, or another link of the same email ``NURTURE_CLICK_BURST_SECONDS`` or less away, which marks that
    one too) is kept as such and never scored. Any other click is counted by ``count_clicks`` once the burst
    window has passed, so the first link of a scanner's sweep is never scored either. Returns None when the send
    is unknown (deleted, or a test email).
    """
    fields = ("id", "sent_at", "created_at", "lead__erased_at")
    send = Send.objects.filter(pk=send_id).select_related("lead").only(*fields).first()
    if send is None:
        return None
    reason = link_scanners.automated_reason(method=method, user_agent=user_agent)
    sent_at = send.sent_at or send.created_at
    if not reason and now - sent_at <= timedelta(seconds=settings.NURTURE_CLICK_MIN_DELAY_SECONDS):
        reason = ClickBotReason.TOO_SOON
    burst = timedelta(seconds=settings.NURTURE_CLICK_BURST_SECONDS)
    with transaction.atomic():
        others = Click.objects.filter(send_id=send.pk, clicked_at__range=(now - burst, now + burst)).exclude(url=url)
        if others.exists():
            reason = reason or ClickBotReason.BURST
            # The link before this one looked like a person's until now: it was waiting to be counted.
            others.filter(is_bot=False, counted_at__isnull=True).update(is_bot=True, bot_reason=ClickBotReason.BURST)
        # An erased lead's browser is kept no more than its earlier clicks' (erasure blanked those).
        kept_agent = "" if send.lead.erased_at is not None else user_agent[:300]
        return Click.objects.create(
            send=send, url=url, clicked_at=now, user_agent=kept_agent, is_bot=bool(reason), bot_reason=reason
        )


def count_clicks(*, now: datetime, limit: int = 500) -> int:
    """Count the clicks that waited out the burst window as people's; returns how many were counted.

    Each adds one to its send's click count and records the lead's ``email_clicked`` activity (track, step and
    URL; once per send and link, so a person clicking twice counts once), which rescores the lead. Runs every
    minute (``nurture.tasks.count_clicks``); a click is claimed before it is counted, so a second run counts
    nothing twice.
    """
    settled_before = now - timedelta(seconds=settings.NURTURE_CLICK_BURST_SECONDS)
    waiting = Click.objects.filter(is_bot=False, counted_at__isnull=True, clicked_at__lt=settled_before)
    clicks = waiting.select_related("send__track", "send__lead").order_by("clicked_at", "id")[:limit]
    return sum(_count_click(click, now=now) for click in clicks)


def _count_click(click: Click, *, now: datetime) -> bool:
    send = click.send
    with transaction.atomic():
        claimed = Click.objects.filter(pk=click.pk, is_bot=False, counted_at__isnull=True).update(counted_at=now)
        if not claimed:
            return False
        Send.objects.filter(pk=send.pk).update(
            click_count=F("click_count") + 1, first_clicked_at=Coalesce(F("first_clicked_at"), click.clicked_at)
        )
        if send.lead.erased_at is not None:
            return True
        link = hashlib.sha256(click.url.encode()).hexdigest()[:16]
        metadata = {
            "track": send.track.key,
            "step": send.position,
            "url": click.url,
            "send": send.pk,
            "external_id": f"nurture-click:{send.pk}:{link}",
        }
        lead_services.record_activity(
            lead=send.lead, kind=ActivityKind.EMAIL_CLICKED, occurred_at=click.clicked_at, now=now, metadata=metadata
        )
    return True


def unsubscribe(*, send_id: int, now: datetime) -> bool:
    """The recipient's one-click unsubscribe (RFC 8058): withdraw every consent and end the enrollment.

    Idempotent: a second click (a mailbox provider's POST, then the person's) changes nothing more.
    """
    send = Send.objects.select_related("track", "lead").filter(pk=send_id).first()
    if send is None:
        return False
    with transaction.atomic():
        Send.objects.filter(pk=send_id, unsubscribed_at__isnull=True).update(unsubscribed_at=now)
        note = f"Unsubscribed from nurture track “{send.track}”, email {send.position}."
        lead_services.withdraw_consents(lead=send.lead, now=now, source="unsubscribe", note=note)
        end_enrollment(lead_id=send.lead_id, reason=ExitReason.UNSUBSCRIBED, now=now)
    return True


def record_bounce(
    *, message_id: str, email: str, is_complaint: bool, is_hard: bool, now: datetime, detail: str = ""
) -> Send | None:
    """A bounce or complaint reported by the mail service: mark the send, and end the enrollment if it is final.

    The send is found by its Message-ID, else by the latest send to ``email``. A hard bounce or a complaint
    ends the enrollment; a complaint also withdraws the person's consent (they told their mailbox this is
    unwanted). A soft bounce is only recorded.
    """
    sends = Send.objects.select_related("lead")
    send = sends.filter(message_id=message_id).first() if message_id else None
    if send is None and email:
        send = sends.filter(to_email=email.strip().lower()).order_by("-created_at", "-id").first()
    if send is None:
        return None
    if send.lead.erased_at is not None:
        detail = ""  # the mail server's text names the address; the person's data was erased
    with transaction.atomic():
        if is_complaint:
            Send.objects.filter(pk=send.pk, complained_at__isnull=True).update(complained_at=now)
            lead_services.withdraw_consents(lead=send.lead, now=now, source="complaint", note=detail[:300])
            end_enrollment(lead_id=send.lead_id, reason=ExitReason.COMPLAINT, now=now, note=detail)
        else:
            Send.objects.filter(pk=send.pk, bounced_at__isnull=True).update(bounced_at=now, error=detail[:500])
            if is_hard:
                end_enrollment(lead_id=send.lead_id, reason=ExitReason.BOUNCE, now=now, note=detail)
    send.refresh_from_db()
    return send


# --- Data subject requests (called by integrations.privacy) ----------------------------------------


def lead_personal_data(*, lead: Lead) -> dict[str, Any]:
    """The nurture app's part of a lead's data export: its enrollments, every email sent and its links' clicks."""
    enrollments = lead.nurture_enrollments.select_related("track").order_by("started_at", "id")
    sends = lead.nurture_sends.select_related("track").order_by("created_at", "id")
    clicks = Click.objects.filter(send__lead=lead).order_by("clicked_at", "id")
    return {
        "nurture_enrollments": [
            {"track": row.track.name, **_fields_of(row, exclude={"lead_id", "lease_owner", "lease_until"})}
            for row in enrollments
        ],
        "nurture_sends": [{"track": row.track.name, **_fields_of(row, exclude={"lead_id"})} for row in sends],
        "nurture_clicks": [_fields_of(row, exclude=set()) for row in clicks],
    }


def _fields_of(row: Any, *, exclude: set[str]) -> dict[str, Any]:
    return {f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields if f.attname not in exclude}


def erase_lead_personal_data(*, lead_id: int, now: datetime) -> None:
    """The nurture app's part of an erasure: end the enrollment, blank addresses, subjects and reasons.

    Kept, as facts about no one: which track and step went out when, clicks (without the browser's user
    agent), bounces and unsubscribes as counts (the track report).
    """
    end_enrollment(lead_id=lead_id, reason=ExitReason.ERASURE, now=now)
    Send.objects.filter(lead_id=lead_id).update(to_email="", subject="", error="")
    Click.objects.filter(send__lead_id=lead_id).update(user_agent="")
    Enrollment.objects.filter(lead_id=lead_id).update(reason="", exit_note="")
