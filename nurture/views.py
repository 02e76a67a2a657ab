from __future__ import annotations

import json
import logging
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_safe
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.typing import AuthenticatedHttpRequest
from nurture import links, selectors, services
from nurture import signing as report_signing
from nurture.forms import ReportFilterForm
from nurture.models import Send

logger = logging.getLogger(__name__)

DEFAULT_DAYS = 90
ALL_TIME = "all"


@never_cache
@require_safe  # a link checker's HEAD is redirected too (and kept as a scanner's click)
def click(request: HttpRequest, token: str) -> HttpResponse:
    """A link in a nurture email: keep the click (a person's is scored, a mail scanner's is not) and go where it
    pointed, whoever asks."""
    try:
        send_id, url = links.read_click(token)
    except signing.BadSignature as error:
        raise Http404("No such link") from error
    if not links.is_trackable(url):
        raise Http404("No such link")
    user_agent = request.headers.get("User-Agent", "")
    services.record_click(
        send_id=send_id, url=url, now=timezone.now(), method=request.method or "", user_agent=user_agent
    )
    return HttpResponseRedirect(url)


@csrf_exempt  # RFC 8058: the mailbox provider POSTs without our cookie; the signed token is the authority.
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """The unsubscribe link: GET shows a button (mail scanners open links), POST (the button, or the mailbox
    provider's one-click ``List-Unsubscribe=One-Click``) withdraws consent and ends the enrollment."""
    try:
        send_id = links.read_unsubscribe(token)
    except signing.BadSignature as error:
        raise Http404("No such link") from error
    is_test = send_id == links.TEST_SEND
    if not is_test and not Send.objects.filter(pk=send_id).exists():
        raise Http404("No such link")
    done = False
    if request.method == "POST":
        done = True
        if not is_test:
            services.unsubscribe(send_id=send_id, now=timezone.now())
    elif not is_test:
        done = Send.objects.filter(pk=send_id, unsubscribed_at__isnull=False).exists()
    return render(request, "nurture/unsubscribe.html", {"done": done, "is_test": is_test})


class BounceSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["bounce", "complaint"])
    bounce_type = serializers.ChoiceField(choices=["hard", "soft"], required=False, default="hard")
    message_id = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    detail = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, str]) -> dict[str, str]:
        if not attrs.get("message_id") and not attrs.get("email"):
            raise serializers.ValidationError({"message_id": "Give the Message-ID of our email, or the email address."})
        return attrs


@extend_schema(exclude=True)  # the mail service's, signed with a shared secret: not part of the API
class BounceView(APIView):
    """Bounces and complaints from the mail service, as signed JSON (see README: *Nurture tracks*)."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes: list[type] = []  # signed by the mail service, which reports in bursts

    def post(self, request: Request) -> Response:
        secret = settings.NURTURE_BOUNCE_SECRET
        if not secret:
            return Response({"detail": "Bounce reports are not set up (NURTURE_BOUNCE_SECRET)."}, status=404)
        now = timezone.now()
        body = request.body
        if not report_signing.is_valid(secret, body, request.headers.get("X-Leadsite-Signature", ""), now=now):
            return Response({"detail": "Missing or invalid X-Leadsite-Signature."}, status=status.HTTP_403_FORBIDDEN)
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return Response({"detail": "The body is not JSON."}, status=status.HTTP_400_BAD_REQUEST)
        serializer = BounceSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        send = services.record_bounce(
            message_id=values["message_id"],
            email=values["email"],
            is_complaint=values["type"] == "complaint",
            is_hard=values["bounce_type"] == "hard",
            now=now,
            detail=values["detail"],
        )
        return Response({"matched": send is not None}, status=status.HTTP_200_OK)


@require_GET
@login_required
@permission_required("leads.view_reports", raise_exception=True)
def report(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The track report for marketers and managers, with the reports page's date filter (last 90 days by default)."""
    query = _with_default_range(request.GET, today=timezone.localdate())
    form = ReportFilterForm(query)
    context: dict[str, object] = {"form": form, "is_all_time": query.get("range") == ALL_TIME}
    if not form.is_valid():
        # Shown as an error with no figures, as on the reports page: counted without the dates that failed, they
        # would be another range's (all time).
        return render(request, "nurture/report.html", context, status=400)
    dates = form.cleaned_data
    rows = selectors.track_report(created_from=dates["created_after"], created_to=dates["created_before"])
    context |= {"rows": rows, "chart": selectors.chart_data(rows)}
    return render(request, "nurture/report.html", context)


def _with_default_range(params: QueryDict, *, today: date) -> QueryDict:
    if params.get("created_after") or params.get("created_before") or params.get("range") == ALL_TIME:
        return params
    query = params.copy()
    query["created_after"] = (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat()
    return query
