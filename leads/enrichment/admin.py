"""Admin for enrichment: providers and their runs, company directory, size bands, industries (routing is handoff's)."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from leads.admin_csv import CsvImportMixin, ImportOutcome
from leads.enrichment import services as enrichment_services
from leads.enrichment.directory import import_directory_csv
from leads.enrichment.providers import PROVIDER_KINDS, kind_choices
from leads.models import (
    CompanyDirectoryEntry,
    EnrichmentProvider,
    Industry,
    ProviderRun,
    SizeBand,
)

# Importing the services module registers every provider kind before the choices are built.
assert enrichment_services


class CommaSeparatedField(forms.CharField):
    """A list edited as "a, b, c" text and stored as a JSON list."""

    def prepare_value(self, value: object) -> object:
        if isinstance(value, str) and value.startswith("["):
            try:
                value = json.loads(value)
            except ValueError:
                return value
        return ", ".join(str(v) for v in value) if isinstance(value, list | tuple) else value

    # A list field edited as text returns a list, as Django's own SimpleArrayField does (and types the same way).
    def to_python(self, value: object) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""  # CharField gives its empty_value "" for an empty input, never None
        return [part.strip() for part in text.split(",") if part.strip()]


class EnrichmentProviderForm(forms.ModelForm):
    kind = forms.ChoiceField(choices=())

    class Meta:
        model = EnrichmentProvider
        fields = ("name", "kind", "order", "is_active", "timeout_seconds", "may_overwrite", "settings")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # Built per form, not at import, so a kind registered by a plugin shows up without a restart order.
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)  # declared above
        kind.choices = kind_choices()
        kind.help_text = " · ".join(f"{k.label}: {k.help_text}" for k in PROVIDER_KINDS.values())

    def clean(self) -> dict[str, object]:
        super().clean()
        data = self.cleaned_data  # what ModelForm.clean returns (its stub allows None, which only a subclass returns)
        kind = PROVIDER_KINDS.get(data.get("kind", ""))
        if kind is not None and "settings" in data:
            for name, error in kind.validate_settings(data["settings"] or {}).items():
                self.add_error("settings", f"{name}: {error}")
        timeout = data.get("timeout_seconds")
        if timeout is not None and not 0.1 <= timeout <= 60:
            self.add_error("timeout_seconds", "Between 0.1 and 60 seconds.")
        return data


@admin.register(EnrichmentProvider)
class EnrichmentProviderAdmin(admin.ModelAdmin):
    form = EnrichmentProviderForm
    list_display = ("name", "kind", "order", "is_active", "timeout_seconds", "may_overwrite")
    list_editable = ("order", "is_active")
    ordering = ("order", "id")


@admin.register(ProviderRun)
class ProviderRunAdmin(admin.ModelAdmin):
    list_display = ("lead", "provider_name", "status", "latency_ms", "fields_set", "fields_not_set", "started_at")
    list_filter = ("status", "provider_name")
    list_select_related = ("lead",)
    raw_id_fields = ("lead", "provider")
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(CompanyDirectoryEntry)
class CompanyDirectoryEntryAdmin(CsvImportMixin, admin.ModelAdmin):
    list_display = ("domain", "name", "employee_count", "industry", "country", "updated_at")
    search_fields = ("domain", "name")
    list_filter = ("industry", "country")
    change_list_template = "admin/leads/companydirectoryentry/change_list.html"
    import_url_name = "leads_companydirectory_import"
    import_title = "Import the company directory"
    import_template = "admin/leads/companydirectoryentry/import.html"
    import_help = "CSV with a header row: domain, name, employee_count, industry, country."
    import_max_bytes = 20 * 1024 * 1024

    def import_csv_text(self, text: str) -> ImportOutcome:
        report = import_directory_csv(text)
        return ImportOutcome(created=report.created, updated=report.updated, errors=report.errors)


@admin.register(SizeBand)
class SizeBandAdmin(admin.ModelAdmin):
    list_display = ("name", "min_employees", "max_employees")


class IndustryForm(forms.ModelForm):
    aliases = CommaSeparatedField(required=False, help_text="Other spellings, separated by commas.")

    class Meta:
        model = Industry
        fields = ("name", "aliases")


@admin.register(Industry)
class IndustryAdmin(admin.ModelAdmin):
    form = IndustryForm
    list_display = ("name", "aliases")
    search_fields = ("name",)
