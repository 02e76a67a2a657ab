from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from leads.models import Lead
from reports.csv import csv_lines
from reports.filters import ReportFilter
from reports.forms import ReportOptionsForm
from reports.selectors import TABLE_KEYS, Report


@require_GET
@login_required
@permission_required("leads.view_reports", raise_exception=True)
def index(request: HttpRequest) -> HttpResponse:
    filters = ReportFilter(request.GET, queryset=Lead.objects.all())
    options = ReportOptionsForm(request.GET)
    report = Report(filters.scope(**options.choices()))
    if "export" in request.GET:
        return _export(report, request.GET["export"])
    context = {
        "filters": filters,
        "options": options,
        "tables": report.tables(),
        "campaigns": report.campaigns(),
        "export_urls": _export_urls(request),
    }
    return render(request, "reports/index.html", context)


def _export(report: Report, key: str) -> StreamingHttpResponse:
    table = report.table(key)
    if table is None:
        raise Http404("No such report table.")
    response = StreamingHttpResponse(
        csv_lines(table.csv_header(), table.csv_rows()), content_type="text/csv; charset=utf-8"
    )
    filename = f"leadsite-{table.key}-{timezone.now():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _export_urls(request: HttpRequest) -> dict[str, str]:
    """The page's own filters plus ``export=<table>``, for each table's download link."""
    query = request.GET.copy()
    urls = {}
    for key in TABLE_KEYS:
        query["export"] = key
        urls[key] = f"?{query.urlencode()}"
    return urls
