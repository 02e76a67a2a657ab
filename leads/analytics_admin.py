"""Form analytics pages in admin (``leads.analytics``): a comparison of every form, and one page per form.

Both take the reports' date filter (``created_after`` / ``created_before``, the last 90 days by default) and
open for whoever may view forms (marketing).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone

from core.validators import validate_countable_day
from leads import analytics
from leads.models import CaptureForm

DEFAULT_DAYS = 90


class AnalyticsRangeForm(forms.Form):
    created_after = forms.DateField(
        label="From",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_countable_day],
    )
    created_before = forms.DateField(
        label="To",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_countable_day],
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("created_after"), data.get("created_before")
        if start and end and start > end:
            raise forms.ValidationError("The start date is after the end date.")
        return data

    def period(self, *, today: date) -> analytics.DateRange:
        """The chosen days, or the last 90 days (today included) when none are given."""
        data = self.cleaned_data if self.is_valid() else {}
        end = data.get("created_before") or today
        start = data.get("created_after") or end - timedelta(days=DEFAULT_DAYS - 1)
        return analytics.DateRange(start=start, end=end)


class FormAnalyticsMixin:
    """Adds ``analytics/`` (every form) and ``<id>/analytics/`` (one form) to the forms' ModelAdmin."""

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view  # type: ignore[attr-defined]
        return [
            path("analytics/", view(self.analytics_view), name="leads_captureform_analytics"),
            path("<int:form_id>/analytics/", view(self.form_analytics_view), name="leads_captureform_form_analytics"),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def _analytics_context(self, request: HttpRequest, title: str) -> tuple[dict[str, Any], analytics.DateRange | None]:
        """The page's context and the days to count: none when the dates given do not validate."""
        model_admin: Any = self
        if not model_admin.has_view_permission(request):
            raise PermissionDenied
        range_form = AnalyticsRangeForm(request.GET or None)
        context = {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.opts,
            "title": title,
            "range_form": range_form,
        }
        if range_form.is_bound and not range_form.is_valid():
            # Shown as an error with no figures, as on the reports page: counted over the default 90 days
            # instead, they would be another period's.
            return context, None
        period = range_form.period(today=timezone.now().date())
        if not range_form.is_bound:
            # The default range shows in the date fields, as the reports show theirs.
            range_form = AnalyticsRangeForm(initial={"created_after": period.start, "created_before": period.end})
        context |= {"range_form": range_form, "period": period}
        return context, period

    def analytics_view(self, request: HttpRequest) -> HttpResponse:
        context, period = self._analytics_context(request, "Form analytics")
        if period is None:
            return TemplateResponse(request, "admin/leads/captureform/analytics.html", context, status=400)
        funnels = analytics.form_funnels(forms=CaptureForm.objects.order_by("name"), period=period)
        chart = {
            "labels": [funnel.form.name for funnel in funnels],
            "conversion": [funnel.conversion_rate or 0 for funnel in funnels],
            "mql": [funnel.mql_rate or 0 for funnel in funnels],
        }
        context.update(funnels=funnels, chart=chart, query=request.GET.urlencode())
        return TemplateResponse(request, "admin/leads/captureform/analytics.html", context)

    def form_analytics_view(self, request: HttpRequest, form_id: int) -> HttpResponse:
        capture_form = CaptureForm.objects.filter(pk=form_id).first()
        if capture_form is None:
            raise Http404("No such form.")
        context, period = self._analytics_context(request, f"Analytics: {capture_form.name}")
        context["capture_form"] = capture_form
        if period is None:
            return TemplateResponse(request, "admin/leads/captureform/form_analytics.html", context, status=400)
        funnel = analytics.form_funnels(forms=[capture_form], period=period)[0]
        series = analytics.daily_series(form=capture_form, period=period)
        context.update(
            funnel=funnel,
            chart={"labels": series.labels, "views": series.views, "submissions": series.submissions},
            query=request.GET.urlencode(),
        )
        return TemplateResponse(request, "admin/leads/captureform/form_analytics.html", context)
