"""The leads API: the leads a caller may see, one lead in full, and the rep's stage actions.

Which leads a caller sees is the pages' rule (``handoff.selectors.visible_leads``): a rep their own, a
manager their teams' (and the unassigned MQLs routed to no team), a marketer (``leads.view_lead`` without
an inbox) every lead, and an integration key with the ``read`` or ``full`` scope every lead. The actions call
the same services as the lead page's buttons, for the rep the lead is assigned to.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from core.api import ErrorDetailSerializer
from core.idempotency import idempotent
from core.typing import AuthenticatedRequest
from handoff import selectors, services
from handoff.api.filters import LeadFilter
from handoff.api.schema import LEAD_DETAIL_EXAMPLES, LEAD_LIST_EXAMPLES, NOT_FOUND, rep_action_schema
from handoff.api.serializers import (
    AssignmentResultSerializer,
    ContactInSerializer,
    LeadDetailSerializer,
    LeadListSerializer,
    QualifyInSerializer,
    RecycleInSerializer,
    RejectInSerializer,
)
from handoff.models import Assignment
from handoff.pagination import utc_moment
from leads.api.schema import AUTH_RESPONSES, INVALID_INPUT, LEAD_ID_PARAMETER
from leads.models import Lead


def visible_leads(request: Request) -> QuerySet[Lead]:
    """The leads the caller may see, as the pages decide; an integration key (no person) sees every lead."""
    if getattr(request.auth, "is_integration", False):
        return Lead.objects.all()
    user = request.user
    if user.is_authenticated and user.has_perm("handoff.work_inbox"):  # HasRequiredScope lets no one anonymous in
        return selectors.visible_leads(user=user)
    if user.has_perm("leads.view_lead"):
        return Lead.objects.all()
    return Lead.objects.none()


# A list row reads these columns only: a lead's JSON columns cost more to read than the row is worth.
LIST_COLUMNS = [
    *(name for name in LeadListSerializer.Meta.fields if name not in ("name", "owner_id", "routing_team")),
    "owner",
    "routing_decision__team__slug",
]


class LeadCursorPagination(CursorPagination):
    """Newest first; a cursor (not a page number) stays fast and stable however many leads there are."""

    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    # DRF's cursor holds a created_at and, for leads sharing it, how many of them were passed. Its default cap on
    # that count (1,000) made the pages repeat for ever once more leads than that shared one instant (a system
    # sending a backlog with one submitted_at): each page then costs an OFFSET within those leads, still correct.
    offset_cutoff = 100_000

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        """DRF's page schema, with this API's links as the examples (DRF's own name another API, and end in a '"')."""
        page = super().get_paginated_response_schema(schema)
        page["properties"]["next"]["example"] = "https://leadsite.example/api/leads/?cursor=cD0yMDI2LTAzLTAy"
        page["properties"]["previous"]["example"] = None
        return page

    def decode_cursor(self, request: Request) -> Cursor | None:
        """DRF's cursor; one whose position is not a ``created_at`` (hand-edited) is invalid, as a garbled one is.

        DRF puts the position into the query as it is, and a text the database cannot take for a moment
        would fail the query (a 500) instead of the cursor (the documented 404).
        """
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None and utc_moment(str(cursor.position)) is None:
            raise NotFound(self.invalid_cursor_message)
        return cursor


@extend_schema(tags=["leads"])
class LeadListView(generics.ListAPIView):
    required_scope = "read"
    serializer_class = LeadListSerializer
    filterset_class = LeadFilter
    pagination_class = LeadCursorPagination

    def get_queryset(self) -> QuerySet[Lead]:
        return visible_leads(self.request).select_related("routing_decision__team").only(*LIST_COLUMNS)

    @extend_schema(
        operation_id="leads_list",
        summary="List leads",
        description=(
            "The leads you may see, newest first (by `created_at`, then `id`), 50 a page (`page_size` up to "
            "200). Follow `next` and `previous`: they carry an opaque cursor, so pages stay stable while new "
            "leads arrive.\n\n"
            "Who sees what is the pages' rule: a rep's token sees that rep's leads, a manager's their teams' "
            "leads (and the unassigned MQLs routed to no team), a marketer's every lead; an integration key with "
            "the `read` or `full` scope sees every lead.\n\n"
            "Filters combine with AND: `stage`, `owner` (user id), `team` (the routing team's slug), "
            "`first_touch_source`, `first_touch_channel` (exact values), `score_min`/`score_max` (inclusive), "
            "`created_after` (inclusive)/`created_before` (exclusive), and `q`, which matches the start of the "
            "email, first name, last name or company name, ignoring case."
        ),
        responses={
            200: LeadListSerializer(many=True),
            400: INVALID_INPUT,
            404: OpenApiResponse(ErrorDetailSerializer, description="The cursor is not valid."),
            **AUTH_RESPONSES,
        },
        examples=LEAD_LIST_EXAMPLES,
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["leads"])
class LeadDetailView(generics.RetrieveAPIView):
    required_scope = "read"
    serializer_class = LeadDetailSerializer
    lookup_url_kwarg = "lead_id"
    filter_backends: list[type] = []

    def get_object(self) -> Lead:
        if _lead_pk(self.kwargs["lead_id"]) is None:
            raise NotFound("No Lead matches the given query.")
        return super().get_object()

    def get_queryset(self) -> QuerySet[Lead]:
        assignments = Assignment.objects.select_related("team", "sla").order_by("-assigned_at", "-id")
        return (
            visible_leads(self.request)
            .select_related("first_touch", "routing_decision__team", "routing_decision__pool")
            .prefetch_related("consents", Prefetch("assignments", assignments))
        )

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "now": timezone.now()}

    @extend_schema(
        operation_id="leads_retrieve",
        summary="One lead",
        description=(
            "One lead in full: its first touch, score with the breakdown by rule, consents, SLA state (the "
            "open assignment with its due, met and breached times and why its rep got it; null when the lead is "
            "not with sales), where routing sent it and why (`routing`; null if never routed) and the enrichment "
            "fields.\n\n"
            "A lead you may not see (another rep's, say) is a 404, the same as a lead that does not exist."
        ),
        parameters=[LEAD_ID_PARAMETER],
        responses={200: LeadDetailSerializer, 404: NOT_FOUND, **AUTH_RESPONSES},
        examples=LEAD_DETAIL_EXAMPLES,
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


# --- Stage actions -------------------------------------------------------------------------------


class IsPerson(BasePermission):
    """Stage actions are a person's: an integration key (no person) may not take them."""

    message = "Stage actions are taken by a person: use that rep's personal token, not an integration key."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return not getattr(request.auth, "is_integration", False)


class _RepActionView(APIView):
    """One of the rep's actions on a lead, as the lead page's buttons take it (``handoff.views.rep_action``).

    For the rep the lead was assigned to; a lead never theirs is a 404. The rep's latest assignment is
    used, open or not, so a rep who just lost the lead hears why: the service's refusal is a 409. A
    subclass's ``act`` reads the body and calls the service; the answer is the assignment as it is now.
    With an ``Idempotency-Key``, a retry gets that first answer again instead of a 409 (or a second contact).
    """

    required_scope = "full"
    required_permissions = ("handoff.work_inbox",)
    # drf-stubs type api_settings' class settings as the dotted paths in settings.py; DRF has imported them.
    permission_classes = [*api_settings.DEFAULT_PERMISSION_CLASSES, IsPerson]  # type: ignore[list-item]

    # HasRequiredScope and IsPerson admit only a signed-in person (no integration key) to these views.
    def act(self, request: AuthenticatedRequest, assignment: Assignment) -> None:
        raise NotImplementedError

    @idempotent
    def post(self, request: AuthenticatedRequest, lead_id: str) -> Response:
        pk = _lead_pk(lead_id)
        assignment = selectors.latest_assignment(user=request.user, lead_id=pk) if pk is not None else None
        if assignment is None:
            raise NotFound("No such lead in your inbox.")
        try:
            self.act(request, assignment)
        except services.HandoffError as error:
            return Response(ErrorDetailSerializer({"detail": str(error)}).data, status=409)
        fresh = Assignment.objects.select_related("lead", "sla").get(pk=assignment.pk)
        return Response(AssignmentResultSerializer(fresh).data)


def _lead_pk(lead_id: str) -> int | None:
    """The id in the URL, or None when it is not one a lead could have."""
    if not lead_id.isascii() or not lead_id.isdigit() or len(lead_id) > 18:
        return None
    return int(lead_id)


def _valid(serializer: Serializer) -> dict[str, Any]:
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@rep_action_schema(
    "accept",
    request=None,
    description="Accept the lead assigned to you: its SLA clock keeps running until your first contact. "
    "Accepting twice, or a lead reassigned meanwhile, is a 409. The body is ignored.",
)
class AcceptLeadView(_RepActionView):
    def act(self, request: AuthenticatedRequest, assignment: Assignment) -> None:
        services.accept_assignment(assignment=assignment, rep=request.user, now=timezone.now())


@rep_action_schema(
    "contact",
    request=ContactInSerializer,
    description="Log a call, email or meeting with the lead. The first contact accepts the lead if needed "
    "and meets its SLA.",
)
class LogContactView(_RepActionView):
    def act(self, request: AuthenticatedRequest, assignment: Assignment) -> None:
        contact = _valid(ContactInSerializer(data=request.data))
        services.log_contact(assignment=assignment, rep=request.user, now=timezone.now(), **contact)


@rep_action_schema(
    "qualify",
    request=QualifyInSerializer,
    description="Qualify the lead as an SQL with its BANT notes (budget, authority, need, timing; all "
    "required). Only after a logged contact: before one it is a 409.",
)
class QualifyLeadView(_RepActionView):
    def act(self, request: AuthenticatedRequest, assignment: Assignment) -> None:
        bant = services.BANT(**_valid(QualifyInSerializer(data=request.data)))
        services.qualify_lead(assignment=assignment, rep=request.user, bant=bant, now=timezone.now())


@rep_action_schema(
    "reject",
    request=RejectInSerializer,
    description="Send the lead back to marketing as rejected, with the reason marketing will see. The lead "
    "leaves your inbox.",
)
class RejectLeadView(_RepActionView):
    def act(self, request: AuthenticatedRequest, assignment: Assignment) -> None:
        reason = _valid(RejectInSerializer(data=request.data))["reason"]
        services.reject_lead(assignment=assignment, rep=request.user, reason=reason, now=timezone.now())


@rep_action_schema(
    "recycle",
    request=RecycleInSerializer,
    description="Put the lead back into nurture until `recycle_on` (a day after today in the team's time "
    "zone), with an optional reason. The lead leaves your inbox.",
)
class RecycleLeadView(_RepActionView):
    def act(self, request: AuthenticatedRequest, assignment: Assignment) -> None:
        now = timezone.now()
        today = now.astimezone(ZoneInfo(assignment.team.timezone)).date()
        recycle = _valid(RecycleInSerializer(data=request.data, context={"today": today}))
        services.recycle_lead(assignment=assignment, rep=request.user, now=now, **recycle)
