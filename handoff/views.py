from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from handoff import selectors


@require_GET
@login_required
@permission_required("leads.work_inbox", raise_exception=True)
def inbox(request: HttpRequest) -> HttpResponse:
    leads = selectors.inbox_leads(user=request.user)
    page = Paginator(leads, 50).get_page(request.GET.get("page"))
    return render(request, "handoff/inbox.html", {"page": page})
