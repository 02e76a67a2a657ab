"""Capture: channel rules, the forms marketers build, their fields and consent texts, and their daily counters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from leads.models.consent import LegalBasis
from leads.origins import origin_of, parse_origin_lines

if TYPE_CHECKING:
    pass


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
    slug = models.SlugField(
        max_length=80, unique=True, help_text="Its address: /f/ and the slug, e.g. /f/state-of-b2b/."
    )
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
