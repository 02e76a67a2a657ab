"""The report filters: created date range, form, campaign and team (django-filter)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet

from handoff.models import Team
from leads.models import Activity, ActivityKind, CaptureForm, Lead, Submission
from reports.selectors import ReportScope


def form_choices() -> list[tuple[str, str]]:
    return list(CaptureForm.objects.order_by("name").values_list("slug", "name"))


def team_choices() -> list[tuple[str, str]]:
    return list(Team.objects.order_by("name").values_list("slug", "name"))


class ReportFilter(django_filters.FilterSet):
    created = django_filters.DateFromToRangeFilter(
        field_name="created_at",
        label="Created",
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date", "class": "form-control form-control-sm"}),
    )
    form = django_filters.ChoiceFilter(
        label="Form", choices=form_choices, method="filter_form", empty_label="All forms"
    )
    campaign = django_filters.CharFilter(field_name="first_touch_campaign", label="Campaign")
    team = django_filters.ChoiceFilter(
        field_name="routing_team", label="Team", choices=team_choices, empty_label="All teams"
    )

    class Meta:
        model = Lead
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields = self.form.fields
        for name in ("form", "team"):
            fields[name].widget.attrs["class"] = "form-select form-select-sm"
        fields["campaign"].widget.attrs.update({"class": "form-control form-control-sm", "list": "campaigns"})

    def filter_form(self, queryset: QuerySet[Lead], name: str, value: str) -> QuerySet[Lead]:
        """Leads that submitted the form: by its submissions, or by the form named on a form_submitted activity.

        The activity covers leads captured before submissions were stored (and the demo leads).
        """
        submitted = Submission.objects.filter(form__slug=value).values("lead_id")
        recorded = Activity.objects.filter(kind=ActivityKind.FORM_SUBMITTED, metadata__form=value).values("lead_id")
        return queryset.filter(Q(pk__in=submitted) | Q(pk__in=recorded))

    def scope(self, *, period: str, volume_by: str) -> ReportScope:
        """The filtered leads with what the other reports need to know about the filters."""
        leads = self.qs
        values: dict[str, Any] = getattr(self.form, "cleaned_data", {})
        created = values.get("created")
        return ReportScope(
            leads=leads,
            created_from=created.start if created else None,
            created_to=created.stop if created else None,
            campaign=values.get("campaign") or "",
            is_filtered=any(value for value in values.values()),
            period=period,
            volume_by=volume_by,
        )
