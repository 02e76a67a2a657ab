from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from reports import selectors


@require_GET
@login_required
@permission_required("leads.view_reports", raise_exception=True)
def index(request: HttpRequest) -> HttpResponse:
    context = {
        "by_stage": selectors.leads_by_stage(),
        "by_country": selectors.leads_by_country(),
        "weekly": selectors.weekly_lead_volume(now=timezone.now()),
    }
    return render(request, "reports/index.html", context)
