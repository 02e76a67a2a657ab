"""Admin for API keys (shown once, revoked rather than deleted), webhook endpoints and the delivery log."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import IntegerField, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.forms import ModelForm
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from core import roles
from core.typing import signed_in_user
from integrations import services
from integrations.forms import WebhookEndpointForm
from integrations.models import ApiKey, WebhookDelivery, WebhookEndpoint
from leads.models import Lead


class ApiKeyKindFilter(admin.SimpleListFilter):
    title = "kind"
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("integration", "Integration keys"), ("personal", "Personal tokens")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> QuerySet[ApiKey]:
        if self.value() == "integration":
            return queryset.filter(user__isnull=True)
        if self.value() == "personal":
            return queryset.filter(user__isnull=False)
        return queryset


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "key_hint", "owner", "scope", "state", "created_at", "last_used_at", "expires_at")
    list_filter = (ApiKeyKindFilter, "scope")
    search_fields = ("name", "prefix", "user__username")
    list_select_related = ("user",)
    readonly_fields = ("key_hint", "owner", "created_at", "created_by", "last_used_at", "revoked_at")
    actions = ("revoke",)

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> tuple[str, ...]:
        # Admin makes integration keys only: a personal token acts as its person, so only they make one.
        if obj is None:
            return ("name", "scope", "expires_at")
        return ("name", "key_hint", "owner", "scope", "expires_at", "created_at", "created_by", "last_used_at",
                "revoked_at")  # fmt: skip

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> tuple[str, ...]:
        return self.readonly_fields if obj is not None else ()

    # An integration key acts for no person, so nobody gives one more than they may do themself; a personal
    # token acts as its person, so only they change it. Anyone with the change permission may revoke either.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and bool(ApiKey.scopes_issuable_by(request.user))

    def has_change_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or obj.is_editable_by(request.user))

    def get_form(
        self, request: HttpRequest, obj: ApiKey | None = None, change: bool = False, **kwargs: Any
    ) -> type[ModelForm]:
        form = super().get_form(request, obj, change=change, **kwargs)
        if "scope" in form.base_fields and (obj is None or obj.is_integration):
            issuable = ApiKey.scopes_issuable_by(request.user)
            field = form.base_fields["scope"]
            field.choices = [(value, label) for value, label in field.choices if value in issuable]  # type: ignore[attr-defined]
        return form

    def save_form(self, request: HttpRequest, form: ModelForm, change: bool) -> ApiKey:
        if change:
            return super().save_form(request, form, change)
        data = form.cleaned_data
        issued = services.create_api_key(
            name=data["name"], scope=data["scope"], expires_at=data["expires_at"], created_by=signed_in_user(request),
            now=timezone.now(),
        )  # fmt: skip
        self.message_user(
            request,
            format_html(
                "Copy the new key now; it is shown only this once: <code>{}</code> "
                "Send it as the header <code>Authorization: Api-Key &lt;key&gt;</code>.",
                issued.plaintext,
            ),
            messages.WARNING,
        )
        return issued.api_key

    def save_model(self, request: HttpRequest, obj: ApiKey, form: ModelForm, change: bool) -> None:
        if change:  # a new key was saved by its service in save_form
            super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: ModelForm, formsets: list[object], change: bool) -> None:
        if change:  # there is nothing related to a new one, and its form was never saved
            super().save_related(request, form, formsets, change)

    @admin.display(description="key")
    def key_hint(self, obj: ApiKey) -> str:
        return f"{obj.prefix}.…"

    @admin.display(description="owner")
    def owner(self, obj: ApiKey) -> str:
        return str(obj.user) if obj.user is not None else "Integration"

    @admin.display(description="state")
    def state(self, obj: ApiKey) -> str:
        if obj.revoked_at is not None:
            return "revoked"
        return "active" if obj.is_usable_at(timezone.now()) else "expired"

    @admin.action(description="Revoke selected API keys", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        revoked = services.revoke_api_keys(api_keys=queryset, now=timezone.now())
        self.message_user(request, f"Revoked {revoked} API key(s).", messages.SUCCESS)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ("name", "url", "event_list", "is_active", "created_at", "delivery_log")
    list_filter = ("is_active",)
    search_fields = ("name", "url")
    readonly_fields = ("secret_hint", "created_at")
    actions = ("rotate_secret",)

    def get_fields(self, request: HttpRequest, obj: WebhookEndpoint | None = None) -> tuple[str, ...]:
        fields = ("name", "url", "events", "is_active")
        return fields if obj is None else (*fields, *self.readonly_fields)

    # An endpoint hears about every lead, so only someone who sees every lead points one somewhere.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and not roles.is_team_scoped(request.user)

    def has_change_permission(self, request: HttpRequest, obj: WebhookEndpoint | None = None) -> bool:
        return super().has_change_permission(request, obj) and not roles.is_team_scoped(request.user)

    def save_form(self, request: HttpRequest, form: ModelForm, change: bool) -> WebhookEndpoint:
        if change:
            return super().save_form(request, form, change)
        data = form.cleaned_data
        endpoint = services.create_webhook_endpoint(
            name=data["name"], url=data["url"], events=data["events"], is_active=data["is_active"], now=timezone.now()
        )
        self._show_secret(request, endpoint)
        return endpoint

    def save_model(self, request: HttpRequest, obj: WebhookEndpoint, form: ModelForm, change: bool) -> None:
        if change:  # a new endpoint was saved by its service in save_form
            super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: ModelForm, formsets: list[object], change: bool) -> None:
        if change:  # there is nothing related to a new one, and its form was never saved
            super().save_related(request, form, formsets, change)

    def _show_secret(self, request: HttpRequest, endpoint: WebhookEndpoint) -> None:
        self.message_user(
            request,
            format_html(
                "Signing secret of “{}”, shown only this once: <code>{}</code> "
                "Verify the <code>X-Leadsite-Signature</code> header of each delivery with it.",
                endpoint.name,
                endpoint.secret,
            ),
            messages.WARNING,
        )

    @admin.display(description="events")
    def event_list(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.events)

    @admin.display(description="signing secret")
    def secret_hint(self, obj: WebhookEndpoint) -> str:
        return f"{obj.secret[:10]}… (rotate it to see a new one)"

    @admin.display(description="deliveries")
    def delivery_log(self, obj: WebhookEndpoint) -> str:
        url = reverse("admin:integrations_webhookdelivery_changelist") + f"?endpoint__id__exact={obj.pk}"
        return format_html('<a href="{}">Delivery log</a>', url)

    @admin.action(description="Rotate the signing secret of selected endpoints", permissions=["change"])
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            self._show_secret(request, services.rotate_webhook_secret(endpoint=endpoint))


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "created_at", "event", "endpoint", "status", "attempts", "response_code", "next_attempt_at", "delivered_at"
    )  # fmt: skip
    list_filter = ("status", "event", "endpoint")
    search_fields = ("event_id",)
    list_select_related = ("endpoint",)
    show_full_result_count = False
    fields = (
        "endpoint", "event", "event_id", "status", "attempts", "response_code", "response_body", "error",
        "next_attempt_at", "last_attempt_at", "delivered_at", "created_at", "pretty_payload",
    )  # fmt: skip
    readonly_fields = fields
    actions = ("resend",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookDelivery]:
        deliveries = super().get_queryset(request)
        if not roles.is_team_scoped(request.user):
            return deliveries
        # A payload carries its lead; a manager sees the deliveries about their teams' leads only.
        visible = roles.scoped_leads(request.user, Lead.objects.all()).values("pk")
        lead_id = Cast(KeyTextTransform("id", "payload__lead"), IntegerField())
        return deliveries.alias(lead_id=lead_id).filter(lead_id__in=visible)

    @admin.display(description="payload")
    def pretty_payload(self, obj: WebhookDelivery) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, ensure_ascii=False))

    @admin.action(description="Re-send selected deliveries", permissions=["change"])
    def resend(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        resent = services.resend_deliveries(deliveries=queryset, now=timezone.now())
        self.message_user(request, f"Queued {resent} delivery(ies) to be sent again.", messages.SUCCESS)
        skipped = queryset.count() - resent
        if skipped:
            self.message_user(request, f"{skipped} still pending: they are sent anyway.", messages.WARNING)
