"""Read-only API of the nurture app: the tracks, and a lead's enrollments with every email sent."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core import roles
from core.api import ErrorDetailSerializer
from leads.api.schema import AUTH_RESPONSES, LEAD_ID_PARAMETER
from leads.models import Lead
from nurture import selectors
from nurture.models import Enrollment, Send, Step, Track


class StepSerializer(serializers.ModelSerializer):
    class Meta:
        model = Step
        fields = ["position", "delay_days", "subject", "is_active"]


class TrackSerializer(serializers.ModelSerializer):
    steps = StepSerializer(many=True, read_only=True)

    class Meta:
        model = Track
        fields = ["key", "name", "status", "is_default_below_threshold", "is_default_recycle", "steps"]


class SendSerializer(serializers.ModelSerializer):
    class Meta:
        model = Send
        fields = ["position", "subject", "status", "created_at", "sent_at", "first_clicked_at", "click_count",
                  "unsubscribed_at", "bounced_at", "complained_at"]  # fmt: skip


class EnrollmentSerializer(serializers.ModelSerializer):
    track = serializers.CharField(source="track.key")
    sends = SendSerializer(many=True, source="sends_list")

    class Meta:
        model = Enrollment
        fields = ["id", "track", "source", "reason", "status", "started_at", "until", "last_position", "next_due_at",
                  "ended_at", "exit_reason", "exit_note", "sends"]  # fmt: skip


_TRACK = {
    "key": "startup", "name": "Start-up nurture", "status": "live", "is_default_below_threshold": False,
    "is_default_recycle": False,
    "steps": [{"position": 1, "delay_days": 0, "subject": "{{ first_name }}, your playbook", "is_active": True}],
}  # fmt: skip
_ENROLLMENT = {
    "id": 7, "track": "startup", "source": "routing", "reason": "Rule “Start-ups → nurture” matched.",
    "status": "exited", "started_at": "2026-03-02T10:00:00Z", "until": None, "last_position": 1,
    "next_due_at": None, "ended_at": "2026-03-04T09:12:00Z", "exit_reason": "mql", "exit_note": "",
    "sends": [{
        "position": 1, "subject": "Ada, the start-up playbook", "status": "sent", "created_at": "2026-03-02T10:00:00Z",
        "sent_at": "2026-03-02T10:00:01Z", "first_clicked_at": "2026-03-04T09:10:00Z", "click_count": 1,
        "unsubscribed_at": None, "bounced_at": None, "complained_at": None,
    }],
}  # fmt: skip


@extend_schema(
    tags=["nurture"],
    summary="List the nurture tracks",
    responses={
        200: OpenApiResponse(
            TrackSerializer(many=True),
            description="Every track with its steps.",
            # One item: drf-spectacular puts a list response's example into a list itself.
            examples=[OpenApiExample("Tracks", value=_TRACK)],
        ),
        **AUTH_RESPONSES,
    },
)
class TrackListView(APIView):
    """Every nurture track with its steps (the bodies are edited in admin)."""

    required_permissions = ("nurture.view_track",)

    def get(self, request: Request) -> Response:
        tracks = Track.objects.prefetch_related("steps").order_by("name")
        return Response(TrackSerializer(tracks, many=True).data)


@extend_schema(
    tags=["nurture"],
    summary="A lead's nurture enrollments and emails",
    parameters=[LEAD_ID_PARAMETER],
    responses={
        200: OpenApiResponse(
            EnrollmentSerializer(many=True),
            description="The lead's enrollments, newest first, each with the emails sent.",
            examples=[OpenApiExample("An enrollment ended by a click that made the lead an MQL", value=_ENROLLMENT)],
        ),
        404: OpenApiResponse(ErrorDetailSerializer, description="No lead has this id (among those you may see)."),
        **AUTH_RESPONSES,
    },
)
class LeadNurtureView(APIView):
    """A lead's nurture enrollments, newest first, each with the emails sent; a lead you may not see is a 404."""

    def get(self, request: Request, lead_id: str) -> Response:
        user = request.user
        is_key = getattr(request.auth, "is_integration", False)
        if not is_key and not (user.has_perm("leads.view_lead") or user.has_perm("handoff.work_inbox")):
            raise PermissionDenied("Your account does not have the permissions this request needs.")
        visible = roles.scoped_leads(request.user, Lead.objects.all())
        # Matched as any path segment, so a malformed id is a JSON 404 rather than Django's HTML one.
        # An id of at most 18 digits: a longer one fits no column, and int() refuses one of thousands (a 500).
        is_id = lead_id.isascii() and lead_id.isdigit() and len(lead_id) <= 18
        lead = visible.filter(pk=int(lead_id)).first() if is_id else None
        if lead is None:
            raise NotFound("No lead has this id.")
        return Response(EnrollmentSerializer(selectors.lead_history(lead), many=True).data)
