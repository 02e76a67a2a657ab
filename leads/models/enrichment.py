"""Enrichment: size bands, industries, the company directory, providers and their runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

from leads.models.lead import Lead

if TYPE_CHECKING:
    pass


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
