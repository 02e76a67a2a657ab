"""Consent: what a person agreed to, on which basis, and whether it can still be used."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q

from leads.models.lead import Lead

if TYPE_CHECKING:
    pass


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

    # No index of its own: the (lead, …) index below starts with it.
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="consents", db_index=False)
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
