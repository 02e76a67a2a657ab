"""The report filters: created date range, form, campaign and team (django-filter)."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import django_filters
from django.db.models import QuerySet

from core.rollup_days import day_bounds
from handoff.models import Team
from leads.models import CaptureForm, Lead
from reports.forms import ReportFilterForm
from reports.models import ALL_FORMS
from reports.selectors import ReportScope
from reports.selectors.base import RollupFilter, leads_of_form, report_zone
from reports.selectors.rollups import rollup_state


def form_choices() -> list[tuple[str, str]]:
    return list(CaptureForm.objects.order_by("name").values_list("slug", "name"))


def team_choices() -> list[tuple[str, str]]:
    return list(Team.objects.order_by("name").values_list("slug", "name"))


class ReportFilter(django_filters.FilterSet):
    created = django_filters.DateFromToRangeFilter(
        field_name="created_at",
        label="Created",
        method="filter_created",
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date", "class": "form-control form-control-sm"}),
    )
    form = django_filters.ChoiceFilter(
        label="Form", choices=form_choices, method="filter_form", empty_label="All forms"
    )
    campaign = django_filters.CharFilter(field_name="first_touch_campaign", label="Campaign")
    team = django_filters.ChoiceFilter(
        field_name="routing_decision__team__slug", label="Team", choices=team_choices, empty_label="All teams"
    )

    class Meta:
        model = Lead
        fields: list[str] = []
        form = ReportFilterForm  # a reversed date range is an error, not an empty report

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields = self.form.fields
        for name in ("form", "team"):
            fields[name].widget.attrs["class"] = "form-select form-select-sm"
        fields["campaign"].widget.attrs.update({"class": "form-control form-control-sm", "list": "campaigns"})

    def filter_created(self, queryset: QuerySet[Lead], name: str, value: slice) -> QuerySet[Lead]:
        """From the first day's midnight up to, not including, the midnight after the last day: the same instants as
        the rollups' days (``day_bounds``). django-filter's own end, 23:59:59.999999, leaves out an hour the clocks
        repeated at midnight (Cairo, Santiago at the end of summer time)."""
        if value.start is not None:
            queryset = queryset.filter(created_at__gte=value.start)
        if value.stop is not None:
            zone = report_zone()
            last = value.stop.astimezone(zone).date()
            queryset = queryset.filter(created_at__lt=day_bounds(last, last, zone=zone)[1])
        return queryset

    def filter_form(self, queryset: QuerySet[Lead], name: str, value: str) -> QuerySet[Lead]:
        return leads_of_form(queryset, value)

    def scope(self, *, period: str, volume_by: str, use_rollups: bool = True) -> ReportScope:
        """The filtered leads with what the other reports need to know about the filters; ``use_rollups=False``
        computes every number from the leads (the tests compare the two)."""
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
            rollup=self._rollup_filter(values) if use_rollups else None,
        )

    def _rollup_filter(self, values: dict[str, Any]) -> RollupFilter | None:
        """The filters as the rollups are keyed, or None where the rollups cannot answer them and the report
        reads the leads live instead: while the rollups have never been built, for filters that do not
        validate, and for a date range whose days do not start at midnight in the site's time zone (the rollups
        count leads by its days, ``report_zone``). Form, campaign and team are rollup keys of their own."""
        if not self.is_valid():
            return None
        created = values.get("created")
        start, stop = (created.start, created.stop) if created else (None, None)
        zone = report_zone()
        if start is not None and start.astimezone(zone).time() != time.min:
            return None
        if stop is not None and (stop + timedelta(microseconds=1)).astimezone(zone).time() != time.min:
            return None
        state = rollup_state()
        if state is None:
            return None
        return RollupFilter(
            refreshed_at=state.refreshed_at,
            day_from=start.astimezone(zone).date() if start is not None else None,
            day_to=stop.astimezone(zone).date() if stop is not None else None,
            form=values.get("form") or ALL_FORMS,
            campaign=values.get("campaign") or "",
            team=values.get("team") or "",
            has_sla=state.sla_rebuilt_at is not None,
        )
