"""Nurture tracks: ordered email steps marketers edit in admin, the leads enrolled in them, and every send."""

from __future__ import annotations

from datetime import time

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core import link_scanners
from leads.events import NURTURE_BELOW_THRESHOLD, NURTURE_FROM_RECYCLE, NURTURE_FROM_ROUTING
from leads.models import Lead
from nurture import calendar, rendering


class TrackStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    LIVE = "live", "Live"
    PAUSED = "paused", "Paused"


class EnrollmentSource(models.TextChoices):
    ROUTING = NURTURE_FROM_ROUTING, "Routing rule"
    RECYCLE = NURTURE_FROM_RECYCLE, "Recycled by a rep"
    BELOW_THRESHOLD = NURTURE_BELOW_THRESHOLD, "Below the nurture threshold"
    MARKETER = "marketer", "Enrolled by a marketer"


class Track(models.Model):
    """A sequence of emails for leads not ready for sales; only a live track enrolls and sends."""

    name = models.CharField(max_length=200)
    key = models.SlugField(max_length=100, unique=True, help_text="What routing rules name this track by.")
    description = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=TrackStatus.choices, default=TrackStatus.DRAFT, db_index=True)
    is_default_below_threshold = models.BooleanField(
        "default for leads below the threshold",
        default=False,
        help_text="Leads that scoring moves below the nurture threshold are enrolled here.",
    )
    is_default_recycle = models.BooleanField(
        "default for recycled leads",
        default=False,
        help_text="Leads a rep recycles “not now” are enrolled here until the rep's date.",
    )
    from_email = models.EmailField(blank=True, help_text="Sender address; empty means the site's DEFAULT_FROM_EMAIL.")
    from_name = models.CharField(max_length=100, blank=True)
    time_zone = models.CharField(
        max_length=64, default="UTC", help_text="For leads with no country: their time zone for the sending window."
    )
    holiday_country = models.CharField(
        max_length=2, blank=True, help_text="For leads with no country: whose public holidays are not business days."
    )
    send_from = models.TimeField(default=time(9, 0), help_text="Earliest local time of the lead to send at.")
    send_until = models.TimeField(default=time(17, 0), help_text="Latest local time of the lead to send at.")
    per_domain_hourly_limit = models.PositiveIntegerField(
        default=100,
        validators=[MinValueValidator(1)],
        help_text="At most this many emails of this track to one recipient domain per hour; the rest wait.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default_below_threshold"],
                condition=Q(is_default_below_threshold=True),
                name="track_one_default_below_threshold",
            ),
            models.UniqueConstraint(
                fields=["is_default_recycle"], condition=Q(is_default_recycle=True), name="track_one_default_recycle"
            ),
            models.CheckConstraint(condition=Q(send_from__lt=models.F("send_until")), name="track_window_order"),
        ]
        permissions = [("send_test_email", "Can send a track's test email to themselves")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if not calendar.is_valid_timezone(self.time_zone):
            errors["time_zone"] = f"Unknown time zone {self.time_zone!r} (e.g. Europe/Berlin)."
        if self.holiday_country and not calendar.is_valid_holiday_country(self.holiday_country):
            errors["holiday_country"] = f"No public holidays known for {self.holiday_country!r}."
        if self.send_from and self.send_until and self.send_from >= self.send_until:
            errors["send_until"] = "The window must end after it starts."
        if any(not character.isprintable() for character in self.from_name):
            # A line break cannot go into a From header: every email of the track would fail to send.
            errors["from_name"] = "The sender name must be one line of text, without line breaks or tabs."
        if errors:
            raise ValidationError(errors)

    @property
    def is_live(self) -> bool:
        return self.status == TrackStatus.LIVE


class Step(models.Model):
    """One email of a track, sent a number of business days after the step before (or the enrollment)."""

    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1)], help_text="Order in the track (1 is first); leads past it never get it."
    )
    delay_days = models.PositiveSmallIntegerField(
        default=2,
        validators=[MaxValueValidator(365)],
        help_text="Business days after the previous step (or enrollment) in the lead's calendar.",
    )
    subject = models.CharField(max_length=200)
    body = models.TextField(
        help_text="Markdown. Merge fields: {{ first_name }}, {{ last_name }}, {{ company }}, {{ job_title }}, "
        "{{ asset_link }}."
    )
    asset_url = models.URLField(max_length=500, blank=True, help_text="The gated asset {{ asset_link }} points to.")
    is_active = models.BooleanField(default=True, help_text="Inactive steps are skipped.")

    class Meta:
        ordering = ["track", "position"]
        constraints = [models.UniqueConstraint(fields=["track", "position"], name="step_unique_position")]

    def __str__(self) -> str:
        return f"{self.track} · {self.position}. {self.subject}"

    def clean(self) -> None:
        errors = {}
        for name in ("subject", "body"):
            unknown = rendering.unknown_fields(getattr(self, name) or "")
            if unknown:
                errors[name] = f"Unknown merge field(s): {', '.join(unknown)}. Use {rendering.FIELD_LIST}."
        if "asset_link" in rendering.used_fields(self.body or "") and not self.asset_url:
            errors["asset_url"] = "The body uses {{ asset_link }}: give the asset's URL."
        if errors:
            raise ValidationError(errors)


class EnrollmentStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    EXITED = "exited", "Exited"


class ExitReason(models.TextChoices):
    MQL = "mql", "Became an MQL"
    SQL = "sql", "Became an SQL"
    DISQUALIFIED = "disqualified", "Disqualified"
    CONSENT = "consent", "Consent withdrawn or not usable"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    BOUNCE = "bounce", "Hard bounce"
    COMPLAINT = "complaint", "Spam complaint"
    ERASURE = "erasure", "Personal data erased"
    MARKETER = "marketer", "Ended by a marketer"
    MOVED = "moved", "Moved to another track"
    UNTIL = "until", "Recycle date reached"
    NO_EMAIL = "no_email", "No email address"


class Enrollment(models.Model):
    """A lead's way through a track; at most one active per lead."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="nurture_enrollments")
    track = models.ForeignKey(Track, on_delete=models.PROTECT, related_name="enrollments")
    source = models.CharField(max_length=20, choices=EnrollmentSource.choices)
    reason = models.CharField(max_length=500, blank=True)
    until = models.DateTimeField(null=True, blank=True, help_text="A rep's recycle: no more emails after this.")
    status = models.CharField(max_length=10, choices=EnrollmentStatus.choices, default=EnrollmentStatus.ACTIVE)
    started_at = models.DateTimeField()
    # The position of the last step sent (0: none yet); editing a live track never resends what lies behind.
    last_position = models.PositiveSmallIntegerField(default=0)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    next_due_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=64, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    exit_reason = models.CharField(max_length=20, choices=ExitReason.choices, blank=True)
    exit_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["lead"], condition=Q(status=EnrollmentStatus.ACTIVE), name="enrollment_one_active_per_lead"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_due_at"], name="enrollment_due_idx", condition=Q(status=EnrollmentStatus.ACTIVE)
            ),
            models.Index(fields=["track", "started_at"], name="enrollment_track_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.lead} in {self.track}"


class SendStatus(models.TextChoices):
    SENDING = "sending", "Handed to the mail server"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Send(models.Model):
    """One step emailed to one enrollment: written before the email leaves, so a retry never sends it again."""

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="sends")
    step = models.ForeignKey(Step, null=True, on_delete=models.SET_NULL, related_name="sends")
    # Kept when the step is deleted, for the report and the lead's history.
    track = models.ForeignKey(Track, on_delete=models.PROTECT, related_name="sends")
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="nurture_sends")
    position = models.PositiveSmallIntegerField()
    subject = models.CharField(max_length=300)
    to_email = models.EmailField(max_length=254, blank=True)
    domain = models.CharField(max_length=253, blank=True)
    message_id = models.CharField(max_length=255, blank=True, db_index=True)
    status = models.CharField(max_length=10, choices=SendStatus.choices, default=SendStatus.SENDING)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    first_clicked_at = models.DateTimeField(null=True, blank=True)
    click_count = models.PositiveIntegerField(default=0)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    complained_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["enrollment", "position"], name="send_once_per_enrollment_step"),
        ]
        indexes = [
            models.Index(fields=["domain", "created_at"], name="send_domain_idx"),
            models.Index(fields=["track", "created_at"], name="send_track_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} to lead #{self.lead_id}"


class ClickBotReason(models.TextChoices):
    HEAD = link_scanners.HEAD_REQUEST, "HEAD request (a link checker)"
    USER_AGENT = link_scanners.SCANNER_AGENT, "Scanner, crawler or no browser"
    TOO_SOON = "too_soon", "Seconds after the send"
    BURST = "burst", "Several links at once"


class Click(models.Model):
    """One request for a tracked link of a send, and whether a person made it.

    A mail scanner's request (``is_bot``, with the reason) is kept for the report and never scored. Any other
    click waits out the burst window and is then counted (``counted_at``): the send's click count and the
    lead's ``email_clicked`` activity, which scoring weighs.
    """

    send = models.ForeignKey(Send, on_delete=models.CASCADE, related_name="clicks")
    url = models.TextField()
    clicked_at = models.DateTimeField()
    user_agent = models.CharField(max_length=300, blank=True)
    is_bot = models.BooleanField(default=False)
    bot_reason = models.CharField(max_length=20, choices=ClickBotReason.choices, blank=True)
    counted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-clicked_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_bot=False, bot_reason="") | Q(is_bot=True, counted_at__isnull=True) & ~Q(bot_reason=""),
                name="click_bot_has_reason_and_is_not_counted",
            ),
        ]
        indexes = [
            models.Index(fields=["send", "clicked_at"], name="click_send_idx"),
            models.Index(
                fields=["clicked_at"],
                name="click_uncounted_idx",
                condition=Q(is_bot=False, counted_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{'Bot click' if self.is_bot else 'Click'} on {self.url}"
