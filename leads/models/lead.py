"""The lead: a known person at a known firm, its stage and where it stands in the pipeline."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower, Upper
from django.utils import timezone

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class Stage(models.TextChoices):
    NEW = "new", "New"
    NURTURE = "nurture", "Nurture"
    MQL = "mql", "Marketing-qualified (MQL)"
    SQL = "sql", "Sales-qualified (SQL)"
    REJECTED = "rejected", "Rejected by sales"
    DISQUALIFIED = "disqualified", "Disqualified"


class EnrichmentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ENRICHED = "enriched", "Enriched"
    PARTIAL = "partial", "Partly enriched"
    FAILED = "failed", "Failed"


# What the lead page, admin and the API show instead of "Pending" for an erased lead never enriched: erasure ends
# enrichment for good (``leads.enrichment.is_enrichment_due``), so it waits for nothing. Shown, never stored.
ERASED_NOT_ENRICHED = "erased"
SHOWN_ENRICHMENT_STATUSES = (*EnrichmentStatus.choices, (ERASED_NOT_ENRICHED, "Not enriched: erased"))


class PipelineStep(models.TextChoices):
    """Where a lead stands on its way from capture to a rep (``handoff.pipeline``), kept in the database."""

    WAITING = "waiting", "Waiting for the worker"
    ENRICHED = "enriched", "Enriched"
    SCORED = "scored", "Scored"
    ROUTED = "routed", "Routed"
    ASSIGNED = "assigned", "Assigned to a rep"
    PARKED = "parked", "Parked"


class LeadQuerySet(models.QuerySet["Lead"]):
    def owned_by(self, user: User) -> LeadQuerySet:
        return self.filter(owner=user)

    def unassigned(self) -> LeadQuerySet:
        return self.filter(owner__isnull=True)


class Lead(models.Model):
    """A known person at a known firm, with at least one direct channel (email or phone)."""

    # Stored normalised (see leads.normalise); NULL when the lead came with a phone number only,
    # so the unique constraint still allows many phone-only leads.
    email = models.EmailField(max_length=254, unique=True, null=True, blank=True)
    # Looked up only for a lead with no email (a phone-only person): ``lead_phone_only_idx`` below.
    phone = models.CharField(max_length=40, blank=True)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    company_name = models.CharField(max_length=200, blank=True)
    company_domain = models.CharField(max_length=253, blank=True)
    job_title = models.CharField(max_length=200, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2 code")
    custom_answers = models.JSONField(default=dict, blank=True)

    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.NEW)
    stage_changed_at = models.DateTimeField(default=timezone.now)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_leads",
        db_index=False,  # ``lead_owner_stage_created_idx`` starts with the owner
    )
    # A rep recycled the lead "until a date": scoring keeps it out of MQL before this instant (the start
    # of that day in the team's timezone), and handoff's sweep brings it back then and clears this.
    nurture_ends_at = models.DateTimeField(
        null=True, blank=True, help_text="Recycled by a rep: not an MQL again before this (the rep's date, team time)."
    )

    # Firmographics and role, typed by the person or added by enrichment providers; which provider set
    # which value (and how sure it was) is kept in `enrichment_sources`. Scoring and routing read them from the
    # lead in hand, no list filters on them: no index, which every capture would have to write.
    seniority = models.CharField(max_length=20, blank=True)
    job_function = models.CharField(max_length=20, blank=True)
    industry = models.CharField(max_length=100, blank=True)
    employee_count = models.PositiveIntegerField(null=True, blank=True)
    size_band = models.CharField(max_length=50, blank=True)
    website = models.URLField(max_length=300, blank=True)
    email_domain_kind = models.CharField(max_length=20, blank=True, help_text="company, free_mail or disposable")
    enrichment_status = models.CharField(
        max_length=10, choices=EnrichmentStatus.choices, default=EnrichmentStatus.PENDING
    )
    enriched_at = models.DateTimeField(null=True, blank=True)
    enrichment_sources = models.JSONField(default=dict, blank=True)
    # What a provider found that it was not allowed to set (a value someone typed differs): field ->
    # {"provider", "value", "confidence", "at", "kept", "kept_source"}; the lead keeps "kept".
    enrichment_conflicts = models.JSONField(default=dict, blank=True)

    # When routing last decided for the lead; where it sent the lead, by which rule and why is handoff's
    # ``RoutingDecision`` (handoff owns teams and routing rules).
    routed_at = models.DateTimeField(null=True, blank=True)

    # The pipeline's own bookkeeping (``handoff.pipeline``). A lead with ``pipeline_due_at`` in the past has
    # work due (a capture, a new activity, an enrichment retry); workers claim due leads in batches with a
    # lease, so a lost task or a dead worker loses nothing: the next claim takes the lead again.
    pipeline_step = models.CharField(max_length=10, choices=PipelineStep.choices, default=PipelineStep.WAITING)
    pipeline_step_at = models.DateTimeField(default=timezone.now)
    pipeline_reason = models.CharField(max_length=300, blank=True, help_text="Why the lead is parked where it is.")
    pipeline_due_at = models.DateTimeField(null=True, blank=True)
    pipeline_lease_until = models.DateTimeField(null=True, blank=True)
    pipeline_lease_owner = models.CharField(max_length=64, blank=True)
    # Failed or partial enrichment is tried again (bounded, with backoff) and the lead rescored then.
    enrichment_attempts = models.PositiveSmallIntegerField(default=0)
    enrichment_retry_at = models.DateTimeField(null=True, blank=True)

    # The first meaningful touch, fixed once and denormalised so reports group on the lead table alone.
    first_touch = models.ForeignKey("Touch", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    first_touch_at = models.DateTimeField(null=True, blank=True)
    first_touch_source = models.CharField(max_length=200, blank=True)
    first_touch_medium = models.CharField(max_length=100, blank=True)
    first_touch_campaign = models.CharField(max_length=200, blank=True)
    first_touch_channel = models.CharField(max_length=30, blank=True)
    last_touch_at = models.DateTimeField(null=True, blank=True)

    # Written by the scoring app; kept on the lead so lists can filter and sort by score cheaply.
    score = models.IntegerField(default=0, db_index=True)
    fit_score = models.IntegerField(default=0)
    engagement_score = models.IntegerField(default=0)
    score_breakdown = models.JSONField(default=list, blank=True)
    scored_at = models.DateTimeField(null=True, blank=True)

    # Who set each value and when, for the merge policy (``leads.merge``): field (or "custom_answers.<key>")
    # -> {"source": "person|person_verified|staff|import", "at": ISO time}. Providers' are in enrichment_sources.
    field_sources = models.JSONField(default=dict, blank=True)

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Set once, when the person's data was erased on their request (``integrations.privacy.erase_lead``).
    erased_at = models.DateTimeField(null=True, blank=True, help_text="Personal data erased on request (GDPR art. 17).")

    objects = LeadQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # An erased lead keeps neither: it stays only as the non-personal facts the reports count.
            models.CheckConstraint(
                condition=Q(email__isnull=False) | ~Q(phone="") | Q(erased_at__isnull=False),
                name="lead_has_direct_channel",
            ),
            models.CheckConstraint(condition=Q(email=Lower("email")), name="lead_email_is_lowercase"),
            models.CheckConstraint(condition=Q(stage__in=Stage.values), name="lead_stage_valid"),
        ]
        indexes = [
            # A stage's or a country's leads newest first: lists filtered by one walk it, and stop at the page's end
            # (a manager's leads are a filter on each row, core.roles); a value few leads have costs a few rows.
            # Declared here rather than as ``db_index``, which on PostgreSQL also builds a second, LIKE-only index
            # (``varchar_pattern_ops``) that no query uses and every capture writes; so is the enrichment status.
            models.Index(fields=["stage", "created_at", "id"], name="lead_stage_created_idx"),
            models.Index(fields=["country", "created_at", "id"], name="lead_country_created_idx"),
            models.Index(fields=["enrichment_status"], name="lead_enrichment_status_idx"),
            # The owner's leads of a stage (NULL: the unowned), newest first in the API's list (``created_at``, ``id``).
            models.Index(fields=["owner", "stage", "created_at", "id"], name="lead_owner_stage_created_idx"),
            # A rep's own leads newest first: the API's list for a rep's token walks it. Only owned leads.
            models.Index(
                fields=["owner", "created_at", "id"], name="lead_owner_created_idx", condition=Q(owner__isnull=False)
            ),
            # The rep's inbox sorted by score or company (``handoff.selectors.INBOX_SORTS``): a page walks
            # the rep's own leads in order. Only owned leads: capture never writes these.
            models.Index(
                fields=["owner", "score", "id"], name="lead_owner_score_idx", condition=Q(owner__isnull=False)
            ),
            models.Index(
                fields=["owner", "company_name", "id"],
                name="lead_owner_company_idx",
                condition=Q(owner__isnull=False),
            ),
            # The same two walks for the inbox filtered by a source or a campaign, which it compares case-blind
            # as UPPER(column) = UPPER(value): the rep's leads of that source or campaign, already in order.
            models.Index(
                F("owner"),
                Upper("first_touch_source"),
                F("score"),
                F("id"),
                name="lead_owner_src_score_idx",
                condition=Q(owner__isnull=False),
            ),
            models.Index(
                F("owner"),
                Upper("first_touch_source"),
                F("company_name"),
                F("id"),
                name="lead_owner_src_company_idx",
                condition=Q(owner__isnull=False),
            ),
            models.Index(
                F("owner"),
                Upper("first_touch_campaign"),
                F("score"),
                F("id"),
                name="lead_owner_cmp_score_idx",
                condition=Q(owner__isnull=False),
            ),
            models.Index(
                F("owner"),
                Upper("first_touch_campaign"),
                F("company_name"),
                F("id"),
                name="lead_owner_cmp_company_idx",
                condition=Q(owner__isnull=False),
            ),
            models.Index(fields=["first_touch_channel", "created_at"], name="lead_ft_channel_idx"),
            models.Index(fields=["first_touch_source", "created_at"], name="lead_ft_source_idx"),
            models.Index(fields=["first_touch_campaign", "created_at"], name="lead_ft_campaign_idx"),
            # Only the leads with pipeline work due: a claim reads the oldest few without scanning the table.
            models.Index(
                fields=["pipeline_due_at"], name="lead_pipeline_due_idx", condition=Q(pipeline_due_at__isnull=False)
            ),
            # A capture and an import find a phone-only person by phone; a lead with an email enters no entry.
            models.Index(fields=["phone"], name="lead_phone_only_idx", condition=Q(email__isnull=True)),
            # Only the few parked leads: the sweep finds the due ones without indexing a million NULLs.
            models.Index(
                fields=["nurture_ends_at"], name="lead_nurture_ends_idx", condition=Q(nurture_ends_at__isnull=False)
            ),
        ]
        permissions = [
            ("view_reports", "Can view the managers' reports"),
            ("erase_lead", "Can export and erase a lead's personal data"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email or self.phone or f"Lead #{self.pk}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def shown_enrichment_status(self) -> str:
        """``enrichment_status``, but ``ERASED_NOT_ENRICHED`` for an erased lead still pending: none will enrich it."""
        if self.erased_at is not None and self.enrichment_status == EnrichmentStatus.PENDING:
            return ERASED_NOT_ENRICHED
        return self.enrichment_status

    @property
    def enrichment_status_label(self) -> str:
        """``shown_enrichment_status`` as people read it ("Partly enriched", "Not enriched: erased")."""
        return dict(SHOWN_ENRICHMENT_STATUSES)[self.shown_enrichment_status]

    @property
    def has_usable_consent(self) -> bool:
        """Any consent confirmed and not withdrawn, as scoring's baseline counts it (``scoring.baseline``).

        A lead with no consent on record predates consent records and counts as usable there too. Reads
        ``consents`` once, so a page that prefetches them asks no query per lead.
        """
        consents = self.consents.all()
        return not consents or any(consent.is_active for consent in consents)
