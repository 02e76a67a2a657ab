"""The leads app's API views. Each checks access (by its declared scope and permissions), parses input
through a serializer, and calls the same services as the pages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from leads import services
from leads.api.idempotency import IDEMPOTENCY_KEY_PARAMETER, IDEMPOTENCY_RESPONSES, idempotent
from leads.api.serializers import (
    ActivitiesQuerySerializer,
    ActivitiesRecordedSerializer,
    ActivityErrorsSerializer,
    ActivityInSerializer,
    ErrorDetailSerializer,
)
from leads.models import Lead
from leads.normalise import normalise_email

MAX_BATCH = 500

_AUTH_RESPONSES = {
    401: OpenApiResponse(ErrorDetailSerializer, description="No credentials, or an invalid, revoked or expired key."),
    403: OpenApiResponse(ErrorDetailSerializer, description="The key's scope or the person's role does not allow it."),
    429: OpenApiResponse(ErrorDetailSerializer, description="Too many requests for this key; retry after a while."),
}

_WEBINAR = {
    "email": "ada@acme.example",
    "kind": "webinar_attended",
    "occurred_at": "2026-03-02T15:00:00Z",
    "metadata": {"external_id": "zoom-8812-ada", "webinar": "Q3 roadmap"},
}
_CLICK = {
    "lead_id": 42,
    "kind": "email_clicked",
    "occurred_at": "2026-03-02T09:12:00Z",
    "metadata": {"external_id": "esp-click-991", "url": "https://www.example.com/pricing"},
}


@extend_schema(tags=["activities"])
class RecordActivitiesView(APIView):
    required_scope = "capture"
    required_permissions = ("leads.add_activity",)

    @extend_schema(
        operation_id="activities_create",
        summary="Record activities",
        description=(
            "Record what leads did (a webinar attended, an email clicked …), one activity or a batch of up to "
            f"{MAX_BATCH}. Each lead is named by `email` or `lead_id`; activities create no leads. Every lead "
            "that got an activity is rescored in the background.\n\n"
            "A batch is all or nothing: with any invalid item (or, by default, an unknown lead) nothing is "
            "stored and the 400 response lists each invalid item by its position. With `?unknown=skip`, items "
            "whose lead is unknown are left out and listed under `skipped`.\n\n"
            "Resending is safe: an activity with the same `metadata.external_id` (for the same lead and kind) "
            "is stored once, and an `Idempotency-Key` header replays the first response.\n\n"
            "Needs an integration key with the `capture` or `full` scope, or a person allowed to add activities."
        ),
        parameters=[
            OpenApiParameter(
                "unknown",
                enum=["reject", "skip"],
                default="reject",
                description=ActivitiesQuerySerializer().fields["unknown"].help_text,
            ),
            IDEMPOTENCY_KEY_PARAMETER,
        ],
        request=PolymorphicProxySerializer(
            component_name="ActivityInput",
            serializers=[ActivityInSerializer, ActivityInSerializer(many=True)],
            resource_type_field_name=None,
            many=False,
        ),
        responses={
            201: ActivitiesRecordedSerializer,
            400: OpenApiResponse(ActivityErrorsSerializer, description="Invalid input; nothing was stored."),
            **_AUTH_RESPONSES,
            **IDEMPOTENCY_RESPONSES,
        },
        examples=[
            OpenApiExample("One activity", value=_WEBINAR, request_only=True),
            OpenApiExample("A batch", value=[_WEBINAR, _CLICK], request_only=True),
            OpenApiExample(
                "Recorded",
                value={
                    "activities": [
                        {
                            "index": 0,
                            "id": 1201,
                            "lead_id": 7,
                            "kind": "webinar_attended",
                            "occurred_at": "2026-03-02T15:00:00Z",
                        },
                        {
                            "index": 1,
                            "id": 1202,
                            "lead_id": 42,
                            "kind": "email_clicked",
                            "occurred_at": "2026-03-02T09:12:00Z",
                        },
                    ],
                    "skipped": [],
                },
                response_only=True,
                status_codes=["201"],
            ),
            OpenApiExample(
                "Unknown lead",
                value={
                    "detail": "No activity was stored: 1 of 2 items are invalid.",
                    "items": [{"index": 1, "errors": {"lead_id": ["No lead has this id."]}}],
                },
                response_only=True,
                status_codes=["400"],
            ),
        ],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        query = ActivitiesQuerySerializer(data=request.query_params)
        if not query.is_valid():
            return _invalid("The query parameter unknown must be “reject” or “skip”.")
        items = _items_of(request.data)
        if items is None:
            return _invalid(f"Send one activity object, or a list of 1 to {MAX_BATCH} of them.")
        now = timezone.now()
        serializer = ActivityInSerializer(data=items, many=True, context={"now": now})
        if not serializer.is_valid():
            return _invalid_items(_item_errors(serializer.errors), total=len(items))
        validated: list[dict[str, Any]] = serializer.validated_data
        leads = _leads_for(validated)
        unknown = [{"index": i, "errors": _unknown_lead(item)} for i, item in enumerate(validated) if leads[i] is None]
        if unknown and query.validated_data["unknown"] == "reject":
            return _invalid_items(unknown, total=len(items))
        recorded = _record_all(validated, leads, now=now)
        return Response(ActivitiesRecordedSerializer({"activities": recorded, "skipped": unknown}).data, status=201)


def _items_of(data: object) -> list[Any] | None:
    if isinstance(data, dict):
        return [data]
    if isinstance(data, list) and 0 < len(data) <= MAX_BATCH:
        return data
    return None


def _record_all(
    items: Sequence[dict[str, Any]], leads: Sequence[Lead | None], *, now: datetime
) -> list[dict[str, Any]]:
    """Record each item whose lead is known, in one transaction: a batch is stored whole or not at all."""
    recorded = []
    with transaction.atomic():
        for index, (item, lead) in enumerate(zip(items, leads, strict=True)):
            if lead is None:
                continue
            activity = services.record_activity(
                lead=lead, kind=item["kind"], occurred_at=item["occurred_at"], now=now, metadata=item.get("metadata")
            )
            recorded.append({"index": index, "activity": activity})
    return recorded


def _invalid(detail: str, items: Sequence[dict[str, Any]] = ()) -> Response:
    return Response(ActivityErrorsSerializer({"detail": detail, "items": list(items)}).data, status=400)


def _invalid_items(items: Sequence[dict[str, Any]], *, total: int) -> Response:
    return _invalid(f"No activity was stored: {len(items)} of {total} items are invalid.", items)


def _item_errors(errors: Mapping[int, Any] | Sequence[Any]) -> list[dict[str, Any]]:
    # DRF reports a list serializer's errors by position: a dict of the invalid ones, or a list of all.
    pairs = errors.items() if isinstance(errors, Mapping) else enumerate(errors)
    return [{"index": index, "errors": item} for index, item in sorted(pairs) if item]


def _unknown_lead(item: dict[str, Any]) -> dict[str, list[str]]:
    if "email" in item:
        return {"email": ["No lead has this email address."]}
    return {"lead_id": ["No lead has this id."]}


def _leads_for(items: Sequence[dict[str, Any]]) -> list[Lead | None]:
    """Each item's lead, found in two queries for the whole batch; None where there is none."""
    emails = {normalise_email(item["email"]) for item in items if "email" in item}
    by_email = {lead.email: lead for lead in Lead.objects.filter(email__in=emails)} if emails else {}
    by_id = Lead.objects.in_bulk({item["lead_id"] for item in items if "lead_id" in item})
    return [
        by_email.get(normalise_email(item["email"])) if "email" in item else by_id.get(item["lead_id"])
        for item in items
    ]
