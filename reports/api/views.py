"""The reports page's numbers as JSON: the funnel and channel attribution, with the page's own filters."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from leads.api.serializers import ErrorDetailSerializer
from leads.models import Lead
from reports.api.serializers import ReportTableSerializer
from reports.filters import ReportFilter
from reports.selectors import Report, Table

_AUTH_RESPONSES = {
    401: OpenApiResponse(ErrorDetailSerializer, description="No credentials, or an invalid, revoked or expired key."),
    403: OpenApiResponse(ErrorDetailSerializer, description="The key's scope or the person's role does not allow it."),
    429: OpenApiResponse(ErrorDetailSerializer, description="Too many requests for this key; retry after a while."),
}
_FILTERS = [
    OpenApiParameter(
        "created_after", OpenApiTypes.DATE, description="Leads created on or after this day (`2026-03-01`)."
    ),
    OpenApiParameter("created_before", OpenApiTypes.DATE, description="Leads created on or before this day."),
    OpenApiParameter("form", OpenApiTypes.STR, description="Leads that submitted this form (its slug)."),
    OpenApiParameter("campaign", OpenApiTypes.STR, description="Leads whose first touch had this campaign."),
    OpenApiParameter("team", OpenApiTypes.STR, description="Leads routed to this team (its slug)."),
]
_FILTERS_TEXT = (
    "Filters, as on the reports page: `created_after`/`created_before` (days, both inclusive), `form` (a form's "
    "slug), `campaign` (the first touch's) and `team` (a team's slug). An unknown form or team is a 400.\n\n"
    "Needs a person allowed to view the reports (managers, marketers), or an integration key with the `read` or "
    "`full` scope."
)
_INVALID = OpenApiResponse(OpenApiTypes.OBJECT, description="An invalid filter: the messages by filter.")
_INVALID_EXAMPLE = OpenApiExample(
    "An unknown team",
    value={"team": ["Select a valid choice. mars is not one of the available choices."]},
    response_only=True,
    status_codes=["400"],
)


class _ReportTableView(APIView):
    required_scope = "read"
    required_permissions = ("leads.view_reports",)

    def table(self, report: Report) -> Table:
        raise NotImplementedError

    def get(self, request: Request) -> Response:
        filters = ReportFilter(request.query_params, queryset=Lead.objects.all())
        if not filters.is_valid():
            return Response(filters.errors, status=400)
        report = Report(filters.scope(period="week", volume_by="channel"))
        return Response(ReportTableSerializer(self.table(report)).data)


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
            "step. A lead counts as an MQL or SQL if it ever reached that stage.\n\n" + _FILTERS_TEXT
        ),
        parameters=_FILTERS,
        responses={200: ReportTableSerializer, 400: _INVALID, **_AUTH_RESPONSES},
        examples=[
            OpenApiExample(
                "The funnel",
                value={
                    "key": "funnel",
                    "title": "Lead → MQL → SQL funnel",
                    "note": "Median time from the previous step …",
                    "columns": [
                        {"key": "stage", "label": "Stage", "kind": "text", "group": ""},
                        {"key": "leads", "label": "Leads", "kind": "int", "group": ""},
                        {"key": "from_previous", "label": "From previous", "kind": "pct", "group": ""},
                        {"key": "from_leads", "label": "From all leads", "kind": "pct", "group": ""},
                        {"key": "median_time", "label": "Median time", "kind": "hours", "group": ""},
                    ],
                    "rows": [
                        {"stage": "Lead", "leads": 200, "from_previous": None, "from_leads": 1.0, "median_time": None},
                        {"stage": "MQL", "leads": 50, "from_previous": 0.25, "from_leads": 0.25, "median_time": 30.5},
                        {"stage": "SQL", "leads": 10, "from_previous": 0.2, "from_leads": 0.05, "median_time": 52.0},
                    ],
                },
                response_only=True,
                status_codes=["200"],
            ),
            _INVALID_EXAMPLE,
        ],
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
            '"All channels", is the total.\n\n' + _FILTERS_TEXT
        ),
        parameters=_FILTERS,
        responses={200: ReportTableSerializer, 400: _INVALID, **_AUTH_RESPONSES},
        examples=[
            OpenApiExample(
                "Two channels",
                value={
                    "key": "attribution",
                    "title": "Attribution by channel: first, last, linear and position-based",
                    "note": "Each lead gives one credit in total …",
                    "columns": [
                        {"key": "channel", "label": "Channel", "kind": "text", "group": ""},
                        {"key": "leads_first", "label": "First", "kind": "credit", "group": "Leads"},
                        {"key": "leads_linear", "label": "Linear", "kind": "credit", "group": "Leads"},
                    ],
                    "rows": [
                        {"channel": "Paid social", "leads_first": 12.0, "leads_linear": 9.5},
                        {"channel": "Organic search", "leads_first": 8.0, "leads_linear": 10.5},
                        {"channel": "All channels", "leads_first": 20.0, "leads_linear": 20.0},
                    ],
                },
                response_only=True,
                status_codes=["200"],
            ),
            _INVALID_EXAMPLE,
        ],
    )
    def get(self, request: Request) -> Response:
        return super().get(request)
