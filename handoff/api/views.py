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
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from handoff import selectors, services
from handoff.api.filters import LeadFilter
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
from leads.api.serializers import ErrorDetailSerializer
from leads.models import Lead

_AUTH_RESPONSES = {
    401: OpenApiResponse(ErrorDetailSerializer, description="No credentials, or an invalid, revoked or expired key."),
    403: OpenApiResponse(ErrorDetailSerializer, description="The key's scope or the person's role does not allow it."),
    429: OpenApiResponse(ErrorDetailSerializer, description="Too many requests for this key; retry after a while."),
}
_NOT_FOUND = OpenApiResponse(ErrorDetailSerializer, description="No such lead among the leads you may see.")
_INVALID = OpenApiResponse(OpenApiTypes.OBJECT, description="Invalid input: the messages by field.")
_CONFLICT = OpenApiResponse(
    ErrorDetailSerializer, description="The assignment changed first (reassigned, handled elsewhere) or its state "
    "does not allow this; `detail` says which."
)  # fmt: skip

_LEAD_ID = OpenApiParameter(
    "lead_id",
    OpenApiTypes.INT,
    OpenApiParameter.PATH,
    description="The lead's id.",
    examples=[OpenApiExample("Lead 42", value=42)],
)

_LEAD_ROW = {
    "id": 7,
    "email": "ada@acme.example",
    "phone": "",
    "name": "Ada Lovelace",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "job_title": "CTO",
    "company_name": "Acme",
    "country": "GB",
    "stage": "mql",
    "stage_changed_at": "2026-03-02T10:00:00Z",
    "owner_id": 3,
    "routing_team": "london",
    "score": 72,
    "first_touch_at": "2026-03-01T08:30:00Z",
    "first_touch_source": "linkedin",
    "first_touch_medium": "paid_social",
    "first_touch_campaign": "q3-whitepaper",
    "first_touch_channel": "paid_social",
    "created_at": "2026-03-02T09:58:00Z",
}
_LEAD_DETAIL = {
    **_LEAD_ROW,
    "first_touch": {
        "occurred_at": "2026-03-01T08:30:00Z",
        "channel": "paid_social",
        "source": "linkedin",
        "medium": "paid_social",
        "campaign": "q3-whitepaper",
        "content": "",
        "term": "",
        "click_id": "",
        "referrer": "https://www.linkedin.com/",
        "landing_page": "https://www.acme.example/report",
    },
    "fit_score": 40,
    "engagement_score": 32,
    "score_breakdown": [{"rule": "CTO title", "kind": "job_title", "points": 20}],
    "scored_at": "2026-03-02T10:00:00Z",
    "consents": [
        {
            "id": 11,
            "legal_basis": "consent",
            "status": "confirmed",
            "text_version": "1",
            "source": "form",
            "source_ref": "state-of-b2b",
            "given_at": "2026-03-02T09:58:00Z",
            "confirmed_at": "2026-03-02T09:58:00Z",
            "withdrawn_at": None,
        }
    ],
    "sla": {
        "assignment_id": 31,
        "state": "accepted",
        "rep_id": 3,
        "team": "london",
        "assigned_at": "2026-03-02T10:00:00Z",
        "accepted_at": "2026-03-02T10:05:00Z",
        "contacted_at": None,
        "sla_due_at": "2026-03-03T10:00:00Z",
        "sla_met_at": None,
        "sla_breached_at": None,
        "sla_status": "running",
    },
    "company_domain": "acme.example",
    "website": "https://acme.example",
    "industry": "Software",
    "employee_count": 42,
    "size_band": "11-50",
    "seniority": "c_level",
    "job_function": "engineering",
    "email_domain_kind": "company",
    "enrichment_status": "done",
    "enriched_at": "2026-03-02T09:59:00Z",
}


def _result(**changes: Any) -> dict[str, Any]:
    return {
        "id": 31,
        "lead_id": 7,
        "lead_stage": "mql",
        "state": "accepted",
        "outcome": "",
        "accepted_at": "2026-03-02T10:05:00Z",
        "contacted_at": None,
        "ended_at": None,
        "recycle_on": None,
        "sla_met_at": None,
        **changes,
    }


def visible_leads(request: Request) -> QuerySet[Lead]:
    """The leads the caller may see, as the pages decide; an integration key (no person) sees every lead."""
    if getattr(request.auth, "is_integration", False):
        return Lead.objects.all()
    user = request.user
    if user.has_perm("leads.work_inbox"):
        return selectors.visible_leads(user=user)
    if user.has_perm("leads.view_lead"):
        return Lead.objects.all()
    return Lead.objects.none()


# A list row reads these columns only: a lead's JSON columns cost more to read than the row is worth.
LIST_COLUMNS = [name for name in LeadListSerializer.Meta.fields if name not in ("name", "owner_id")] + ["owner"]


class LeadCursorPagination(CursorPagination):
    """Newest first; a cursor (not a page number) stays fast and stable however many leads there are."""

    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


@extend_schema(tags=["leads"])
class LeadListView(generics.ListAPIView):
    required_scope = "read"
    serializer_class = LeadListSerializer
    filterset_class = LeadFilter
    pagination_class = LeadCursorPagination

    def get_queryset(self) -> QuerySet[Lead]:
        return visible_leads(self.request).only(*LIST_COLUMNS)

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
            400: _INVALID,
            404: OpenApiResponse(ErrorDetailSerializer, description="The cursor is not valid."),
            **_AUTH_RESPONSES,
        },
        examples=[
            OpenApiExample(
                "A page of leads",
                value={
                    "next": "https://leadsite.example/api/leads/?cursor=cD0yMDI2LTAzLTAy",
                    "previous": None,
                    "results": [_LEAD_ROW],
                },
                response_only=True,
                status_codes=["200"],
            ),
            OpenApiExample(
                "An invalid filter",
                value={"stage": ["Select a valid choice. won is not one of the available choices."]},
                response_only=True,
                status_codes=["400"],
            ),
        ],
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
            .select_related("first_touch")
            .prefetch_related("consents", Prefetch("assignments", assignments))
        )

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "now": timezone.now()}

    @extend_schema(
        operation_id="leads_retrieve",
        summary="One lead",
        description=(
            "One lead in full: its first touch, score with the breakdown by rule, consents, SLA state (the "
            "open assignment with its due, met and breached times; null when the lead is not with sales) and "
            "the enrichment fields.\n\n"
            "A lead you may not see (another rep's, say) is a 404, the same as a lead that does not exist."
        ),
        parameters=[_LEAD_ID],
        responses={200: LeadDetailSerializer, 404: _NOT_FOUND, **_AUTH_RESPONSES},
        examples=[
            OpenApiExample("A lead with sales", value=_LEAD_DETAIL, response_only=True, status_codes=["200"]),
            OpenApiExample(
                "Not yours",
                value={"detail": "No Lead matches the given query."},
                response_only=True,
                status_codes=["404"],
            ),
        ],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


# --- Stage actions -------------------------------------------------------------------------------


class IsPerson(BasePermission):
    """Stage actions are a person's: an integration key (no person) may not take them."""

    message = "Stage actions are taken by a person: use that rep's personal token, not an integration key."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return not getattr(request.auth, "is_integration", False)


class _LeadActionView(APIView):
    """For the rep the lead was assigned to; a lead never theirs is a 404 (like the lead page's buttons)."""

    required_scope = "full"
    required_permissions = ("leads.work_inbox",)
    permission_classes = [*api_settings.DEFAULT_PERMISSION_CLASSES, IsPerson]

    def assignment(self, request: Request, lead_id: str) -> Assignment:
        # The rep's latest assignment, open or not, so a rep who just lost the lead hears why (a 409).
        pk = _lead_pk(lead_id)
        assignment = selectors.latest_assignment(user=request.user, lead_id=pk) if pk is not None else None
        if assignment is None:
            raise NotFound("No such lead in your inbox.")
        return assignment


def _lead_pk(lead_id: str) -> int | None:
    """The id in the URL, or None when it is not one a lead could have."""
    if not lead_id.isascii() or not lead_id.isdigit() or len(lead_id) > 18:
        return None
    return int(lead_id)


def _done(assignment: Assignment) -> Response:
    fresh = Assignment.objects.select_related("lead", "sla").get(pk=assignment.pk)
    return Response(AssignmentResultSerializer(fresh).data)


def _conflict(error: services.HandoffError) -> Response:
    return Response(ErrorDetailSerializer({"detail": str(error)}).data, status=409)


def _action_schema(*, name: str, description: str, request: type | None, examples: list[OpenApiExample]) -> Any:
    responses: dict[int, Any] = {
        200: AssignmentResultSerializer,
        404: _NOT_FOUND,
        409: _CONFLICT,
        **_AUTH_RESPONSES,
    }
    if request is not None:
        responses[400] = _INVALID
    conflict = OpenApiExample(
        "Changed by someone else",
        value={"detail": "Ada Lovelace was reassigned to someone else; it is no longer yours."},
        response_only=True,
        status_codes=["409"],
    )
    return extend_schema(
        operation_id=f"leads_{name}",
        description=description
        + "\n\nNeeds a person's token (or session) with the `full` scope, for the rep the lead is assigned to; "
        "an integration key is refused (403). No body field changes the stage, owner or score directly.",
        parameters=[_LEAD_ID],
        request=request,
        responses=responses,
        examples=[*examples, conflict],
    )


@extend_schema(tags=["leads"])
class AcceptLeadView(_LeadActionView):
    @_action_schema(
        name="accept",
        description="Accept the lead assigned to you: its SLA clock keeps running until your first contact. "
        "Accepting twice, or a lead reassigned meanwhile, is a 409. The body is ignored.",
        request=None,
        examples=[OpenApiExample("Accepted", value=_result(), response_only=True, status_codes=["200"])],
    )
    def post(self, request: Request, lead_id: str) -> Response:
        assignment = self.assignment(request, lead_id)
        try:
            services.accept_assignment(assignment=assignment, rep=request.user, now=timezone.now())
        except services.HandoffError as error:
            return _conflict(error)
        return _done(assignment)


@extend_schema(tags=["leads"])
class LogContactView(_LeadActionView):
    @_action_schema(
        name="contact",
        description="Log a call, email or meeting with the lead. The first contact accepts the lead if needed "
        "and meets its SLA.",
        request=ContactInSerializer,
        examples=[
            OpenApiExample("A call", value={"kind": "call", "note": "Intro call, demo on Friday"}, request_only=True),
            OpenApiExample(
                "Contacted",
                value=_result(
                    state="contacted", contacted_at="2026-03-02T11:00:00Z", sla_met_at="2026-03-02T11:00:00Z"
                ),
                response_only=True,
                status_codes=["200"],
            ),
        ],
    )
    def post(self, request: Request, lead_id: str) -> Response:
        assignment = self.assignment(request, lead_id)
        serializer = ContactInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.log_contact(
                assignment=assignment, rep=request.user, now=timezone.now(), **serializer.validated_data
            )
        except services.HandoffError as error:
            return _conflict(error)
        return _done(assignment)


@extend_schema(tags=["leads"])
class QualifyLeadView(_LeadActionView):
    @_action_schema(
        name="qualify",
        description="Qualify the lead as an SQL with its BANT notes (budget, authority, need, timing; all "
        "required). Only after a logged contact: before one it is a 409.",
        request=QualifyInSerializer,
        examples=[
            OpenApiExample(
                "BANT",
                value={"budget": "€50k approved", "authority": "CMO decides", "need": "Lead routing", "timing": "Q3"},
                request_only=True,
            ),
            OpenApiExample(
                "Qualified",
                value=_result(
                    lead_stage="sql", state="contacted", outcome="qualified", ended_at="2026-03-03T09:00:00Z"
                ),
                response_only=True,
                status_codes=["200"],
            ),
        ],
    )
    def post(self, request: Request, lead_id: str) -> Response:
        assignment = self.assignment(request, lead_id)
        serializer = QualifyInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        bant = services.BANT(**serializer.validated_data)
        try:
            services.qualify_lead(assignment=assignment, rep=request.user, bant=bant, now=timezone.now())
        except services.HandoffError as error:
            return _conflict(error)
        return _done(assignment)


@extend_schema(tags=["leads"])
class RejectLeadView(_LeadActionView):
    @_action_schema(
        name="reject",
        description="Send the lead back to marketing as rejected, with the reason marketing will see. The lead "
        "leaves your inbox.",
        request=RejectInSerializer,
        examples=[
            OpenApiExample("A reason", value={"reason": "Student, no buying intent"}, request_only=True),
            OpenApiExample(
                "Rejected",
                value=_result(lead_stage="rejected", outcome="rejected", ended_at="2026-03-02T11:00:00Z"),
                response_only=True,
                status_codes=["200"],
            ),
        ],
    )
    def post(self, request: Request, lead_id: str) -> Response:
        assignment = self.assignment(request, lead_id)
        serializer = RejectInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.reject_lead(
                assignment=assignment, rep=request.user, reason=serializer.validated_data["reason"], now=timezone.now()
            )
        except services.HandoffError as error:
            return _conflict(error)
        return _done(assignment)


@extend_schema(tags=["leads"])
class RecycleLeadView(_LeadActionView):
    @_action_schema(
        name="recycle",
        description="Put the lead back into nurture until `recycle_on` (a day after today in the team's time "
        "zone), with an optional reason. The lead leaves your inbox.",
        request=RecycleInSerializer,
        examples=[
            OpenApiExample(
                "Back in autumn", value={"recycle_on": "2026-09-01", "reason": "Budget next year"}, request_only=True
            ),
            OpenApiExample(
                "Recycled",
                value=_result(
                    lead_stage="nurture", outcome="recycled", ended_at="2026-03-02T11:00:00Z", recycle_on="2026-09-01"
                ),
                response_only=True,
                status_codes=["200"],
            ),
        ],
    )
    def post(self, request: Request, lead_id: str) -> Response:
        assignment = self.assignment(request, lead_id)
        now = timezone.now()
        today = now.astimezone(ZoneInfo(assignment.team.timezone)).date()
        serializer = RecycleInSerializer(data=request.data, context={"today": today})
        serializer.is_valid(raise_exception=True)
        try:
            services.recycle_lead(assignment=assignment, rep=request.user, now=now, **serializer.validated_data)
        except services.HandoffError as error:
            return _conflict(error)
        return _done(assignment)
