from __future__ import annotations

from datetime import date, timedelta

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, QueryDict, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from core.typing import AuthenticatedHttpRequest
from leads.models import Lead
from reports.csv import csv_lines
from reports.filters import ReportFilter
from reports.forms import ReportOptionsForm
from reports.selectors import TABLE_KEYS, Report
from reports.selectors.base import RollupFilter
from reports.selectors.rollups import build_progress, marked_days

DEFAULT_DAYS = 90
ALL_TIME = "all"


@require_GET
@login_required
@permission_required("leads.view_reports", raise_exception=True)
def index(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    today = timezone.localdate()
    query = _with_default_range(request.GET, today=today)
    filters = ReportFilter(query, queryset=Lead.objects.all())
    options = ReportOptionsForm(query)
    context = {
        "filters": filters,
        "options": options,
        "query": query,
        "is_all_time": query.get("range") == ALL_TIME and not _has_dates(query),
        "range_urls": _range_urls(query, today=today),
    }
    if not (filters.is_valid() and options.is_valid()):
        # A filter that does not validate (a reversed range, a form that does not exist) is shown as an error with
        # no figures, on the page and for an export: counted without it, they would be another range's (all time).
        # So is an option it does not know (?period=fortnight): the default put in its place is not what was asked.
        return render(request, "reports/index.html", context, status=400)
    report = Report(filters.scope(**options.choices()))
    export = query.get("export")
    if export is not None:
        return _export(report, export)
    context |= {
        "tables": report.tables(),
        "campaigns": report.campaigns(),
        "export_urls": _export_urls(query),
        **_freshness(report.scope.rollup),
    }
    return render(request, "reports/index.html", context)


def _freshness(rollup: RollupFilter | None) -> dict[str, object]:
    """What the page says of how fresh its numbers are: when the rollups were refreshed and how many changed days
    that refresh left to the next ones, or which tables are counted live and how many days a build has to count."""
    sla_is_live = rollup is None or not rollup.has_sla
    # Asked only when a table is read live: how many days a build in steps has still to count.
    days_to_build = build_progress() if sla_is_live else None
    return {
        "refreshed_at": rollup.refreshed_at if rollup else None,
        "sla_is_live": sla_is_live,
        "days_to_build": days_to_build,
        # Changes to older leads that "as of" does not cover yet: a refresh whose budget ran out left their marks.
        "days_to_add": marked_days() if rollup and days_to_build is None else None,
    }


def _with_default_range(params: QueryDict, *, today: date) -> QueryDict:
    """The page opens on the last 90 days (today included) unless dates or ``range=all`` are given; the
    dates are written into the query, so the form, the export links and the CSV all show the same range."""
    if _has_dates(params) or params.get("range") == ALL_TIME:
        return params
    query = params.copy()
    query["created_after"] = (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat()
    return query


def _has_dates(params: QueryDict) -> bool:
    return bool(params.get("created_after") or params.get("created_before"))


def _range_urls(query: QueryDict, *, today: date) -> dict[str, str]:
    """The current filters over the last 90 days, and over all time."""
    base = query.copy()
    for key in ("created_after", "created_before", "range", "export"):
        base.pop(key, None)
    recent, everything = base.copy(), base.copy()
    recent["created_after"] = (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat()
    everything["range"] = ALL_TIME
    return {"recent": f"?{recent.urlencode()}", "all": f"?{everything.urlencode()}"}


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


def _export_urls(params: QueryDict) -> dict[str, str]:
    """The page's own filters plus ``export=<table>``, for each table's download link."""
    query = params.copy()
    urls = {}
    for key in TABLE_KEYS:
        query["export"] = key
        urls[key] = f"?{query.urlencode()}"
    return urls
