"""API credentials, webhook endpoints and their delivery log, and stored responses for Idempotency-Key.

Workflows live in ``integrations.services``; these models hold fields, constraints and small properties only.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core import roles
from leads import events

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


class ApiKeyScope(models.TextChoices):
    CAPTURE = "capture", "Capture (send submissions and activities only)"
    READ = "read", "Read (GET only)"
    FULL = "full", "Full"


# What each scope allows; a view names the one it needs in ``required_scope``.
SCOPE_GRANTS: dict[str, frozenset[str]] = {
    ApiKeyScope.CAPTURE: frozenset({ApiKeyScope.CAPTURE}),
    ApiKeyScope.READ: frozenset({ApiKeyScope.READ}),
    ApiKeyScope.FULL: frozenset({ApiKeyScope.CAPTURE, ApiKeyScope.READ, ApiKeyScope.FULL}),
}

# What a person must be allowed to do to issue an integration key of each scope: the key acts for no person,
# so it may never hold more than its maker. Capture sends forms' submissions and activities (marketing's
# forms); read and full see every lead, so only someone who sees every lead issues them (``ApiKey.scopes_issuable_by``).
_CAPTURE_NEEDS = frozenset({"leads.change_captureform", "leads.add_activity"})
_READ_NEEDS = frozenset({"leads.view_lead", "leads.view_reports"})
SCOPE_NEEDS: dict[str, frozenset[str]] = {
    ApiKeyScope.CAPTURE: _CAPTURE_NEEDS,
    ApiKeyScope.READ: _READ_NEEDS,
    ApiKeyScope.FULL: _CAPTURE_NEEDS | _READ_NEEDS | {"leads.change_lead"},
}


class ApiKey(models.Model):
    """A credential for the API: a person's own token (``user`` set) or an integration's key (no user).

    Only a SHA-256 hash of the key is stored; the key itself is shown once, when it is created. A
    personal token acts with its person's permissions; an integration key with those of its scope.
    """

    name = models.CharField(max_length=100, help_text="What uses it, e.g. “Webinar platform sync”.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_keys",
        help_text="Set for a person's own token; empty for an integration key.",
    )
    scope = models.CharField(max_length=10, choices=ApiKeyScope.choices, default=ApiKeyScope.FULL)
    # The public part of the key (before the dot): how a presented key is found, and how people tell keys apart.
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    hashed_key = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API key"
        constraints = [models.CheckConstraint(condition=Q(scope__in=ApiKeyScope.values), name="apikey_scope_valid")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_integration(self) -> bool:
        return self.user_id is None

    def allows(self, scope: str) -> bool:
        return scope in SCOPE_GRANTS[self.scope]

    @staticmethod
    def scopes_issuable_by(user: User | AnonymousUser) -> list[str]:
        """The scopes of integration key ``user`` may issue or give: none beyond what they may do themself."""
        if roles.is_team_scoped(user):  # a manager sees their teams' leads; a key would see every lead
            return []
        return [scope for scope in ApiKeyScope.values if user.has_perms(SCOPE_NEEDS[scope])]

    def is_editable_by(self, user: User | AnonymousUser) -> bool:
        """A personal token only by its person; an integration key by someone who may issue its scope."""
        if self.user_id is not None:
            return self.user_id == user.pk
        return self.scope in ApiKey.scopes_issuable_by(user)

    def is_usable_at(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class WebhookEndpoint(models.Model):
    """A URL that wants to hear about some lead events, and the secret its deliveries are signed with."""

    name = models.CharField(max_length=100, help_text="Who receives it, e.g. “CRM sync”.")
    url = models.URLField(max_length=2000, help_text="Receives a signed JSON POST for each event.")
    events = models.JSONField(default=list, help_text="The lead events it subscribes to.")
    # Shown once when created or rotated; stored as is because every delivery is signed with it.
    secret = models.CharField(max_length=100, editable=False)
    is_active = models.BooleanField(
        default=True, help_text="Switched off: nothing is sent and pending deliveries fail."
    )
    created_at = models.DateTimeField(editable=False)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = "webhook endpoint"

    def __str__(self) -> str:
        return self.name

    def wants(self, event: str) -> bool:
        return self.is_active and event in self.events

    def clean(self) -> None:
        if not isinstance(self.events, list) or not all(isinstance(event, str) for event in self.events):
            raise ValidationError({"events": "A list of event names."})
        unknown = sorted(set(self.events) - set(events.EVENTS))
        if unknown:
            raise ValidationError({"events": f"Unknown events: {', '.join(unknown)}."})


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One event for one endpoint: the payload, and how sending it went (the delivery log).

    An event is recorded once per endpoint (the unique event id), so a repeated event is never sent twice.
    """

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40, help_text="A name from leads.events.EVENTS, e.g. lead.mql.")
    event_id = models.CharField(max_length=100)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # When the next attempt is due while pending; while an attempt is queued or in flight, when the
    # sweep may hand it out again (a lost task or a dead worker).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, help_text="The start of the last response.")
    error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "webhook delivery"
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhookdelivery_unique_event"),
            models.CheckConstraint(condition=Q(status__in=DeliveryStatus.values), name="webhookdelivery_status_valid"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhookdelivery_due_idx")]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint}"


class IdempotencyRecord(models.Model):
    """The first successful response to a POST sent with an ``Idempotency-Key``, replayed on a retry."""

    # Whose key it is: "key:<ApiKey id>" or "user:<User id>"; the same key from someone else is another request.
    credential = models.CharField(max_length=40)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status_code = models.PositiveSmallIntegerField(null=True)
    body = models.TextField(blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["credential", "key"], name="idempotencyrecord_unique_key")]

    def __str__(self) -> str:
        return f"{self.credential} · {self.key}"


# --- Retention (integrations.retention) -----------------------------------------------------------


class RetentionKind(models.TextChoices):
    INACTIVE_NEW_LEADS = "inactive_new_leads", "Leads never past “new” and inactive (erased)"
    SPAM_SUBMISSIONS = "spam_submissions", "Submissions held as spam (deleted)"
    DELIVERED_WEBHOOK_PAYLOADS = "delivered_webhook_payloads", "Payloads of delivered webhooks (stubbed)"
    IMPORT_UPLOADS = "import_uploads", "Uploaded files of ended imports (deleted)"


class RetentionPolicy(models.Model):
    """How long one kind of record is kept; a scheduled task removes what is older, in bounded batches.

    A policy is switched on only after a dry run of its current rule (kind and age): the count of what the
    first run would remove is shown before anything is removed.
    """

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=40, choices=RetentionKind.choices)
    age_days = models.PositiveIntegerField(
        help_text="Kept for this many days: leads since their last activity or touch, spam since it was sent, "
        "webhook payloads since they were delivered, import uploads since the import ended (imported, failed "
        "or undone).",
        validators=[MinValueValidator(1)],
    )
    is_active = models.BooleanField(default=False, help_text="Only after a dry run of this rule.")
    batch_size = models.PositiveIntegerField(
        default=200, validators=[MinValueValidator(1), MaxValueValidator(5_000)], help_text="Records per batch."
    )
    batches_per_run = models.PositiveIntegerField(
        default=5, validators=[MinValueValidator(1), MaxValueValidator(100)], help_text="Batches per hourly run."
    )
    dry_run_at = models.DateTimeField(null=True, blank=True, editable=False)
    dry_run_count = models.PositiveIntegerField(null=True, blank=True, editable=False)
    last_run_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "retention policies"
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=RetentionKind.values), name="retentionpolicy_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.name


class RetentionRun(models.Model):
    """What one run of a policy removed: how many records, and which (ids only, no personal data)."""

    policy = models.ForeignKey(RetentionPolicy, on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(max_length=40, choices=RetentionKind.choices)
    cutoff_at = models.DateTimeField(help_text="Records older than this were due.")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    removed = models.PositiveIntegerField(default=0)
    removed_ids = models.JSONField(
        default=list, blank=True, help_text="Ids of the leads, submissions, deliveries or imports."
    )
    remaining = models.PositiveIntegerField(default=0, help_text="Still due after this run (the next runs take them).")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.policy} at {self.started_at:%Y-%m-%d %H:%M}: {self.removed} removed"
