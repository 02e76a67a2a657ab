"""Submissions to forms and the API, and the changes they propose to what staff set."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.text import capfirst

from leads.merge import answer_key
from leads.models.consent import Consent
from leads.models.forms import CaptureForm, ConsentText
from leads.models.lead import Lead

if TYPE_CHECKING:
    pass


class SubmissionStatus(models.TextChoices):
    CAPTURED = "captured", "Captured"
    SPAM = "spam", "Suspected spam"


class SpamReason(models.TextChoices):
    HONEYPOT = "honeypot", "Honeypot filled in"
    TOO_FAST = "too_fast", "Sent faster than a person can type"
    RATE_LIMITED = "rate_limited", "Too many submissions from one address"


class Submission(models.Model):
    """A form POST that passed validation, stored as sent before anything else happens to it.

    Suspected spam is kept here too, without a lead, until someone releases it.
    """

    # No index of its own: ``submission_form_idx`` starts with it.
    form = models.ForeignKey(CaptureForm, on_delete=models.PROTECT, related_name="submissions", db_index=False)
    consent_text = models.ForeignKey(ConsentText, on_delete=models.PROTECT, related_name="submissions")
    idempotency_key = models.CharField(
        max_length=64,
        unique=True,
        help_text="The rendered form's nonce: a resubmit of the same render is one submission.",
    )
    payload = models.JSONField(default=dict, blank=True, help_text="The answers, by field key.")
    attribution = models.JSONField(default=dict, blank=True, help_text="UTM values, click id, referrer, landing page.")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    rendered_at = models.DateTimeField()
    submitted_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=SubmissionStatus.choices, default=SubmissionStatus.CAPTURED)
    spam_reason = models.CharField(max_length=20, choices=SpamReason.choices, blank=True)
    spam_detail = models.CharField(max_length=200, blank=True)
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="submissions")
    consent = models.OneToOneField(Consent, null=True, blank=True, on_delete=models.SET_NULL, related_name="submission")
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [
            # The admin list, newest first: a page walks it instead of sorting every submission (0.2 s at a million).
            models.Index(fields=["submitted_at", "id"], name="submission_submitted_idx"),
            models.Index(fields=["form", "submitted_at"], name="submission_form_idx"),
            models.Index(fields=["status", "submitted_at"], name="submission_status_idx"),
            # The public form's per-address rate limit counts recent submissions here (``leads.spam``).
            models.Index(fields=["ip_address", "submitted_at"], name="submission_ip_idx"),
            # The admin's filter by spam reason (``leads.admin.SetChoiceFilter``): only the few held as spam.
            models.Index(
                fields=["spam_reason", "submitted_at", "id"],
                name="submission_spam_reason_idx",
                condition=~Q(spam_reason=""),
            ),
            # Only the few released ones: a capture writes no entry here.
            models.Index(
                fields=["released_by"], name="submission_released_by_idx", condition=Q(released_by__isnull=False)
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=SubmissionStatus.values), name="submission_status_valid"),
            models.CheckConstraint(
                condition=~Q(status=SubmissionStatus.SPAM) | Q(lead__isnull=True), name="submission_spam_has_no_lead"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.form} at {self.submitted_at:%Y-%m-%d %H:%M}"

    @property
    def is_spam(self) -> bool:
        return self.status == SubmissionStatus.SPAM


class ProposedChangeStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    DISMISSED = "dismissed", "Dismissed"


class ProposedChange(models.Model):
    """A value a submission gave that the merge policy did not let replace the lead's (``leads.merge``).

    The lead's owner or a marketer accepts it (the value becomes staff's) or dismisses it; a confirmed
    double opt-in accepts the ones its person may replace. ``decided_by`` is empty when the person did.
    """

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="proposed_changes")
    field = models.CharField(max_length=150, help_text='A lead field, or "custom_answers.<key>".')
    value = models.JSONField(help_text="The value as submitted.")
    submission = models.ForeignKey(
        Submission, null=True, blank=True, on_delete=models.CASCADE, related_name="proposed_changes"
    )
    created_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=ProposedChangeStatus.choices, default=ProposedChangeStatus.OPEN)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["lead", "status"], name="proposedchange_lead_status_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ProposedChangeStatus.values), name="proposedchange_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.field} → {self.value!r} ({self.get_status_display()})"

    @property
    def label(self) -> str:
        """The field's name as people read it: "Job title", or "Answer “team_size”" for a custom answer."""
        key = answer_key(self.field)
        if key is not None:
            return f"Answer “{key}”"
        column = Lead._meta.get_field(self.field)
        assert isinstance(column, models.Field), "a proposed change names a column of Lead or an answer"
        return str(capfirst(column.verbose_name))

    @property
    def value_display(self) -> str:
        return _display(self.value)

    @property
    def current_display(self) -> str:
        """The lead's value now, beside the proposed one (reads ``lead``: select or prefetch it)."""
        key = answer_key(self.field)
        current = self.lead.custom_answers.get(key) if key is not None else getattr(self.lead, self.field)
        return _display(current)


def _display(value: object) -> str:
    if value is None or value == "" or value == []:
        return "—"
    return ", ".join(str(item) for item in value) if isinstance(value, list) else str(value)
