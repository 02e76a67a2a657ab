"""The audit trail in admin: a searchable list of every audited change, and each object's History page.

``IntegrationsConfig.ready`` calls ``install`` after admin has loaded every app's admin: it replaces
auditlog's own list with one that shows old and new values, and adds the audit entries to the History
page of each audited model's admin (those admins live in other apps, which may not import this one).
"""

from __future__ import annotations

from typing import Any

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from integrations import audit

SUMMARY_FIELDS = 4  # fields shown per entry in the list; the entry's page shows every one


class AuditedKindFilter(admin.SimpleListFilter):
    """The audited kinds of object only (the content type filter would list every model of the site)."""

    title = "kind of object"
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        types = ContentType.objects.get_for_models(*audit.audited_models())
        return sorted(((str(ct.pk), str(model._meta.verbose_name).capitalize()) for model, ct in types.items()),
                      key=lambda choice: choice[1])  # fmt: skip

    def queryset(self, request: HttpRequest, queryset: QuerySet[LogEntry]) -> QuerySet[LogEntry]:
        value = self.value()
        return queryset.filter(content_type_id=value) if value and value.isdigit() else queryset


class AuditEntryAdmin(LogEntryAdmin):
    """Every audited change, newest first; search by object, value or user, filter by kind and action."""

    list_display = ["created", "resource_url", "action", "changes_summary", "user_url"]
    list_filter = ["action", AuditedKindFilter, "timestamp"]
    list_per_page = 50
    show_full_result_count = False  # no COUNT(*) of the whole log on each page

    @admin.display(description="Changes (from → to)")
    def changes_summary(self, obj: LogEntry) -> SafeString:
        model = obj.content_type.model_class()
        if model is None:
            return SafeString("")
        changes = audit.field_changes(obj, model=model)
        shown = [(c.field, _short(c.old), _short(c.new)) for c in changes[:SUMMARY_FIELDS]]
        more = len(changes) - len(shown)
        html = format_html_join("", "<div><strong>{}</strong>: {} → {}</div>", shown)
        return SafeString(html + (f"<div>… and {more} more</div>" if more > 0 else ""))


def _short(value: str) -> str:
    return value if len(value) <= 80 else value[:79] + "…"


def install() -> None:
    """Put the audit list in admin and the audit entries on each audited object's History page."""
    if admin.site.is_registered(LogEntry):
        admin.site.unregister(LogEntry)
    admin.site.register(LogEntry, AuditEntryAdmin)
    for model in audit.audited_models():
        model_admin = admin.site._registry.get(model)
        if model_admin is not None:
            _show_history(model_admin)


def _show_history(model_admin: admin.ModelAdmin) -> None:
    if getattr(model_admin, "_audit_history", False):
        return
    original = model_admin.history_view

    def history_view(request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        context = {
            **(extra_context or {}),
            "audit_entries": audit.history_of(model=model_admin.model, object_id=object_id),
        }
        if request.user.has_perm("auditlog.view_logentry"):
            content_type = ContentType.objects.get_for_model(model_admin.model)
            url = reverse("admin:auditlog_logentry_changelist")
            context["audit_list_url"] = f"{url}?kind={content_type.pk}&object_pk={object_id}"
        return original(request, object_id, extra_context=context)

    model_admin.history_view = history_view  # type: ignore[method-assign]
    model_admin.object_history_template = "admin/integrations/audit_object_history.html"  # type: ignore[misc]
    model_admin._audit_history = True  # type: ignore[attr-defined]
