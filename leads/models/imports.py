"""Imports: badge scans and lists staff bring in (``leads.imports``), and the suppression list."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from leads.models.consent import Consent, LegalBasis
from leads.models.history import Activity, Touch
from leads.models.lead import Lead

if TYPE_CHECKING:
    pass


# --- Imports (badge scans and lists staff bring in; ``leads.imports``) -----------------------------------


class ImportEvent(models.Model):
    """Where an imported list comes from (a trade show, a webinar): the touch source of its leads, the notice
    people were shown there, and the column mapping last used for its files."""

    name = models.CharField(max_length=200, unique=True, help_text="e.g. “SaaStr Europa 2026”.")
    source = models.SlugField(
        max_length=200, unique=True, help_text="The touch source the imported leads get, e.g. saastr-europa-2026."
    )
    held_on = models.DateField(null=True, blank=True)
    notice = models.TextField(
        blank=True,
        help_text="The consent text or privacy notice people saw when their badge was scanned (the booth sign, "
        "the organiser's terms); recorded word for word on each imported lead's consent.",
    )
    column_mapping = models.JSONField(default=dict, blank=True, help_text="File column → lead field, remembered.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-held_on", "name"]
        verbose_name = "import event"

    def __str__(self) -> str:
        return self.name


class ImportStatus(models.TextChoices):
    MAPPING = "mapping", "Columns to map"
    PREVIEWING = "previewing", "Previewing…"
    PREVIEWED = "previewed", "Previewed, not imported"
    QUEUED = "queued", "Waiting for the worker"
    RUNNING = "running", "Importing"
    DONE = "done", "Imported"
    FAILED = "failed", "Failed"
    UNDOING = "undoing", "Undoing…"
    UNDONE = "undone", "Undone"


IMPORT_LEGAL_BASES = [
    (LegalBasis.EVENT.value, "Event (badge scan)"),
    (LegalBasis.LEGITIMATE_INTEREST.value, "Legitimate interest (a notice shown at the event)"),
    (LegalBasis.OPT_IN.value, "Opt-in (people ticked a box at the event)"),
]


class LeadImport(models.Model):
    """One uploaded file: its mapping, what its preview found, and the progress and outcome of the import.

    The worker imports it in chunks (``leads.imports.run_import``); ``processed_rows`` is how far it got, so a
    task that runs again or is taken over goes on from there.
    """

    event = models.ForeignKey(ImportEvent, on_delete=models.PROTECT, related_name="imports")
    # Blank once the retention policy for import uploads has deleted the file (``leads.import_retention``).
    file = models.FileField(upload_to="imports/%Y/%m/", blank=True)
    file_name = models.CharField(max_length=255)
    columns = models.JSONField(default=list, blank=True, help_text="The file's header row.")
    mapping = models.JSONField(default=dict, blank=True, help_text="File column → lead field.")
    legal_basis = models.CharField(max_length=30, choices=IMPORT_LEGAL_BASES, default=LegalBasis.EVENT)
    consent_text = models.TextField(help_text="The exact text or notice the people were shown.")
    status = models.CharField(max_length=10, choices=ImportStatus.choices, default=ImportStatus.MAPPING)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField("new leads", default=0)
    merged_count = models.PositiveIntegerField("merged into existing leads", default=0)
    withdrawn_count = models.PositiveIntegerField("skipped: consent withdrawn", default=0)
    suppressed_count = models.PositiveIntegerField("skipped: suppressed or erased", default=0)
    duplicate_count = models.PositiveIntegerField("skipped: repeated in the file", default=0)
    error_count = models.PositiveIntegerField("rows with errors", default=0)
    row_errors = models.JSONField(default=list, blank=True, help_text="The first rows with errors: row, message.")
    # A preview in progress stores what it found at the end of each run (its time is bounded like the import's):
    # the counts and row messages above cover the file's first ``previewed_rows`` rows, and ``preview_seen`` is
    # who those rows were, so the next run knows a later row repeats one of them. Both are cleared when done.
    previewed_rows = models.PositiveIntegerField(default=0)
    preview_seen = models.JSONField(default=dict, blank=True)
    failure = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file_deleted_at = models.DateTimeField(
        null=True, blank=True, help_text="When the retention policy for import uploads deleted the file."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "lead import"
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ImportStatus.values), name="leadimport_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} · {self.event}"

    @property
    def progress_percent(self) -> int:
        return 100 if not self.total_rows else min(100, round(100 * self.processed_rows / self.total_rows))


class ImportedLead(models.Model):
    """A lead an import created or merged into, with what it needs to undo that: the lead's values before."""

    batch = models.ForeignKey(LeadImport, on_delete=models.CASCADE, related_name="imported_leads")
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="imports")
    is_new = models.BooleanField()
    row = models.PositiveIntegerField(help_text="The file's row (the header is row 1).")
    # Column -> value before the import, and after it, for the columns the import changed (custom answers and
    # field sources per key); undo restores a value only while it is still the one the import left.
    previous = models.JSONField(default=dict, blank=True)
    imported = models.JSONField(default=dict, blank=True)
    consent = models.ForeignKey(Consent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    touch = models.ForeignKey(Touch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    activity = models.ForeignKey(Activity, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["row"]
        constraints = [models.UniqueConstraint(fields=["batch", "lead"], name="importedlead_unique_lead")]

    def __str__(self) -> str:
        return f"Row {self.row} → lead #{self.lead_id}"


class SuppressedAddress(models.Model):
    """An email address or phone number no import may bring back: people who objected, every erased lead's.

    Only a SHA-256 hash of the normalised address (or number) is kept, so the list names nobody. Each row holds
    one of the two hashes (``leads.suppression``).
    """

    email_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    phone_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "suppressed address"
        verbose_name_plural = "suppressed addresses"
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(email_hash__isnull=False, phone_hash__isnull=True)
                    | models.Q(email_hash__isnull=True, phone_hash__isnull=False)
                ),
                name="suppressedaddress_one_hash",
            )
        ]

    def __str__(self) -> str:
        key = self.email_hash or self.phone_hash or ""
        return f"{key[:12]}… ({self.reason or 'suppressed'})"
