"""What happened to a lead: activities, touches (attribution) and stage changes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils import timezone

from leads.models.lead import Lead, Stage

if TYPE_CHECKING:
    pass


class ActivityKind(models.TextChoices):
    FORM_SUBMITTED = "form_submitted", "Form submitted"
    ASSET_DOWNLOADED = "asset_downloaded", "Asset downloaded"
    WEBINAR_REGISTERED = "webinar_registered", "Webinar registered"
    WEBINAR_ATTENDED = "webinar_attended", "Webinar attended"
    EMAIL_OPENED = "email_opened", "Email opened"
    EMAIL_CLICKED = "email_clicked", "Email clicked"
    PAGE_VIEW = "page_view", "Page view"
    PRICING_PAGE_VIEW = "pricing_page_view", "Pricing page view"
    EVENT_BADGE_SCAN = "event_badge_scan", "Event badge scan"
    MEETING_BOOKED = "meeting_booked", "Meeting booked"
    IMPORTED = "imported", "Imported"
    # Not something the lead did for engagement: the record of a withdrawal (leads.services.withdraw_consents).
    CONSENT_WITHDRAWN = "consent_withdrawn", "Consent withdrawn"
    # The record of an erasure (integrations.privacy.erase_lead): who and why, nothing about the person.
    DATA_ERASED = "data_erased", "Personal data erased"


class Activity(models.Model):
    """Something the lead did: the engagement side of scoring reads these."""

    # No index of its own: the (lead, …) index below starts with it.
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="activities", db_index=False)
    kind = models.CharField(max_length=40, choices=ActivityKind.choices)
    occurred_at = models.DateTimeField()
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "activities"
        indexes = [
            models.Index(fields=["lead", "occurred_at"], name="activity_lead_occurred_idx"),
            models.Index(fields=["kind", "occurred_at"], name="activity_kind_occurred_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.occurred_at:%Y-%m-%d %H:%M}"


class Touch(models.Model):
    """One marketing touch (a visit with its attribution data) that brought the lead to us."""

    # No index of its own: the (lead, …) index below starts with it.
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="touches", db_index=False)
    occurred_at = models.DateTimeField()
    source = models.CharField(max_length=200, blank=True)
    medium = models.CharField(max_length=100, blank=True)
    campaign = models.CharField(max_length=200, blank=True)
    content = models.CharField(max_length=200, blank=True)
    term = models.CharField(max_length=200, blank=True)
    click_id = models.CharField(max_length=255, blank=True)
    referrer = models.URLField(max_length=2000, blank=True)
    landing_page = models.URLField(max_length=2000, blank=True)
    channel = models.CharField(max_length=30, blank=True)
    is_meaningful = models.BooleanField(default=True, help_text="Can be the lead's first touch.")

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["lead", "occurred_at"], name="touch_lead_occurred_idx")]

    def __str__(self) -> str:
        return f"{self.source or 'direct'} / {self.medium or '-'} at {self.occurred_at:%Y-%m-%d %H:%M}"


class StageChange(models.Model):
    """One stage transition of a lead; written only by ``leads.services.change_stage``."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=20, choices=Stage.choices)
    to_stage = models.CharField(max_length=20, choices=Stage.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField()
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [
            models.Index(fields=["lead", "changed_at"], name="stagechange_lead_idx"),
            models.Index(fields=["to_stage", "changed_at"], name="stagechange_to_idx"),
            # The admin's list, newest first: without it a million changes are sorted on every page.
            models.Index(fields=["changed_at", "id"], name="stagechange_changed_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.from_stage} → {self.to_stage} at {self.changed_at:%Y-%m-%d %H:%M}"
