"""What the OpenAPI schema shows of the leads API (``handoff.api.views``): its examples and shared responses.

The views keep what each operation promises (id, summary, description, statuses); ``rep_action_schema``
is the part every rep action shares. The responses every app's API shares (401, 403, 429) come from
``leads.api.schema``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from core.api import ErrorDetailSerializer
from core.idempotency import IDEMPOTENCY_KEY_PARAMETER, IDEMPOTENCY_RESPONSES
from handoff.api.serializers import AssignmentResultSerializer
from leads.api.schema import AUTH_RESPONSES, INVALID_INPUT, LEAD_ID_PARAMETER

View = TypeVar("View", bound=type[APIView])

NOT_FOUND = OpenApiResponse(ErrorDetailSerializer, description="No such lead among the leads you may see.")

# --- Reading leads ---------------------------------------------------------------------------------

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
        "reasons": {
            "how": "rotation",
            "team": "London",
            "pool": "",
            "summary": "ana (weight 2, 1 open, 0 breached) was next in London's rotation, which weighs capacity and "
            "current load; the next, ben (weight 1, 3 open, 1 breached), was 4.5 turns behind.",
            "candidates": [
                {
                    "rep": "ana",
                    "weight": 2,
                    "open": 1,
                    "breached": 0,
                    "out_of_office": False,
                    "considered": True,
                    "not_considered_because": "",
                    "rank": 1,
                    "turns_behind": 0.0,
                    "chosen": True,
                    "membership": 4,
                },
                {
                    "rep": "ben",
                    "weight": 1,
                    "open": 3,
                    "breached": 1,
                    "out_of_office": False,
                    "considered": True,
                    "not_considered_because": "",
                    "rank": 2,
                    "turns_behind": 4.5,
                    "chosen": False,
                    "membership": 5,
                },
                {
                    "rep": "cat",
                    "weight": 1,
                    "open": 0,
                    "breached": 0,
                    "out_of_office": True,
                    "considered": False,
                    "not_considered_because": "out of office",
                    "chosen": False,
                    "membership": 6,
                },
            ],
        },
    },
    "routing": {
        "destination": "team",
        "team": "london",
        "pool": "",
        "nurture_track": "",
        "rule": "UK → London",
        "reasons": {
            "rule": "UK → London",
            "rule_id": 2,
            "is_default": False,
            "held": ["country “GB” is one of GB"],
            "passed_over": [
                {"rule": "Enterprise → senior directors", "failed": "size band “11-50” is not one of Enterprise"}
            ],
            "destination": "team London",
            "summary": "Rule “UK → London” matched: country “GB” is one of GB.",
        },
        "decided_at": "2026-03-02T10:00:00Z",
    },
    "company_domain": "acme.example",
    "website": "https://acme.example",
    "industry": "Software",
    "employee_count": 42,
    "size_band": "11-50",
    "seniority": "c_level",
    "job_function": "engineering",
    "email_domain_kind": "company",
    "enrichment_status": "enriched",
    "enriched_at": "2026-03-02T09:59:00Z",
}

LEAD_LIST_EXAMPLES = [
    # One row: drf-spectacular puts a list view's example into its page (next, previous, results) itself.
    OpenApiExample("A page of leads", value=_LEAD_ROW, response_only=True, status_codes=["200"]),
    OpenApiExample(
        "An invalid filter",
        value={"stage": ["Select a valid choice. won is not one of the available choices."]},
        response_only=True,
        status_codes=["400"],
    ),
]
LEAD_DETAIL_EXAMPLES = [
    OpenApiExample("A lead with sales", value=_LEAD_DETAIL, response_only=True, status_codes=["200"]),
    OpenApiExample(
        "Not yours",
        value={"detail": "No Lead matches the given query."},
        response_only=True,
        status_codes=["404"],
    ),
]

# --- The rep's actions -----------------------------------------------------------------------------

_CONFLICT = OpenApiResponse(
    ErrorDetailSerializer, description="The assignment changed first (reassigned, handled elsewhere) or its state "
    "does not allow this; `detail` says which."
)  # fmt: skip
_CONFLICT_EXAMPLE = OpenApiExample(
    "Changed by someone else",
    value={"detail": "Ada Lovelace was reassigned to someone else; it is no longer yours."},
    response_only=True,
    status_codes=["409"],
)


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


def _answer(name: str, **changes: Any) -> OpenApiExample:
    return OpenApiExample(name, value=_result(**changes), response_only=True, status_codes=["200"])


# Each action's examples: the body it reads (none for accept), then the assignment it answers with.
_ACTION_EXAMPLES = {
    "accept": [_answer("Accepted")],
    "contact": [
        OpenApiExample("A call", value={"kind": "call", "note": "Intro call, demo on Friday"}, request_only=True),
        _answer("Contacted", state="contacted", contacted_at="2026-03-02T11:00:00Z", sla_met_at="2026-03-02T11:00:00Z"),
    ],
    "qualify": [
        OpenApiExample(
            "BANT",
            value={"budget": "€50k approved", "authority": "CMO decides", "need": "Lead routing", "timing": "Q3"},
            request_only=True,
        ),
        _answer("Qualified", lead_stage="sql", state="contacted", outcome="qualified", ended_at="2026-03-03T09:00:00Z"),
    ],
    "reject": [
        OpenApiExample("A reason", value={"reason": "Student, no buying intent"}, request_only=True),
        _answer("Rejected", lead_stage="rejected", outcome="rejected", ended_at="2026-03-02T11:00:00Z"),
    ],
    "recycle": [
        OpenApiExample(
            "Back in autumn", value={"recycle_on": "2026-09-01", "reason": "Budget next year"}, request_only=True
        ),
        _answer(
            "Recycled",
            lead_stage="nurture",
            outcome="recycled",
            ended_at="2026-03-02T11:00:00Z",
            recycle_on="2026-09-01",
        ),
    ],
}


def rep_action_schema(name: str, *, request: type[Serializer] | None, description: str) -> Callable[[View], View]:
    """Describe a rep action's view (its ``post``): operation ``leads_<name>``, with ``request`` as the body."""
    responses: dict[int, Any] = {
        200: AssignmentResultSerializer,
        404: NOT_FOUND,
        409: _CONFLICT,
        **AUTH_RESPONSES,
        **IDEMPOTENCY_RESPONSES,
    }
    if request is not None:
        responses[400] = INVALID_INPUT
    post = extend_schema(
        operation_id=f"leads_{name}",
        tags=["leads"],
        description=description
        + "\n\nNeeds a person's token (or session) with the `full` scope, for the rep the lead is assigned to; "
        "an integration key is refused (403). No body field changes the stage, owner or score directly. Send an "
        "`Idempotency-Key` header to make a retry return the first answer instead of acting again (or a 409).",
        parameters=[LEAD_ID_PARAMETER, IDEMPOTENCY_KEY_PARAMETER],
        request=request,
        responses=responses,
        examples=[*_ACTION_EXAMPLES[name], _CONFLICT_EXAMPLE],
    )
    return extend_schema_view(post=post)
