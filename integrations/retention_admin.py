"""Admin for retention policies (with the dry run that must come before switching one on) and their run log."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from integrations import retention
from integrations.models import RetentionPolicy, RetentionRun


class RetentionPolicyForm(forms.ModelForm):
    class Meta:
        model = RetentionPolicy
        fields = ["name", "kind", "age_days", "batch_size", "batches_per_run", "is_active"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors:
            candidate = self.instance
            for name in ("kind", "age_days", "is_active"):
                setattr(candidate, name, cleaned.get(name))
            retention.check_can_switch_on(candidate)
        return cleaned


@admin.action(description="Dry run: count what is due", permissions=["change"])
def dry_run(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[RetentionPolicy]) -> None:
    now = timezone.now()
    for policy in queryset:
        count = retention.count_due(policy=policy, now=now)
        modeladmin.message_user(
            request, f"{policy.name}: {count} record(s) older than {policy.age_days} days would be removed now."
        )


@admin.action(description="Run now (a bounded run, as the hourly task does)", permissions=["change"])
def run_now(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[RetentionPolicy]) -> None:
    now = timezone.now()
    for policy in queryset:
        if not policy.is_active:
            modeladmin.message_user(request, f"{policy.name} is switched off: nothing removed.", messages.WARNING)
            continue
        run = retention.apply_policy(policy=policy, now=now)
        removed = run.removed if run is not None else 0
        modeladmin.message_user(request, f"{policy.name}: {removed} record(s) removed.")


class RetentionRunInline(admin.TabularInline):
    model = RetentionRun
    fields = ("started_at", "cutoff_at", "removed", "remaining", "error")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ("-started_at",)
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[RetentionRun]:
        return super().get_queryset(request).defer("removed_ids")


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(admin.ModelAdmin):
    form = RetentionPolicyForm
    list_display = ("name", "kind", "age_days", "is_active", "dry_run_count", "last_run_at")
    list_filter = ("kind", "is_active")
    readonly_fields = ("dry_run_count", "dry_run_at", "last_run_at")
    actions = (dry_run, run_now)
    inlines = (RetentionRunInline,)

    def save_model(self, request: HttpRequest, obj: RetentionPolicy, form: forms.ModelForm, change: bool) -> None:
        if change and retention.rule_changed(obj):
            obj.dry_run_at = None  # a new rule needs its own dry run before it is switched on again
            obj.dry_run_count = None
        super().save_model(request, obj, form, change)


@admin.register(RetentionRun)
class RetentionRunAdmin(admin.ModelAdmin):
    list_display = ("policy", "kind", "started_at", "cutoff_at", "removed", "remaining")
    list_filter = ("kind", "policy")
    list_select_related = ("policy",)
    readonly_fields = (
        "policy", "kind", "cutoff_at", "started_at", "finished_at", "removed", "removed_ids", "remaining", "error",
    )  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
