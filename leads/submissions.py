"""Writes for the public forms: store a submission and capture its lead, release suspected spam, confirm a
double opt-in, record asset downloads, and keep a form's consent text versions.

A submission comes from a visitor (``submit_form``, the HTML views) or from another system
(``submit_form_from_api``, ``POST /api/submissions/``); both store it and capture its lead through the
same code, and every lead reaches ``leads.services.capture_lead``, like every other way in.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse

from leads import merge, services, spam, suppression, tokens, unsubscribe
from leads.models import (
    Activity,
    ActivityKind,
    CaptureForm,
    Consent,
    ConsentSource,
    ConsentStatus,
    ConsentText,
    LeadAttribute,
    Submission,
    SubmissionStatus,
)
from leads.normalise import normalise_email

if TYPE_CHECKING:
    from django.contrib.auth.models import User

CONFIRMATION_TASK = "leads.tasks.send_submission_confirmation"
API_NONCE_PREFIX = spam.API_NONCE_PREFIX
# A submission another system sends this long after the person sent it is checked against the suppression list;
# a fresher one (the ordinary capture, sent as it happens) is not, so capture pays no query for the list. Only a
# person erased, or who objected, within these minutes of sending slips through, as they would have had it synced
# at once.
LATE_SYNC_AFTER = timedelta(minutes=5)
SUPPRESSED_SINCE_SENT = "The person was erased, or objected, since this was sent."


class SuppressedSinceSent(ValidationError):
    """The person's address (their number, when they gave no address) went on the suppression list after they sent
    the submission: capturing it would bring back someone erased, or who objected. Keyed by that answer."""


@dataclass(frozen=True)
class ClientInfo:
    ip_address: str | None
    user_agent: str


@dataclass(frozen=True)
class SubmitResult:
    submission: Submission
    is_duplicate: bool


def submit_form(
    *,
    form: CaptureForm,
    render: tokens.RenderToken,
    consent_text: ConsentText,
    answers: Mapping[str, Any],
    attribution: Mapping[str, str],
    honeypot: str,
    client: ClientInfo,
    now: datetime,
) -> SubmitResult:
    """Store a visitor's submission of the public form and, unless it looks like spam, capture its lead.

    A second submit of the same rendered form (a double click, a reload) returns the first submission.
    The pipeline (and a double opt-in email) are enqueued after commit; if enqueueing fails, the
    submission and the lead stay. Raises ``ValidationError`` when the lead cannot be captured.
    """
    # A repeat of the render is found by its nonce, which the column keeps unique (see ``_store``).
    verdict = spam.check_submission(
        honeypot=honeypot, rendered_at=render.rendered_at, ip_address=client.ip_address, now=now
    )
    submission = Submission(
        form=form,
        consent_text=consent_text,
        idempotency_key=render.nonce,
        payload=dict(answers),
        attribution=dict(attribution),
        ip_address=client.ip_address,
        user_agent=client.user_agent[:500],
        rendered_at=render.rendered_at,
        submitted_at=now,
    )
    return _store(submission, verdict=verdict)


def submit_form_from_api(
    *,
    form: CaptureForm,
    consent_text: ConsentText,
    answers: Mapping[str, Any],
    attribution: Mapping[str, str],
    client: ClientInfo,
    now: datetime,
    submitted_at: datetime | None = None,
) -> SubmitResult:
    """Store a submission another system sent (``POST /api/submissions/``) and capture its lead, as ``submit_form``.

    The same storing and capture as a visitor's submission, without the spam checks that need a browser:
    no render (so no time trap), no honeypot, and instead of the per-address rate limit the API key's own
    rate limit applies. Every call is a new submission (the API's ``Idempotency-Key`` makes a retry return
    the first). ``submitted_at`` (default ``now``) is when the person sent the form on the other system.
    Raises ``ValidationError`` when the lead cannot be captured, ``SuppressedSinceSent`` (storing nothing) when it
    was sent more than ``LATE_SYNC_AFTER`` ago and the person went on the suppression list since.
    """
    submitted_at = submitted_at or now
    if submitted_at < now - LATE_SYNC_AFTER:
        _refuse_if_suppressed_since(answers, sent_at=submitted_at)
    submission = Submission(
        form=form,
        consent_text=consent_text,
        # No render, so no nonce to dedupe on: a random key (the API's own prefix) keeps the column unique.
        idempotency_key=f"{API_NONCE_PREFIX}{secrets.token_urlsafe(18)}",
        payload=dict(answers),
        attribution=dict(attribution),
        ip_address=client.ip_address,
        user_agent=client.user_agent[:500],
        rendered_at=submitted_at,
        submitted_at=submitted_at,
    )
    return _store(submission, verdict=None)


def _store(submission: Submission, *, verdict: spam.SpamVerdict | None) -> SubmitResult:
    """Save the submission and, unless it is held as spam, capture its lead: one write transaction.

    Everything that needs no database (checking the submission, normalising and checking the person's
    details, building their lead) is done before the transaction opens, so the write lock is held only
    for the statements. A repeat of the same render (a double click, a reload, two requests at once)
    breaks the unique idempotency key: its transaction rolls back whole and the first submission is returned.
    """
    if verdict is not None:
        submission.status = SubmissionStatus.SPAM
        submission.spam_reason, submission.spam_detail = verdict.reason, verdict.detail[:200]
    # The form and consent text rows were just read; checking that they exist would cost two queries.
    submission.full_clean(exclude=["form", "consent_text"], validate_unique=False, validate_constraints=False)
    prepared = _prepare(submission) if verdict is None else None
    try:
        with transaction.atomic():
            if prepared is None:
                # bulk_create: the same INSERT without post_save, whose listeners care about the lead (none).
                Submission.objects.bulk_create([submission])
            else:
                _capture(submission, prepared=prepared)
    except IntegrityError:
        existing = Submission.objects.filter(idempotency_key=submission.idempotency_key).first()
        if existing is None:
            raise
        return SubmitResult(submission=existing, is_duplicate=True)
    return SubmitResult(submission=submission, is_duplicate=False)


def release_submission(*, submission: Submission, by: User | None, now: datetime) -> bool:
    """Treat a submission held as spam as real: capture its lead and run the pipeline, as if it had just passed.

    Returns False when it was not (or no longer) held as spam. The conditional update makes two concurrent
    releases capture the lead once. Raises ``SuppressedSinceSent`` (a ``ValidationError``) when its address (its
    phone number, when it gave no address) went on the suppression list after it was sent (the person was erased,
    or objected, since): releasing it would bring them back. One sent after that is a new request of theirs, as a
    form passed straight away would be.
    """
    _refuse_if_suppressed_since(submission.payload, sent_at=submission.submitted_at)
    with transaction.atomic():
        claimed = Submission.objects.filter(pk=submission.pk, status=SubmissionStatus.SPAM).update(
            status=SubmissionStatus.CAPTURED, released_at=now, released_by=by
        )
        if claimed != 1:
            return False
        submission.refresh_from_db()
        _capture(submission, prepared=_prepare(submission))
    return True


def _refuse_if_suppressed_since(answers: Mapping[str, Any], *, sent_at: datetime) -> None:
    email, phone = str(answers.get("email") or ""), str(answers.get("phone") or "")
    if suppression.suppressed_since(
        email=email, phone=phone, country=str(answers.get("country") or ""), sent_at=sent_at
    ):
        raise SuppressedSinceSent({"email" if normalise_email(email) else "phone": SUPPRESSED_SINCE_SENT})


def _prepare(submission: Submission) -> services.PreparedLead:
    # Whoever sent it proved nothing: it may fill the lead's blanks, the rest waits as proposed changes.
    return services.prepare_lead(
        details=_lead_details(submission), source=merge.Source.PERSON, now=submission.submitted_at
    )


def _capture(submission: Submission, *, prepared: services.PreparedLead) -> None:
    """Capture the submission's lead with its consent, touch and activity, store the submission with them and
    mark the lead due for the pipeline; the pipeline's wake-up (and a double opt-in email) go out after commit."""
    form, consent_text = submission.form, submission.consent_text
    attribution = submission.attribution
    result = services.capture_lead(
        details=prepared,
        consent=services.ConsentDetails(
            legal_basis=form.legal_basis,
            text=consent_text.text,
            text_version=consent_text.label,
            source=_consent_source(submission),
            source_ref=form.slug,
            ip_address=submission.ip_address,
            consent_text_id=consent_text.pk,
            is_pending=form.is_double_opt_in,
        ),
        touch=services.TouchDetails(
            source=attribution.get("utm_source", ""),
            medium=attribution.get("utm_medium", ""),
            campaign=attribution.get("utm_campaign", ""),
            term=attribution.get("utm_term", ""),
            content=attribution.get("utm_content", ""),
            click_id=attribution.get("gclid", ""),
            referrer=attribution.get("referrer", ""),
            landing_page=attribution.get("landing_page", ""),
        ),
        activity_kind=ActivityKind.FORM_SUBMITTED,
        # capture_lead adds the submission's id once it is stored.
        activity_metadata={"form": form.slug},
        now=submission.submitted_at,
        value_source=merge.Source.PERSON,
        submission=submission,
        pipeline_due=True,
    )
    # Pending on a double opt-in form, and on any form after the person withdrew: the email confirms it.
    if result.consent is not None and result.consent.status == ConsentStatus.PENDING:
        services.enqueue_after_commit(CONFIRMATION_TASK, submission.pk)


# Built once: ``LeadAttribute.values`` makes a new list each time it is read.
_LEAD_ATTRIBUTES = frozenset(LeadAttribute.values)


def _lead_details(submission: Submission) -> services.LeadDetails:
    answers = submission.payload
    return services.LeadDetails(
        **{key: str(value) for key, value in answers.items() if key in _LEAD_ATTRIBUTES},
        custom_answers={key: value for key, value in answers.items() if key not in _LEAD_ATTRIBUTES},
    )


def _consent_source(submission: Submission) -> str:
    # Through the API another system showed the consent text; the consent says so.
    return ConsentSource.API if submission.idempotency_key.startswith(API_NONCE_PREFIX) else ConsentSource.FORM


# --- Double opt-in and the gated asset -------------------------------------------------------------


def send_confirmation_email(*, submission_id: int, now: datetime) -> bool:
    """Email the double opt-in link (and the asset link) for a pending consent, once; True when sent."""
    submission = Submission.objects.select_related("form", "lead", "consent").filter(pk=submission_id).first()
    if submission is None or submission.lead is None or not submission.lead.email:
        return False
    if submission.consent is None or submission.consent.status != ConsentStatus.PENDING:
        return False
    # Claim the send first, so a task that runs twice sends one email.
    claimed = Submission.objects.filter(pk=submission.pk, confirmation_sent_at__isnull=True).update(
        confirmation_sent_at=now
    )
    if claimed != 1:
        return False
    confirm_path = reverse("leads:confirm", args=[tokens.confirm_token(submission_id=submission.pk)])
    context = {
        "form": submission.form,
        "lead": submission.lead,
        "confirm_url": settings.SITE_URL + confirm_path,
        "asset_url": asset_url(submission) if submission.form.has_asset else "",
        "withdraw_url": unsubscribe.withdraw_url(lead_id=submission.lead.pk),
        "link_days": tokens.CONFIRM_LINK_MAX_AGE.days,
    }
    try:
        EmailMessage(
            # One line whatever the headline holds: a newline in a subject is refused as header injection.
            subject=" ".join(render_to_string("leads/email/confirm_subject.txt", context).split()),
            body=render_to_string("leads/email/confirm_body.txt", context),
            to=[submission.lead.email],
            headers=unsubscribe.unsubscribe_headers(lead_id=submission.lead.pk),
        ).send()
    except Exception:
        # Let the task queue retry it.
        Submission.objects.filter(pk=submission.pk).update(confirmation_sent_at=None)
        raise
    return True


# The confirmation task normally sends within seconds; past this, its task was lost. Past a day, a
# confirmation email would surprise the person more than it helps.
UNSENT_AFTER = timedelta(minutes=5)
UNSENT_GIVE_UP_AFTER = timedelta(days=1)


def send_unsent_confirmations(*, now: datetime, limit: int = 100) -> int:
    """Send the double opt-in emails whose task was lost (the queue was down); returns how many were sent.

    The safety net behind ``CONFIRMATION_TASK``: without it such a lead would wait for ever, held from
    sales for a consent nobody asked for. Safe to run twice: each send is claimed first.
    """
    unsent = (
        Submission.objects.filter(
            status=SubmissionStatus.CAPTURED,
            submitted_at__range=(now - UNSENT_GIVE_UP_AFTER, now - UNSENT_AFTER),
            confirmation_sent_at__isnull=True,
            consent__status=ConsentStatus.PENDING,
        )
        .order_by("submitted_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(send_confirmation_email(submission_id=submission_id, now=now) for submission_id in unsent)


def asset_url(submission: Submission) -> str:
    """The absolute, signed and expiring link to the submission's gated asset."""
    return settings.SITE_URL + reverse("leads:asset", args=[tokens.asset_token(submission_id=submission.pk)])


def confirm_consent(*, submission: Submission, now: datetime, ip_address: str | None = None) -> Consent | None:
    """Confirm the submission's pending double opt-in consent; confirming twice changes nothing.

    The time and the address the link was followed from (``ip_address``, kept as the consent's own) are
    the proof of confirmation.

    Following the link proves the person holds the address, so what they sent may now replace what they
    typed before (``services.apply_verified_details``). The lead was held from sales while its consent was
    pending (``scoring.baseline``), so confirming runs the pipeline again: a lead that scored as an MQL is
    passed on now.
    """
    if submission.consent_id is None:
        return None
    with transaction.atomic():
        # Never a consent withdrawn since (``withdraw_consents`` withdraws pending ones too), nor an erased person's.
        pending = Consent.objects.filter(
            pk=submission.consent_id,
            status=ConsentStatus.PENDING,
            withdrawn_at__isnull=True,
            lead__erased_at__isnull=True,
        )
        confirmed = pending.update(
            status=ConsentStatus.CONFIRMED, confirmed_at=now, confirmed_ip_address=ip_address or None
        )
        if confirmed and submission.lead_id is not None:
            services.apply_verified_details(lead_id=submission.lead_id, details=_lead_details(submission), now=now)
            services.enqueue_pipeline(lead_id=submission.lead_id)
    return Consent.objects.get(pk=submission.consent_id)


def record_asset_download(*, submission: Submission, now: datetime) -> Activity | None:
    """Record that the submission's lead opened the gated asset; one activity per submission, however many clicks."""
    if submission.lead_id is None:
        return None
    existing = Activity.objects.filter(
        lead_id=submission.lead_id, kind=ActivityKind.ASSET_DOWNLOADED, metadata__submission=submission.pk
    ).first()
    if existing is not None:
        return existing
    return Activity.objects.create(
        lead_id=submission.lead_id,
        kind=ActivityKind.ASSET_DOWNLOADED,
        occurred_at=now,
        metadata={"form": submission.form.slug, "submission": submission.pk},
        created_at=now,
    )


# --- Form builder ----------------------------------------------------------------------------------


def update_consent_text(*, form: CaptureForm, text: str, by: User | None, now: datetime) -> ConsentText:
    """Make ``text`` the form's consent text. A changed text becomes a new version; old versions are kept,
    because every consent points at the version the person saw."""
    text = text.replace("\r\n", "\n").strip()
    current = form.consent_texts.order_by("-version").first()
    if current is not None and current.text == text:
        return current
    version = ConsentText(
        form=form, version=current.version + 1 if current else 1, text=text, created_at=now, created_by=by
    )
    version.full_clean(validate_unique=False, validate_constraints=False)
    version.save()
    return version
