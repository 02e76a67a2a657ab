from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import capfirst

from leads.merge import answer_key
from leads.origins import origin_of, parse_origin_lines

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
    phone = models.CharField(max_length=40, blank=True, db_index=True)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    company_name = models.CharField(max_length=200, blank=True)
    company_domain = models.CharField(max_length=253, blank=True, db_index=True)
    job_title = models.CharField(max_length=200, blank=True)
    country = models.CharField(max_length=2, blank=True, db_index=True, help_text="ISO 3166-1 alpha-2 code")
    custom_answers = models.JSONField(default=dict, blank=True)

    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.NEW, db_index=True)
    stage_changed_at = models.DateTimeField(default=timezone.now)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_leads",
    )
    # A rep recycled the lead "until a date": scoring keeps it out of MQL before this instant (the start
    # of that day in the team's timezone), and handoff's sweep brings it back then and clears this.
    nurture_ends_at = models.DateTimeField(
        null=True, blank=True, help_text="Recycled by a rep: not an MQL again before this (the rep's date, team time)."
    )

    # Firmographics and role, typed by the person or added by enrichment providers; which provider set
    # which value (and how sure it was) is kept in `enrichment_sources`.
    seniority = models.CharField(max_length=20, blank=True, db_index=True)
    job_function = models.CharField(max_length=20, blank=True)
    industry = models.CharField(max_length=100, blank=True, db_index=True)
    employee_count = models.PositiveIntegerField(null=True, blank=True)
    size_band = models.CharField(max_length=50, blank=True, db_index=True)
    website = models.URLField(max_length=300, blank=True)
    email_domain_kind = models.CharField(max_length=20, blank=True, help_text="company, free_mail or disposable")
    enrichment_status = models.CharField(
        max_length=10, choices=EnrichmentStatus.choices, default=EnrichmentStatus.PENDING, db_index=True
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
            models.Index(fields=["owner", "stage"], name="lead_owner_stage_idx"),
            models.Index(fields=["first_touch_channel", "created_at"], name="lead_ft_channel_idx"),
            models.Index(fields=["first_touch_source", "created_at"], name="lead_ft_source_idx"),
            models.Index(fields=["first_touch_campaign", "created_at"], name="lead_ft_campaign_idx"),
            # Only the leads with pipeline work due: a claim reads the oldest few without scanning the table.
            models.Index(
                fields=["pipeline_due_at"], name="lead_pipeline_due_idx", condition=Q(pipeline_due_at__isnull=False)
            ),
            # Only the few parked leads: the sweep finds the due ones without indexing a million NULLs.
            models.Index(
                fields=["nurture_ends_at"], name="lead_nurture_ends_idx", condition=Q(nurture_ends_at__isnull=False)
            ),
        ]
        permissions = [
            ("view_reports", "Can view the managers' reports"),
            ("work_inbox", "Can work a sales inbox"),
            ("manage_team", "Can see and reassign a sales team's leads"),
            ("erase_lead", "Can export and erase a lead's personal data"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email or self.phone or f"Lead #{self.pk}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def has_usable_consent(self) -> bool:
        """Any consent confirmed and not withdrawn, as scoring's baseline counts it (``scoring.baseline``).

        A lead with no consent on record predates consent records and counts as usable there too. Reads
        ``consents`` once, so a page that prefetches them asks no query per lead.
        """
        consents = self.consents.all()
        return not consents or any(consent.is_active for consent in consents)


class LegalBasis(models.TextChoices):
    OPT_IN = "opt_in", "Opt-in"
    LEGITIMATE_INTEREST = "legitimate_interest", "Legitimate interest"
    EVENT = "event", "Event (badge scan)"


class ConsentSource(models.TextChoices):
    FORM = "form", "Form"
    IMPORT = "import", "Import"
    API = "api", "API"


class ConsentStatus(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"
    PENDING = "pending", "Pending double opt-in"


class Consent(models.Model):
    """What the person agreed to, word for word, and when, where and on which basis."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="consents")
    legal_basis = models.CharField(max_length=30, choices=LegalBasis.choices)
    text = models.TextField(help_text="The exact text shown to the person.")
    text_version = models.CharField(max_length=50, blank=True)
    # The form's consent text version that was shown, when the consent came through a form.
    consent_text = models.ForeignKey(
        "ConsentText", null=True, blank=True, on_delete=models.PROTECT, related_name="consents"
    )
    source = models.CharField(max_length=10, choices=ConsentSource.choices)
    source_ref = models.CharField(max_length=200, blank=True, help_text="Form slug, import file or API client.")
    given_at = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    # A double opt-in consent stays pending until the person follows the link in the confirmation email.
    status = models.CharField(max_length=10, choices=ConsentStatus.choices, default=ConsentStatus.CONFIRMED)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # Where the double opt-in link was followed from, kept like ``ip_address`` (the proof of confirmation).
    confirmed_ip_address = models.GenericIPAddressField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-given_at", "-id"]
        indexes = [models.Index(fields=["lead", "given_at"], name="consent_lead_given_idx")]

    def __str__(self) -> str:
        return f"{self.get_legal_basis_display()} via {self.get_source_display()} at {self.given_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None and self.status == ConsentStatus.CONFIRMED


def usable_consent_q() -> Q:
    """``Lead.has_usable_consent`` as a condition on the lead table, for querysets and bulk rescoring."""
    consents = Consent.objects.filter(lead=models.OuterRef("pk"))
    usable = consents.filter(status=ConsentStatus.CONFIRMED, withdrawn_at__isnull=True)
    return ~models.Exists(consents) | models.Exists(usable)


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

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="activities")
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

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="touches")
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
        ]

    def __str__(self) -> str:
        return f"{self.from_stage} → {self.to_stage} at {self.changed_at:%Y-%m-%d %H:%M}"


# --- Enrichment -----------------------------------------------------------------------------------


class SizeBand(models.Model):
    """A company-size segment marketers define, e.g. "Start-up" 1-49 or "Enterprise" 1,000+."""

    name = models.CharField(max_length=50, unique=True)
    min_employees = models.PositiveIntegerField(default=0)
    max_employees = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: no upper bound.")

    class Meta:
        ordering = ["min_employees", "name"]

    def __str__(self) -> str:
        upper = f"{self.max_employees:,}" if self.max_employees is not None else "+"
        return f"{self.name} ({self.min_employees:,}-{upper})"


class Industry(models.Model):
    """An industry name from the admin-edited list; ``aliases`` map other spellings onto it."""

    name = models.CharField(max_length=100, unique=True)
    aliases = models.JSONField(default=list, blank=True, help_text='Other names for it, e.g. ["SaaS", "Software"].')

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "industries"

    def __str__(self) -> str:
        return self.name


class CompanyDirectoryEntry(models.Model):
    """The local enrichment database: what we know about a company, by its domain."""

    domain = models.CharField(max_length=253, unique=True)
    name = models.CharField(max_length=200, blank=True)
    employee_count = models.PositiveIntegerField(null=True, blank=True)
    industry = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["domain"]
        verbose_name = "company directory entry"
        verbose_name_plural = "company directory"

    def __str__(self) -> str:
        return f"{self.name or self.domain} ({self.domain})"


class EnrichmentProvider(models.Model):
    """One configured provider run in the enrichment pipeline, in ``order``."""

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=50, help_text="Which implementation runs (leads.enrichment.providers).")
    order = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    settings = models.JSONField(default=dict, blank=True)
    timeout_seconds = models.FloatField(default=5.0)
    may_overwrite = models.BooleanField(
        default=False, help_text="Replace values the person typed. Off: only blanks are filled."
    )

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


class ProviderRunStatus(models.TextChoices):
    OK = "ok", "Values found"
    EMPTY = "empty", "Nothing found"
    FAILED = "failed", "Failed"


class ProviderRun(models.Model):
    """One provider's run for one lead: what it set, how long it took, or why it failed."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="provider_runs")
    provider = models.ForeignKey(EnrichmentProvider, null=True, on_delete=models.SET_NULL, related_name="runs")
    provider_name = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=ProviderRunStatus.choices)
    latency_ms = models.PositiveIntegerField(default=0)
    fields_set = models.JSONField(default=list, blank=True)
    # Values the provider found but the lead kept its own (someone typed a different one): field -> why.
    fields_not_set = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField()

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["lead", "started_at"], name="providerrun_lead_idx")]

    def __str__(self) -> str:
        return f"{self.provider_name}: {self.get_status_display()}"


# --- Attribution ----------------------------------------------------------------------------------


class ChannelRule(models.Model):
    """An ordered rule giving a touch its channel; the first matching active rule wins."""

    order = models.PositiveIntegerField(default=0)
    channel = models.CharField(max_length=30)
    is_active = models.BooleanField(default=True)
    mediums = models.JSONField(default=list, blank=True, help_text='utm_medium values, e.g. ["cpc", "ppc"].')
    sources = models.JSONField(default=list, blank=True, help_text="utm_source values.")
    referrer_domains = models.JSONField(default=list, blank=True, help_text='Referrer hosts; "google.*" allowed.')
    needs_click_id = models.BooleanField(default=False, help_text="Only touches with a click id (gclid).")
    needs_no_utm = models.BooleanField(default=False, help_text="Only touches without UTM parameters.")
    needs_referrer = models.BooleanField(default=False)
    is_meaningful = models.BooleanField(
        default=True, help_text="Touches on this rule can be a lead's first touch (off for bare direct visits)."
    )

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"#{self.order} → {self.channel}"


# --- Forms ------------------------------------------------------------------------------------------

# Names the public form itself posts (render token, consent box, honeypot, attribution); no field may take them.
RESERVED_FIELD_NAMES = frozenset(
    {
        "token",
        "consent",
        "company_website",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
        "gclid",
        "referrer",
        "landing_page",
    }
)
# Form slugs that would clash with the public URLs under /f/.
RESERVED_FORM_SLUGS = frozenset({"confirm", "withdraw"})
FORM_LEGAL_BASES = [
    (LegalBasis.OPT_IN.value, "Opt-in (a consent box)"),
    (LegalBasis.LEGITIMATE_INTEREST.value, "Legitimate interest (a notice)"),
]


class CaptureForm(models.Model):
    """A gated-content form marketers build in admin and publish at /f/<slug>/ or embed on their own sites."""

    name = models.CharField(max_length=200, help_text="Internal name, e.g. “State of B2B 2026 white paper”.")
    slug = models.SlugField(max_length=80, unique=True, help_text="Its address: /f/<slug>/.")
    headline = models.CharField(max_length=200)
    intro = models.TextField(blank=True, help_text="Shown above the fields.")
    submit_label = models.CharField(max_length=60, default="Submit")
    asset_file = models.FileField(
        upload_to="form-assets/%Y/%m/", blank=True, help_text="The gated file visitors get after submitting."
    )
    asset_url = models.URLField(max_length=2000, blank=True, help_text="Or the address of gated content elsewhere.")
    thank_you_text = models.TextField(default="Thank you! Your download is ready.")
    redirect_url = models.URLField(
        max_length=2000,
        blank=True,
        help_text="Send visitors here after submitting instead of showing the thank-you text. "
        "Must be on this site or on one of the allowed origins.",
    )
    legal_basis = models.CharField(max_length=30, choices=FORM_LEGAL_BASES, default=LegalBasis.OPT_IN)
    is_double_opt_in = models.BooleanField(
        "double opt-in",
        default=False,
        help_text="Email a confirmation link; the consent stays pending until it is followed, "
        "and the gated asset is sent in that email.",
    )
    allowed_origins = models.TextField(
        blank=True,
        help_text="Sites that may embed this form (and be redirected to), one origin per line, "
        "e.g. https://www.example.com",
    )
    progressive_questions = models.PositiveSmallIntegerField(
        "new questions per visit",
        default=2,
        help_text="How many unanswered progressive fields a returning visitor is asked at most.",
    )
    is_active = models.BooleanField(default=True, help_text="Inactive forms are not shown to visitors.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = "form"

    def __str__(self) -> str:
        return self.name

    @property
    def allowed_origin_list(self) -> list[str]:
        return parse_origin_lines(self.allowed_origins)[0]

    @property
    def has_asset(self) -> bool:
        return bool(self.asset_file or self.asset_url)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.slug in RESERVED_FORM_SLUGS:
            errors["slug"] = f"“{self.slug}” is used by the site itself; choose another address."
        if self.asset_file and self.asset_url:
            errors["asset_url"] = "Give either a file or an external address, not both."
        origins, invalid = parse_origin_lines(self.allowed_origins)
        if invalid:
            errors["allowed_origins"] = (
                f"Not an origin (scheme and host only, e.g. https://www.example.com): {', '.join(invalid)}"
            )
        own_origin = origin_of(settings.SITE_URL)
        if self.redirect_url and origin_of(self.redirect_url) not in [*origins, own_origin]:
            errors["redirect_url"] = "The address must be on this site or on one of the allowed origins."
        if errors:
            raise ValidationError(errors)


class FieldKind(models.TextChoices):
    TEXT = "text", "Text"
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"
    NUMBER = "number", "Number"
    TEXTAREA = "textarea", "Long text"
    SELECT = "select", "Select"
    MULTI_SELECT = "multi_select", "Multi-select"
    CHECKBOX = "checkbox", "Checkbox"
    COUNTRY = "country", "Country"
    HIDDEN = "hidden", "Hidden"


class LeadAttribute(models.TextChoices):
    """The lead attributes a form field may set (the rest of a form's answers are custom answers)."""

    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"
    FIRST_NAME = "first_name", "First name"
    LAST_NAME = "last_name", "Last name"
    COMPANY_NAME = "company_name", "Company"
    JOB_TITLE = "job_title", "Job title"
    COUNTRY = "country", "Country"
    INDUSTRY = "industry", "Industry"
    SIZE_BAND = "size_band", "Company size (size band)"


# Which field kinds can fill each lead attribute; the others take text, select and hidden fields.
ATTRIBUTE_KINDS: dict[str, frozenset[str]] = {
    LeadAttribute.EMAIL: frozenset({FieldKind.EMAIL}),
    LeadAttribute.PHONE: frozenset({FieldKind.PHONE}),
    LeadAttribute.COUNTRY: frozenset({FieldKind.COUNTRY}),
    # The admin-edited size bands are the choices: a band name is all the lead's size_band may hold.
    LeadAttribute.SIZE_BAND: frozenset({FieldKind.SELECT, FieldKind.HIDDEN}),
}
TEXT_ATTRIBUTE_KINDS = frozenset({FieldKind.TEXT, FieldKind.SELECT, FieldKind.HIDDEN})
# Attributes whose select takes its choices from an admin-edited list when the field gives none.
LISTED_ATTRIBUTES = frozenset({LeadAttribute.INDUSTRY, LeadAttribute.SIZE_BAND})


class FormField(models.Model):
    """One question of a form, in ``order``; its answer sets a lead attribute or a custom answer."""

    form = models.ForeignKey(CaptureForm, on_delete=models.CASCADE, related_name="fields")
    order = models.PositiveIntegerField(default=0)
    label = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=FieldKind.choices, default=FieldKind.TEXT)
    lead_attribute = models.CharField(
        max_length=20,
        choices=LeadAttribute.choices,
        blank=True,
        help_text="The lead attribute the answer sets; leave empty to keep it as a custom answer.",
    )
    answer_key = models.SlugField(
        max_length=50, blank=True, help_text="The custom answer's key, e.g. team_size (when no attribute is chosen)."
    )
    is_required = models.BooleanField(default=False)
    is_progressive = models.BooleanField(
        "progressive",
        default=False,
        help_text="Asked only of returning visitors, a few per visit, until answered.",
    )
    choices = models.TextField(
        blank=True,
        help_text="For select and multi-select: one choice per line. Industry and company size take "
        "the admin-edited industries and size bands when left empty.",
    )
    help_text = models.CharField(max_length=300, blank=True)
    default_value = models.CharField(
        max_length=200, blank=True, help_text="Hidden fields: the value sent when the page URL has no ?key= value."
    )

    class Meta:
        ordering = ["order", "id"]
        verbose_name = "field"
        constraints = [
            models.CheckConstraint(
                condition=(Q(lead_attribute="") & ~Q(answer_key="")) | (~Q(lead_attribute="") & Q(answer_key="")),
                name="formfield_maps_to_one_target",
                violation_error_message="Choose a lead attribute or give a custom answer key (not both).",
            ),
            models.UniqueConstraint(
                fields=["form", "lead_attribute"],
                condition=~Q(lead_attribute=""),
                name="formfield_unique_attribute",
                violation_error_message="This form already has a field for that lead attribute.",
            ),
            models.UniqueConstraint(
                fields=["form", "answer_key"],
                condition=~Q(answer_key=""),
                name="formfield_unique_answer_key",
                violation_error_message="This form already has a field with that answer key.",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def key(self) -> str:
        """The name the answer travels under: in the HTML form, the submission payload and custom answers."""
        return self.lead_attribute or self.answer_key

    @property
    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]

    @property
    def is_identity(self) -> bool:
        """Email and phone say who the person is, so they are asked on every visit."""
        return self.lead_attribute in (LeadAttribute.EMAIL, LeadAttribute.PHONE)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if bool(self.lead_attribute) == bool(self.answer_key):
            errors["answer_key"] = "Choose a lead attribute or give a custom answer key (not both)."
        elif self.answer_key in RESERVED_FIELD_NAMES or self.answer_key in LeadAttribute.values:
            errors["answer_key"] = f"“{self.answer_key}” is taken by the form itself; choose another key."
        if self.lead_attribute and self.kind not in ATTRIBUTE_KINDS.get(self.lead_attribute, TEXT_ATTRIBUTE_KINDS):
            allowed = ATTRIBUTE_KINDS.get(self.lead_attribute, TEXT_ATTRIBUTE_KINDS)
            labels = ", ".join(FieldKind(kind).label for kind in sorted(allowed))
            errors["kind"] = f"{LeadAttribute(self.lead_attribute).label} takes a field of kind: {labels}."
        listed = self.lead_attribute in LISTED_ATTRIBUTES
        if self.lead_attribute == LeadAttribute.SIZE_BAND and self.choices.strip():
            errors["choices"] = "Company size offers the size bands (Leads > Size bands); leave the choices empty."
        if self.kind in (FieldKind.SELECT, FieldKind.MULTI_SELECT) and not self.choice_list and not listed:
            errors["choices"] = "Give the choices, one per line."
        if self.kind == FieldKind.HIDDEN and self.is_required:
            errors["is_required"] = "A hidden field cannot be required: the visitor could not fill it in."
        if self.is_identity and self.is_progressive:
            errors["is_progressive"] = "Email and phone are asked on every visit; they cannot be progressive."
        if errors:
            raise ValidationError(errors)


class ConsentText(models.Model):
    """One version of a form's consent text. Versions are never edited: a changed text is a new version."""

    form = models.ForeignKey(CaptureForm, on_delete=models.CASCADE, related_name="consent_texts")
    version = models.PositiveIntegerField()
    text = models.TextField()
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["form", "-version"]
        verbose_name = "consent text version"
        constraints = [models.UniqueConstraint(fields=["form", "version"], name="consenttext_unique_version")]

    def __str__(self) -> str:
        return f"{self.form} · {self.label}"

    @property
    def label(self) -> str:
        return f"v{self.version}"


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

    form = models.ForeignKey(CaptureForm, on_delete=models.PROTECT, related_name="submissions")
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
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["form", "submitted_at"], name="submission_form_idx"),
            models.Index(fields=["status", "submitted_at"], name="submission_status_idx"),
            # The public form's per-address rate limit counts recent submissions here (``leads.spam``).
            models.Index(fields=["ip_address", "submitted_at"], name="submission_ip_idx"),
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
    PREVIEWED = "previewed", "Previewed, not imported"
    QUEUED = "queued", "Waiting for the worker"
    RUNNING = "running", "Importing"
    DONE = "done", "Imported"
    FAILED = "failed", "Failed"
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
    file = models.FileField(upload_to="imports/%Y/%m/")
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
    """An email address no import may bring back: people who objected, and every erased lead's address.

    Only a SHA-256 hash of the normalised address is kept, so the list names nobody.
    """

    email_hash = models.CharField(max_length=64, unique=True)
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "suppressed address"
        verbose_name_plural = "suppressed addresses"

    def __str__(self) -> str:
        return f"{self.email_hash[:12]}… ({self.reason or 'suppressed'})"


# --- Form analytics (``leads.analytics``) --------------------------------------------------------------


class FormDailyStat(models.Model):
    """A form's counters for one UTC day: views by people, views filtered as bots, and starts.

    Written by one upsert per event (``leads.analytics.count``); no cookie and nothing about the visitor.
    """

    form = models.ForeignKey(CaptureForm, on_delete=models.CASCADE, related_name="daily_stats")
    day = models.DateField()
    views = models.PositiveIntegerField(default=0)
    bot_views = models.PositiveIntegerField(default=0)
    starts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["form", "day"], name="formdailystat_unique_day")]

    def __str__(self) -> str:
        return f"{self.form_id} {self.day}: {self.views} views"
