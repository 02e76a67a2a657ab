"""The reports page's numbers as JSON: the funnel and channel attribution, with the page's own filters."""

from __future__ import annotations

from django.http import QueryDict
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from leads.api.schema import AUTH_RESPONSES
from leads.models import Lead
from reports.api.schema import ATTRIBUTION_EXAMPLES, FILTERS, FILTERS_TEXT, FUNNEL_EXAMPLES, INVALID_FILTER
from reports.api.serializers import ReportTableSerializer
from reports.filters import ReportFilter
from reports.selectors import Report, Table


class _ReportTableView(APIView):
    required_scope = "read"
    required_permissions = ("leads.view_reports",)

    def table(self, report: Report) -> Table:
        raise NotImplementedError

    def get(self, request: Request) -> Response:
        filters = ReportFilter(request.query_params, queryset=Lead.objects.all())
        if not filters.is_valid():
            return Response(_errors_by_parameter(filters, request.query_params), status=400)
        report = Report(filters.scope(period="week", volume_by="channel"))
        return Response(ReportTableSerializer(self.table(report)).data)


def _errors_by_parameter(filters: ReportFilter, params: QueryDict) -> dict[str, list[str]]:
    """The filters' messages keyed by the query parameters sent, so a client can tell which one is wrong.

    The filter set keys the day range's messages ``created``, one filter read from two parameters: each
    sent alone says whether it is wrong by itself (not a date, beyond the years); when neither is, the
    pair is (a reversed range) and both are named.
    """
    errors = {name: list(messages) for name, messages in filters.errors.items() if name != "created"}
    if "created" not in filters.errors:
        return errors
    widget = filters.form.fields["created"].widget
    sent = [name for name in (widget.suffixed("created", suffix) for suffix in widget.suffixes) if name in params]
    alone = {name: ReportFilter({name: params[name]}, queryset=filters.queryset).errors for name in sent}
    wrong = {name: list(errors_alone["created"]) for name, errors_alone in alone.items() if "created" in errors_alone}
    # Each day is right by itself, so the pair is wrong (a reversed range): name both.
    messages = list(filters.errors["created"])
    return {**errors, **(wrong or dict.fromkeys(sent, messages) or {"created": messages})}


@extend_schema(tags=["reports"])
class FunnelReportView(_ReportTableView):
    def table(self, report: Report) -> Table:
        return report.funnel()

    @extend_schema(
        operation_id="reports_funnel",
        summary="Lead → MQL → SQL funnel",
        description=(
            "The funnel of the reports page: leads, those that reached MQL and SQL, the conversion from the "
            "previous step and from all leads (fractions: 0.25 is 25%), and the median hours from the previous "
            "step. A lead counts as an MQL or SQL if it ever reached that stage.\n\n" + FILTERS_TEXT
        ),
        parameters=FILTERS,
        responses={200: ReportTableSerializer, 400: INVALID_FILTER, **AUTH_RESPONSES},
        examples=FUNNEL_EXAMPLES,
    )
    def get(self, request: Request) -> Response:
        return super().get(request)


@extend_schema(tags=["reports"])
class AttributionReportView(_ReportTableView):
    def table(self, report: Report) -> Table:
        return report.attribution()

    @extend_schema(
        operation_id="reports_attribution",
        summary="Attribution by channel",
        description=(
            "The attribution table of the reports page: for each channel, the credit for leads, MQLs and SQLs "
            "under four models (`first` touch, `last` touch, `linear`, `position` 40/20/40), keyed "
            "`<measure>_<model>` (`mqls_linear`). Each lead gives one credit in total; the last row, "
            '"All channels", is the total.\n\n' + FILTERS_TEXT
        ),
        parameters=FILTERS,
        responses={200: ReportTableSerializer, 400: INVALID_FILTER, **AUTH_RESPONSES},
        examples=ATTRIBUTION_EXAMPLES,
    )
    def get(self, request: Request) -> Response:
        return super().get(request)
