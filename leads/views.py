from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from leads.roles import landing_url_name


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Send each user to where their role works: reps to the inbox, managers to reports, marketers to admin."""
    name = landing_url_name(request.user)
    if name == "no_role":
        return render(request, "leads/no_role.html", status=403)
    return redirect(name)


@require_GET
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for load balancers: the process is up and the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
