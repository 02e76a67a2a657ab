"""A CSV upload page for a ModelAdmin: the whole file is checked first, and a file with a bad line imports nothing.

Used by the company directory (``leads.enrichment.admin``) and marketing spend (``reports.admin``): each
says what to call its page and how to import the text; the upload, the checks and the page are here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path


class CsvFileForm(forms.Form):
    file = forms.FileField(label="CSV file")

    def __init__(self, *args: Any, max_bytes: int, help_text: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_bytes = max_bytes
        self.fields["file"].help_text = help_text

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > self.max_bytes:
            raise forms.ValidationError(f"The file is larger than {self.max_bytes // (1024 * 1024)} MB; split it.")
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError("The file is not UTF-8 text; save it as “CSV UTF-8”.") from None


@dataclass(frozen=True)
class ImportOutcome:
    created: int
    updated: int
    errors: Sequence[str] = ()


class CsvImportMixin:
    """Adds ``import/`` to a ModelAdmin (URL name ``import_url_name``), for users who may add and change."""

    import_url_name: str
    import_title: str
    import_template: str  # extends admin/csv_import.html
    import_help: str = ""
    import_max_bytes = 2 * 1024 * 1024

    def import_csv_text(self, text: str) -> ImportOutcome:
        raise NotImplementedError

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.import_view)  # type: ignore[attr-defined]
        return [path("import/", view, name=self.import_url_name), *super().get_urls()]  # type: ignore[misc]

    def can_import(self, request: HttpRequest) -> bool:
        """An import both adds and changes rows."""
        admin: Any = self
        return bool(admin.has_add_permission(request) and admin.has_change_permission(request))

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        # The list's own context says whether one may add, not whether one may import: its button reads this.
        context = {**(extra_context or {}), "can_import": self.can_import(request)}
        return super().changelist_view(request, context)  # type: ignore[misc]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        admin: Any = self
        if not self.can_import(request):
            raise PermissionDenied
        form = CsvFileForm(
            request.POST or None, request.FILES or None, max_bytes=self.import_max_bytes, help_text=self.import_help
        )
        errors: Sequence[str] = ()
        if request.method == "POST" and form.is_valid():
            outcome = self.import_csv_text(form.cleaned_data["file"])
            if not outcome.errors:
                admin.message_user(
                    request, f"Imported: {outcome.created} new, {outcome.updated} updated.", messages.SUCCESS
                )
                return redirect(f"admin:{admin.opts.app_label}_{admin.opts.model_name}_changelist")
            errors = outcome.errors
        context = {
            **admin.admin_site.each_context(request),
            "opts": admin.opts,
            "title": self.import_title,
            "form": form,
            "line_errors": errors,
        }
        return TemplateResponse(request, self.import_template, context)
