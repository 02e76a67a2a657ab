"""The rule-effectiveness page in scoring admin (``/admin/scoring/rule-effectiveness/``).

Wrapped in ``admin.site.admin_view`` in leadsite.urls (staff only). Reading needs the permission to view
scoring rules; the what-if preview of a suggested change (it scores the leads, nothing saved) needs the
permission to change them, as the rule form's own preview does.
"""

from __future__ import annotations

from datetime import UTC, date, timedelta

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from core.validators import validate_countable_day
from scoring import effectiveness, effectiveness_rollups, services
from scoring.models import ScoringModel, ScoringRule

DEFAULT_PERIOD = timedelta(days=90)


class PeriodForm(forms.Form):
    start = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        label="Created from",
        validators=[validate_countable_day],
    )
    end = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        label="to (inclusive)",
        validators=[validate_countable_day],
    )

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if isinstance(start, date) and isinstance(end, date) and start > end:
            raise forms.ValidationError("The start date is after the end date.")
        return cleaned


class PreviewForm(forms.Form):
    rule = forms.IntegerField(widget=forms.HiddenInput)
    points = forms.IntegerField(min_value=-10_000, max_value=10_000)


def rule_effectiveness(request: HttpRequest) -> HttpResponse:
    """Per rule of the active model: fired, MQL and SQL rates against the rest, lift, carried, a suggestion."""
    if not request.user.has_perm("scoring.view_scoringrule"):
        raise PermissionDenied
    model = ScoringModel.objects.filter(is_active=True).first()
    period = PeriodForm(request.GET or None)
    today = timezone.now().astimezone(UTC).date()
    start_day, end_day = today - DEFAULT_PERIOD, today
    if period.is_valid():
        start_day = period.cleaned_data.get("start") or start_day
        end_day = period.cleaned_data.get("end") or end_day
    context = {
        **admin.site.each_context(request),
        "title": "Scoring rule effectiveness",
        "period": period,
        "start_day": start_day,
        "end_day": end_day,
        "model": model,
        "min_sample": effectiveness.MIN_SAMPLE,
        "can_preview": request.user.has_perm("scoring.change_scoringrule"),
    }
    if request.method == "POST" and not context["can_preview"]:
        raise PermissionDenied
    # Dates that do not validate get their error and no figures (400), as on the reports page: counted over the
    # default dates instead, they would be another period's. Nor a preview: its figures beside the error would
    # read as the answer to a request the page refused.
    if period.errors:
        return render(request, "admin/scoring/rule_effectiveness.html", context, status=400)
    if model is not None:
        context["report"] = effectiveness.rule_effectiveness(model=model, first_day=start_day, last_day=end_day)
        context["freshness"] = effectiveness_rollups.rollup_freshness()
    if request.method == "POST":
        context.update(_preview(request))
    return render(request, "admin/scoring/rule_effectiveness.html", context)


def _preview(request: HttpRequest) -> dict[str, object]:
    form = PreviewForm(request.POST)
    if not form.is_valid():
        return {"preview_form": form}
    rule = get_object_or_404(ScoringRule.objects.select_related("scoring_model"), pk=form.cleaned_data["rule"])
    rule.points = form.cleaned_data["points"]  # unsaved: the preview scores with it, nothing is written
    return {
        "preview_form": form,
        "preview_rule": rule,
        "what_if": services.preview_rule_change(rule=rule, now=timezone.now()),
    }
