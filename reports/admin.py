"""Admin for attribution: channel rules, marketing spend (with CSV import) and first-touch corrections.

Channel rules are a ``leads`` model; they are registered here because the reports app owns attribution
(the reports app may import every app, ``leads`` none).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html

from core import roles
from core.typing import signed_in_user
from leads.admin_csv import CsvImportMixin, ImportOutcome
from leads.attribution import classify_touch
from leads.channels import Channel, TouchFacts
from leads.models import ChannelRule, Lead
from reports import services
from reports.forms import FirstTouchCorrectionForm
from reports.models import FirstTouchCorrection, Spend

CHANNEL_LABELS = dict(Channel.CHOICES)


# --- Channel rules --------------------------------------------------------------------------------


class LinesField(forms.CharField):
    """A list of short values edited one per line (or comma-separated), stored lower-cased as a JSON list."""

    widget = forms.Textarea

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("rows", 3)

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(str(item) for item in value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        if isinstance(value, list):
            return value
        text = str(value or "").replace(",", "\n")
        return [line.strip().lower() for line in text.splitlines() if line.strip()]


class ChannelRuleForm(forms.ModelForm):
    channel = forms.ChoiceField(choices=Channel.CHOICES)
    mediums = LinesField(help_text="utm_medium values, one per line, e.g. cpc. Empty: any medium.")
    sources = LinesField(help_text="utm_source values, one per line. Empty: any source.")
    referrer_domains = LinesField(
        help_text="Referrer hosts, one per line; google.* matches every Google domain. Empty: any referrer."
    )

    class Meta:
        model = ChannelRule
        fields = (
            "order",
            "channel",
            "is_active",
            "mediums",
            "sources",
            "referrer_domains",
            "needs_click_id",
            "needs_no_utm",
            "needs_referrer",
            "is_meaningful",
        )


class TryTouchForm(forms.Form):
    source = forms.CharField(label="utm_source", required=False)
    medium = forms.CharField(label="utm_medium", required=False)
    campaign = forms.CharField(label="utm_campaign", required=False)
    click_id = forms.CharField(label="Click id (gclid)", required=False)
    referrer = forms.CharField(label="Referrer URL", required=False)


@admin.register(ChannelRule)
class ChannelRuleAdmin(admin.ModelAdmin):
    form = ChannelRuleForm
    list_display = ("order", "channel_name", "conditions", "is_meaningful", "is_active")
    list_editable = ("is_active",)
    list_filter = ("channel", "is_active", "is_meaningful")
    ordering = ("order", "id")
    change_list_template = "admin/reports/channelrule_change_list.html"

    @admin.display(description="channel", ordering="channel")
    def channel_name(self, rule: ChannelRule) -> str:
        return CHANNEL_LABELS.get(rule.channel, rule.channel)

    @admin.display(description="when")
    def conditions(self, rule: ChannelRule) -> str:
        parts = [
            f"medium in {', '.join(rule.mediums)}" if rule.mediums else "",
            f"source in {', '.join(rule.sources)}" if rule.sources else "",
            f"referrer is {', '.join(rule.referrer_domains)}" if rule.referrer_domains else "",
            "has a click id" if rule.needs_click_id else "",
            "no UTM tags" if rule.needs_no_utm else "",
            "has a referrer" if rule.needs_referrer else "",
        ]
        return "; ".join(part for part in parts if part) or "every touch"

    def get_urls(self) -> list[URLPattern]:
        try_view = path("try/", self.admin_site.admin_view(self.try_view), name="leads_channelrule_try")
        return [try_view, *super().get_urls()]

    def try_view(self, request: HttpRequest) -> HttpResponse:
        """Which channel the current rules give a touch: for checking a rule change before real leads arrive."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = TryTouchForm(request.GET or None)
        result = None
        if form.is_bound and form.is_valid():
            channel, is_meaningful = classify_touch(TouchFacts(**form.cleaned_data))
            result = {"channel": CHANNEL_LABELS.get(channel, channel), "is_meaningful": is_meaningful}
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Try the channel rules",
            "form": form,
            "result": result,
        }
        return TemplateResponse(request, "admin/reports/channelrule_try.html", context)


# --- Spend ----------------------------------------------------------------------------------------


@admin.register(Spend)
class SpendAdmin(CsvImportMixin, admin.ModelAdmin):
    """Spend by month, source and campaign; a CSV upload checks every line first and imports all or nothing."""

    list_display = ("month_name", "source", "campaign_name", "amount", "currency")
    list_filter = ("source", "currency")
    search_fields = ("source", "campaign")
    date_hierarchy = "month"
    ordering = ("-month", "source", "campaign")
    change_list_template = "admin/reports/spend_change_list.html"
    import_url_name = "reports_spend_import"
    import_title = "Import spend from CSV"
    import_template = "admin/reports/spend_import.html"
    import_help = "Columns: month (2026-03), source, campaign (may be empty), amount (1250.00), currency (EUR)."

    @admin.display(description="month", ordering="month")
    def month_name(self, spend: Spend) -> str:
        return f"{spend.month:%Y-%m}"

    @admin.display(description="campaign", ordering="campaign")
    def campaign_name(self, spend: Spend) -> str:
        return spend.campaign or "(whole source)"

    def import_csv_text(self, text: str) -> ImportOutcome:
        result = services.import_spend(text=text)
        return ImportOutcome(created=result.created, updated=result.updated, errors=[str(e) for e in result.errors])


# --- First-touch corrections ----------------------------------------------------------------------


@admin.register(FirstTouchCorrection)
class FirstTouchCorrectionAdmin(admin.ModelAdmin):
    """The record of corrections; "add" is the correction itself, for managers only."""

    list_display = ("corrected_at", "lead_link", "before", "after", "corrected_by", "reason")
    list_select_related = ("lead", "corrected_by")
    list_filter = ("channel",)
    search_fields = ("lead__email", "reason")
    readonly_fields = [field.name for field in FirstTouchCorrection._meta.fields]
    ordering = ("-corrected_at", "-id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[FirstTouchCorrection]:
        # A manager sees the corrections of their teams' leads only.
        return roles.scoped_by_lead(request.user, super().get_queryset(request), leads=Lead.objects.all())

    @admin.display(description="lead")
    def lead_link(self, correction: FirstTouchCorrection) -> str:
        url = reverse("admin:leads_lead_change", args=[correction.lead_id])
        return format_html('<a href="{}">{}</a>', url, correction.lead)

    @admin.display(description="was")
    def before(self, correction: FirstTouchCorrection) -> str:
        return _touch_summary(correction.previous_channel, correction.previous_source, correction.previous_campaign)

    @admin.display(description="now")
    def after(self, correction: FirstTouchCorrection) -> str:
        return _touch_summary(correction.channel, correction.source, correction.campaign)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(services.CORRECT_FIRST_TOUCH)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        lead = _find_lead(request.GET.get("lead", ""), visible=roles.scoped_leads(request.user, Lead.objects.all()))
        context: dict[str, Any] = {**self.admin_site.each_context(request), "opts": self.opts, "lead": lead}
        if lead is None:
            context.update(title="Correct a lead's first touch", query=request.GET.get("lead", ""))
            return TemplateResponse(request, "admin/reports/firsttouchcorrection_pick.html", context)

        touches = lead.touches.order_by("occurred_at", "id")
        form = FirstTouchCorrectionForm(request.POST or None, touches=touches)
        if request.method == "POST" and form.is_valid():
            _correct(request, lead=lead, data=form.cleaned_data)
            self.message_user(request, f"The first touch of {lead} is corrected and recorded.", messages.SUCCESS)
            return redirect(f"{reverse('admin:reports_firsttouchcorrection_changelist')}?lead__id__exact={lead.pk}")
        context.update(title=f"Correct the first touch of {lead}", form=form)
        return TemplateResponse(request, "admin/reports/firsttouchcorrection_form.html", context)


def _find_lead(query: str, *, visible: QuerySet[Lead]) -> Lead | None:
    query = query.strip()
    # isdigit() alone takes "²" and other digits int() refuses.
    if query.isascii() and query.isdigit():
        return visible.filter(pk=int(query)).first()
    if "@" in query:
        return visible.filter(email=query.lower()).first()
    return None


def _correct(request: HttpRequest, *, lead: Lead, data: dict[str, Any]) -> FirstTouchCorrection:
    offline = None
    if not data.get("touch"):
        offline = services.OfflineTouch(
            channel=data["channel"],
            occurred_at=data.get("occurred_at") or lead.first_touch_at or lead.created_at,
            source=data.get("source", ""),
            medium=data.get("medium", ""),
            campaign=data.get("campaign", ""),
        )
    return services.correct_first_touch(
        lead=lead,
        by=signed_in_user(request),
        reason=data["reason"],
        now=timezone.now(),
        touch=data.get("touch"),
        offline=offline,
    )


def _touch_summary(channel: str, source: str, campaign: str) -> str:
    if not (channel or source):
        return "(none)"
    details = " / ".join(part for part in (source, campaign) if part)
    label = CHANNEL_LABELS.get(channel, channel)
    return f"{label}: {details}" if details else label
