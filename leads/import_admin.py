"""Admin for lists staff bring in: upload → map columns → preview → import with progress → undo (``leads.imports``).

Also the import events (each remembers its column mapping and notice) and the suppression list.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import slugify
from django_countries import countries

from core.typing import signed_in_user
from leads import imports
from leads.forms import country_choices
from leads.import_files import TARGET_CHOICES, ImportFileError, guess_mapping, read_table
from leads.models import (
    IMPORT_LEGAL_BASES,
    ImportEvent,
    ImportStatus,
    LeadImport,
    LegalBasis,
    SuppressedAddress,
)
from leads.normalise import e164_phone, normalise_email
from leads.suppression import email_hash, phone_hash

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
SAMPLE_ROWS = 3
# Up to this many imported leads, the import's page says beforehand why it cannot be undone; checking a larger
# import reads every one of its leads (about 1.7 s per 10,000 on a loaded machine), so the undo button checks it.
UNDO_CHECKED_ON_PAGE = 5_000
# The statuses a worker is working on: the import's page polls its progress while it has one of them.
ACTIVE = (ImportStatus.PREVIEWING, ImportStatus.QUEUED, ImportStatus.RUNNING, ImportStatus.UNDOING)


class UploadForm(forms.Form):
    file = forms.FileField(
        label="List (CSV or Excel)",
        help_text="The first row names the columns. At most 20 MB and 200,000 rows.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx,text/csv"}),
    )
    event = forms.ModelChoiceField(
        queryset=ImportEvent.objects.all(), required=False, empty_label="— a new event —",
        help_text="Where the people were met: the touch source of the imported leads.",
    )  # fmt: skip
    new_event = forms.CharField(label="New event's name", max_length=200, required=False)
    held_on = forms.DateField(label="New event's date", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    legal_basis = forms.ChoiceField(label="Consent basis", choices=IMPORT_LEGAL_BASES)
    consent_text = forms.CharField(
        label="Text or notice shown there",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 70}),
        help_text="Word for word, as the people saw it (badge-scan terms, the booth's privacy notice). "
        "Empty: the event's notice.",
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError("The file is larger than 20 MB; split it.")
        try:
            self.table = read_table(upload, name=upload.name)
        except ImportFileError as error:
            raise ValidationError(str(error)) from None
        upload.seek(0)
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        event: ImportEvent | None = data.get("event")
        name = (data.get("new_event") or "").strip()
        if event is None and not name:
            self.add_error("new_event", "Choose the event, or name a new one.")
        elif event is None and ImportEvent.objects.filter(name__iexact=name).exists():
            self.add_error("new_event", "An event of that name exists: choose it above.")
        elif event is None and not slugify(name):
            self.add_error("new_event", "Give the event a name with letters or digits.")
        text = (data.get("consent_text") or "").strip() or (event.notice if event else "")
        if not text:
            what = "notice" if data.get("legal_basis") == LegalBasis.LEGITIMATE_INTEREST else "text"
            self.add_error("consent_text", f"Give the {what} people were shown at the event, word for word.")
        data["consent_text"] = text
        return data


class MappingForm(forms.Form):
    """One choice per column of the file: which lead field it fills."""

    def __init__(self, *args: Any, columns: list[str], initial_mapping: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.columns = columns
        for index, column in enumerate(columns):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=column, choices=TARGET_CHOICES, required=False, initial=initial_mapping.get(column, "")
            )

    def mapping(self) -> dict[str, str]:
        return {column: self.cleaned_data.get(f"col_{index}") or "" for index, column in enumerate(self.columns)}


@admin.register(LeadImport)
class LeadImportAdmin(admin.ModelAdmin):
    list_display = ("file_name", "event", "status", "progress", "created_count", "merged_count", "skipped",
                    "error_count", "created_by", "created_at")  # fmt: skip
    list_filter = ("status", "event")
    list_select_related = ("event", "created_by")
    search_fields = ("file_name", "event__name")
    ordering = ("-created_at", "-id")

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # an import is undone (which keeps its record), never deleted

    @admin.display(description="Progress")
    def progress(self, batch: LeadImport) -> str:
        return f"{batch.processed_rows:,} / {batch.total_rows:,}"

    @admin.display(description="Skipped")
    def skipped(self, batch: LeadImport) -> int:
        return batch.withdrawn_count + batch.suppressed_count + batch.duplicate_count

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("<int:import_id>/map/", view(self.map_view), name="leads_leadimport_map"),
            path("<int:import_id>/start/", view(self.start_view), name="leads_leadimport_start"),
            path("<int:import_id>/progress/", view(self.progress_view), name="leads_leadimport_progress"),
            path("<int:import_id>/undo/", view(self.undo_view), name="leads_leadimport_undo"),
            *super().get_urls(),
        ]

    def _context(self, request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
        return {**self.admin_site.each_context(request), "opts": self.opts, "title": title, **extra}

    def _batch(self, request: HttpRequest, import_id: int, *, change: bool) -> LeadImport:
        batch = self.get_queryset(request).filter(pk=import_id).first()
        if batch is None:
            raise Http404("No such import.")
        allowed = self.has_change_permission(request, batch) if change else self.has_view_permission(request, batch)
        if not allowed:
            raise PermissionDenied
        return batch

    # Step 1: upload (the add page).
    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            batch = self._create_batch(request, form)
            return redirect("admin:leads_leadimport_map", batch.pk)
        return TemplateResponse(
            request, "admin/leads/leadimport/upload.html", self._context(request, "Import leads", form=form)
        )

    def _create_batch(self, request: HttpRequest, form: UploadForm) -> LeadImport:
        data, now = form.cleaned_data, timezone.now()
        with transaction.atomic():
            event = data["event"]
            if event is None:
                name = data["new_event"].strip()
                event = ImportEvent.objects.create(
                    name=name, source=_free_source(slugify(name)), held_on=data.get("held_on"),
                    notice=data["consent_text"], created_at=now,
                )  # fmt: skip
            elif not event.notice:
                event.notice = data["consent_text"]
                event.save(update_fields=["notice"])
            upload = data["file"]
            return LeadImport.objects.create(
                event=event, file=upload, file_name=upload.name[:255], columns=form.table.columns,
                total_rows=form.table.row_count,
                legal_basis=data["legal_basis"], consent_text=data["consent_text"],
                created_by=signed_in_user(request), created_at=now,
            )  # fmt: skip

    # Step 2: map the columns, then preview in the worker (no lead is written before the import starts).
    def map_view(self, request: HttpRequest, import_id: int) -> HttpResponse:
        batch = self._batch(request, import_id, change=True)
        if batch.status not in (ImportStatus.MAPPING, ImportStatus.PREVIEWED):
            return redirect("admin:leads_leadimport_change", batch.pk)
        initial = batch.mapping or guess_mapping(batch.columns, remembered=batch.event.column_mapping)
        form = MappingForm(request.POST or None, columns=batch.columns, initial_mapping=initial)
        if request.method == "POST" and form.is_valid():
            try:
                imports.start_preview(batch=batch, mapping=form.mapping(), now=timezone.now())
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return redirect("admin:leads_leadimport_change", batch.pk)
        samples = _samples(batch)
        rows = [
            (form[f"col_{i}"], [sample.get(column, "") for sample in samples]) for i, column in enumerate(batch.columns)
        ]
        context = self._context(request, f"Map the columns of {batch.file_name}", batch=batch, form=form, rows=rows)
        return TemplateResponse(request, "admin/leads/leadimport/map.html", context)

    # Step 3: the preview, progress and outcome are the import's own page.
    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        if not object_id.isdigit():
            raise Http404("No such import.")
        batch = self._batch(request, int(object_id), change=False)
        if batch.status == ImportStatus.MAPPING:
            return redirect("admin:leads_leadimport_map", batch.pk)
        can_change = self.has_change_permission(request, batch)
        undoing = batch.status == ImportStatus.UNDOING
        undone, undo_total, undo_percent = _undo_progress(batch) if undoing else (0, 0, 0)
        context = self._context(
            request, str(batch), batch=batch, can_change=can_change, messages_by_kind=_messages_by_kind(batch),
            is_active=batch.status in ACTIVE, undone=undone, undo_total=undo_total,
            undo_percent=undo_percent, kept_by_undo=imports.kept_by_undo(batch=batch),
            leads_url=f"{reverse('admin:leads_lead_changelist')}?import={batch.pk}",
            undo_blockers=_undo_blockers_to_show(batch),
        )  # fmt: skip
        return TemplateResponse(request, "admin/leads/leadimport/status.html", context)

    def start_view(self, request: HttpRequest, import_id: int) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        batch = self._batch(request, import_id, change=True)
        if imports.start_import(batch=batch, now=timezone.now()):
            self.message_user(request, "The import has started; this page shows its progress.", messages.SUCCESS)
        return redirect("admin:leads_leadimport_change", batch.pk)

    def progress_view(self, request: HttpRequest, import_id: int) -> JsonResponse:
        """How far the worker got: rows previewed or imported, or (while undoing) leads undone."""
        batch = self._batch(request, import_id, change=False)
        processed, total, percent = batch.processed_rows, batch.total_rows, batch.progress_percent
        if batch.status == ImportStatus.UNDOING:
            processed, total, percent = _undo_progress(batch)
        return JsonResponse(
            {
                "status": batch.status, "status_label": batch.get_status_display(),
                "processed": processed, "total": total, "percent": percent,
                "created": batch.created_count, "merged": batch.merged_count, "errors": batch.error_count,
                "skipped": batch.withdrawn_count + batch.suppressed_count + batch.duplicate_count,
            }
        )  # fmt: skip

    def undo_view(self, request: HttpRequest, import_id: int) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        batch = self._batch(request, import_id, change=True)
        try:
            imports.start_undo(batch=batch, by=signed_in_user(request), now=timezone.now())
        except imports.ImportUndoRefusedError as error:
            self.message_user(request, str(error), messages.ERROR)
        else:
            self.log_change(request, batch, "Started undoing the import.")
            self.message_user(request, "The undo has started; this page shows its progress.", messages.SUCCESS)
        return redirect("admin:leads_leadimport_change", batch.pk)


def _undo_progress(batch: LeadImport) -> tuple[int, int, int]:
    """(leads undone so far, leads the import wrote, percent) while the import is being undone."""
    done, total = imports.undo_progress(batch=batch)
    return done, total, 100 if not total else min(100, round(100 * done / total))


def _undo_blockers_to_show(batch: LeadImport) -> list[str]:
    if batch.status != ImportStatus.DONE or batch.created_count + batch.merged_count > UNDO_CHECKED_ON_PAGE:
        return []
    return imports.undo_blockers(batch=batch)


def _free_source(base: str) -> str:
    source, number = base[:190], 1
    while ImportEvent.objects.filter(source=source).exists():
        number += 1
        source = f"{base[:190]}-{number}"
    return source


def _samples(batch: LeadImport) -> list[dict[str, str]]:
    try:
        table = imports.table_of(batch)
    except (ImportFileError, OSError):
        return []
    samples = []
    for _, values in table.rows():
        samples.append(values)
        if len(samples) == SAMPLE_ROWS:
            break
    return samples


def _messages_by_kind(batch: LeadImport) -> list[dict[str, Any]]:
    labels = {"error": "Error", "withdrawn": "Withdrawn", "suppressed": "Suppressed", "duplicate": "Repeated"}
    return [{**message, "label": labels.get(message.get("kind", ""), "")} for message in batch.row_errors or []]


@admin.register(ImportEvent)
class ImportEventAdmin(admin.ModelAdmin):
    list_display = ("name", "source", "held_on", "imports_link")
    search_fields = ("name", "source")
    readonly_fields = ("column_mapping", "created_at")
    fields = ("name", "source", "held_on", "notice", "column_mapping", "created_at")
    prepopulated_fields = {"source": ("name",)}

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="Imports")
    def imports_link(self, event: ImportEvent) -> str:
        url = f"{reverse('admin:leads_leadimport_changelist')}?event__id__exact={event.pk}"
        return format_html('<a href="{}">Imports</a>', url)


class SuppressedAddressForm(forms.ModelForm):
    """An address or a phone number for the list, exactly one: each is its own row, kept as its hash only."""

    email = forms.EmailField(required=False, help_text="Only a hash of the address is stored.")
    phone = forms.CharField(
        label="Phone number", max_length=50, required=False,
        help_text="For a person known by phone (who objected by phone, a badge scan). Only a hash of the number, "
        "in international form as leads store it, is stored.",
    )  # fmt: skip
    country = forms.ChoiceField(
        choices=country_choices, required=False,
        help_text="The country of a number not written in international form (+44 …).",
    )  # fmt: skip

    class Meta:
        model = SuppressedAddress
        fields = ("reason",)

    def clean_email(self) -> str:
        email = normalise_email(self.cleaned_data["email"]) or ""
        if email and SuppressedAddress.objects.filter(email_hash=email_hash(email)).exists():
            raise ValidationError("This address is on the list already.")
        return email

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        has_email = bool(cleaned.get("email")) or self.has_error("email")
        phone = cleaned.get("phone", "").strip()
        if not has_email and not phone:
            raise ValidationError("Give an email address or a phone number.")
        if has_email and phone:
            raise ValidationError(
                "Give an email address or a phone number, not both: each goes on the list as its own row."
            )
        if phone:
            cleaned["phone"] = self._e164(phone, country=cleaned.get("country", ""))
        return cleaned

    def _e164(self, phone: str, *, country: str) -> str:
        number = e164_phone(phone, country=country)
        if number is None and not phone.startswith("+") and not country:
            self.add_error("country", "Choose the country of this number, or give it in international form (+44 20 …).")
        elif number is None:
            where = "" if phone.startswith("+") else f" in {countries.name(country)}"
            self.add_error("phone", f"This is not a valid phone number{where}.")
        elif SuppressedAddress.objects.filter(phone_hash=phone_hash(number)).exists():
            self.add_error("phone", "This number is on the list already.")
        return number or ""

    def save(self, commit: bool = True) -> SuppressedAddress:
        if self.cleaned_data["email"]:
            self.instance.email_hash = email_hash(self.cleaned_data["email"])
        else:
            self.instance.phone_hash = phone_hash(self.cleaned_data["phone"])
        return super().save(commit)


@admin.register(SuppressedAddress)
class SuppressedAddressAdmin(admin.ModelAdmin):
    form = SuppressedAddressForm
    list_display = ("email_hash", "phone_hash", "reason", "created_at")
    search_fields = ("reason",)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[SuppressedAddress], search_term: str
    ) -> tuple[QuerySet[SuppressedAddress], bool]:
        # An address is looked up by its hash: type the address, find its row.
        if "@" in search_term:
            return queryset.filter(email_hash=email_hash(search_term)), False
        if search_term.strip().startswith("+"):  # a number, typed as E.164 (erasure hashes it so)
            return queryset.filter(phone_hash=phone_hash(search_term)), False
        return super().get_search_results(request, queryset, search_term)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_fields(self, request: HttpRequest, obj: SuppressedAddress | None = None) -> list[str]:  # type: ignore[override]
        return (
            ["email", "phone", "country", "reason"]
            if obj is None
            else ["email_hash", "phone_hash", "reason", "created_at"]
        )


class ImportedInFilter(admin.SimpleListFilter):
    """The leads list narrowed to the leads one import created or merged into (``?import=<id>``)."""

    title = "import"
    parameter_name = "import"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        recent = LeadImport.objects.exclude(status__in=[ImportStatus.MAPPING, ImportStatus.PREVIEWED])
        return [(str(batch.pk), f"#{batch.pk} {batch.file_name}") for batch in recent.order_by("-id")[:10]]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        if not value.isdigit():
            return queryset.none()
        return queryset.filter(imports__batch_id=int(value))
