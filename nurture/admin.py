from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html

from core import roles
from core.typing import signed_in_user
from leads.models import Lead
from nurture import links, sending, services
from nurture.forms import PreviewForm
from nurture.models import Click, Enrollment, ExitReason, Send, Step, Track


def _in_scope(request: HttpRequest, rows: QuerySet[Any]) -> QuerySet[Any]:
    """A manager sees the nurture records of their teams' leads only, as everywhere else (``core.roles``)."""
    return roles.scoped_by_lead(request.user, rows, leads=Lead.objects.all())


class StepInline(admin.StackedInline):
    model = Step
    extra = 0
    ordering = ["position"]
    fields = [("position", "delay_days", "is_active"), "subject", "body", "asset_url"]
    formfield_overrides = {
        models.CharField: {"widget": forms.TextInput(attrs={"size": 80})},
        models.URLField: {"assume_scheme": "https"},  # Django 6's default, without its warning
    }


@admin.register(Track)
class TrackAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "status", "is_default_below_threshold", "is_default_recycle", "step_count",
                    "preview_link"]  # fmt: skip
    list_filter = ["status"]
    search_fields = ["name", "key"]
    prepopulated_fields = {"key": ("name",)}
    inlines = [StepInline]
    fieldsets = [
        (None, {"fields": ["name", "key", "status", "description"]}),
        (
            "Who enters",
            {
                "fields": ["is_default_below_threshold", "is_default_recycle"],
                "description": "Routing rules name a track by its key; these say where leads go that nothing names.",
            },
        ),
        ("Sender", {"fields": ["from_name", "from_email"]}),
        (
            "When to send",
            {
                "fields": [("send_from", "send_until"), ("time_zone", "holiday_country"), "per_domain_hourly_limit"],
                "description": "In each lead's own time zone and public holidays (from its country); the track's "
                "time zone and holiday country stand in for leads without one. Never on weekends.",
            },
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Track]:
        return super().get_queryset(request).prefetch_related("steps")

    @admin.display(description="Steps")
    def step_count(self, track: Track) -> int:
        return len(track.steps.all())

    @admin.display(description="Preview")
    def preview_link(self, track: Track) -> str:
        return format_html('<a href="{}">Preview and test</a>', reverse("admin:nurture_track_preview", args=[track.pk]))

    def get_urls(self) -> list[URLPattern]:
        preview = self.admin_site.admin_view(self.preview_view)
        return [path("<int:object_id>/preview/", preview, name="nurture_track_preview"), *super().get_urls()]

    def preview_view(self, request: HttpRequest, object_id: int) -> HttpResponseBase:
        """Every step of the track as a real lead would get it, and "send a test to me" (POST)."""
        track = get_object_or_404(Track, pk=object_id)
        if not self.has_view_permission(request, track):
            raise PermissionDenied
        form = PreviewForm(request.POST if request.method == "POST" else request.GET)
        lead = form.cleaned_data["lead"] if form.is_valid() else None
        steps = list(track.steps.order_by("position"))
        if request.method == "POST":
            return self._send_test(request, track=track, steps=steps, lead=lead, form=form)
        values = sending.person_values(lead) if lead is not None else {}
        previews = [(step, sending.compile_step(step).render(values, link=lambda url: url)) for step in steps]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Preview: {track}",
            "track": track,
            "form": form,
            "lead": lead,
            "previews": previews,
            "can_send_test": request.user.has_perm("nurture.send_test_email"),
        }
        return TemplateResponse(request, "admin/nurture/track/preview.html", context)

    def _send_test(
        self, request: HttpRequest, *, track: Track, steps: list[Step], lead: Any, form: PreviewForm
    ) -> HttpResponse:
        user = signed_in_user(request)
        if not user.has_perm("nurture.send_test_email"):
            raise PermissionDenied
        preview_url = reverse("admin:nurture_track_preview", args=[track.pk])
        query = f"?lead={lead.pk}" if lead is not None else ""
        if not user.email:
            messages.error(request, "Your account has no email address: add one to get test emails.")
            return redirect(preview_url + query)
        chosen = request.POST.get("step")
        to_send = [step for step in steps if chosen in (None, "", str(step.pk))]
        if not to_send:
            raise Http404("No such step")
        values = sending.person_values(lead) if lead is not None else {}
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
        for step in to_send:
            message = sending.build_message(
                sending.compile_step(step),
                track=track,
                values=values,
                to=user.email,
                send_id=links.TEST_SEND,
                message_id=f"<nurture.test.{uuid.uuid4().hex}@{domain}>",
            )
            message.subject = f"[Test] {message.subject}"
            message.send()
        messages.success(request, f"Sent {len(to_send)} test email(s) to {user.email}.")
        return redirect(preview_url + query)


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ["lead", "track", "source", "status", "last_position", "next_due_at", "started_at", "exit_reason"]
    list_filter = ["status", "track", "source", "exit_reason"]
    search_fields = ["lead__email", "lead__company_name"]
    list_select_related = ["lead", "track"]
    raw_id_fields = ["lead"]
    actions = ["end_selected"]
    readonly_fields = [
        "lead", "track", "source", "reason", "until", "status", "started_at", "last_position", "last_sent_at",
        "next_due_at", "ended_at", "exit_reason", "exit_note",
    ]  # fmt: skip
    exclude = ["lease_until", "lease_owner"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Enrollment]:
        return _in_scope(request, super().get_queryset(request))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description="End the selected enrollments now", permissions=["change"])
    def end_selected(self, request: HttpRequest, queryset: QuerySet[Enrollment]) -> None:
        user = signed_in_user(request)
        ended = services.end_enrollments(
            enrollments=queryset, reason=ExitReason.MARKETER, now=timezone.now(), note=f"Ended by {user}"
        )
        messages.success(request, f"Ended {ended} enrollment(s).")


class ClickInline(admin.TabularInline):
    """Every request for the send's links: a person's (counted) and a mail scanner's (never scored), and why."""

    model = Click
    fields = readonly_fields = ("clicked_at", "url", "is_bot", "bot_reason", "counted_at", "user_agent")
    extra = 0
    can_delete = False

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.has_perm("nurture.view_send")  # whoever reads the send reads its clicks

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Send)
class SendAdmin(admin.ModelAdmin):
    list_display = ["subject", "lead", "track", "position", "status", "created_at", "click_count", "unsubscribed_at"]
    inlines = [ClickInline]
    list_filter = ["status", "track"]
    search_fields = ["lead__email", "message_id"]
    list_select_related = ["lead", "track"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Send]:
        return _in_scope(request, super().get_queryset(request))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
