"""What the OpenAPI schema shows of the leads app's API: its examples, and the parts every app's API shares.

The views (``leads.api.views``) keep what each operation promises (id, summary, description, statuses);
this module holds the example JSON behind them. ``AUTH_RESPONSES``, ``INVALID_INPUT`` and
``LEAD_ID_PARAMETER`` are the whole API's: handoff's and reports' API views and schema modules reuse them
(those apps may import leads, not one another).
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from core.api import ErrorDetailSerializer

# --- Shared by every app's API ---------------------------------------------------------------------

AUTH_RESPONSES = {
    401: OpenApiResponse(ErrorDetailSerializer, description="No credentials, or an invalid, revoked or expired key."),
    403: OpenApiResponse(ErrorDetailSerializer, description="The key's scope or the person's role does not allow it."),
    429: OpenApiResponse(ErrorDetailSerializer, description="Too many requests for this key; retry after a while."),
}
INVALID_INPUT = OpenApiResponse(OpenApiTypes.OBJECT, description="Invalid input: the messages by field.")
LEAD_ID_PARAMETER = OpenApiParameter(
    "lead_id",
    OpenApiTypes.INT,
    OpenApiParameter.PATH,
    description="The lead's id.",
    examples=[OpenApiExample("Lead 42", value=42)],
)

# --- Activities ------------------------------------------------------------------------------------

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

ACTIVITIES_EXAMPLES = [
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
]

# --- Submissions -----------------------------------------------------------------------------------

# The 400 response's ``detail``: the view sends it, the example shows it.
INVALID_SUBMISSION_DETAIL = "No submission was stored: the request is invalid (see errors, by field)."
SUPPRESSED_SUBMISSION_DETAIL = (
    "No submission was stored: the person was erased, or objected, after sending it, and capturing it would bring "
    "them back."
)

_WHITEPAPER_SUBMISSION = {
    "form": "state-of-b2b",
    "answers": {
        "email": "ada@acme.example",
        "first_name": "Ada",
        "company_name": "Acme",
        "job_title": "CTO",
        "team_size": "11-50",
    },
    "consent": {"given": True, "text_version": 1},
    "attribution": {
        "utm_source": "linkedin",
        "utm_medium": "paid_social",
        "utm_campaign": "q3-whitepaper",
        "landing_page": "https://www.acme.example/report",
    },
    "ip_address": "203.0.113.9",
    "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15",
    "submitted_at": "2026-03-02T09:58:00Z",
}
_MINIMAL_SUBMISSION = {
    "form": "state-of-b2b",
    "answers": {"email": "grace@acme.example", "first_name": "Grace", "company_name": "Acme"},
    "consent": {"given": True},
}

SUBMISSION_EXAMPLES = [
    OpenApiExample("A white paper download", value=_WHITEPAPER_SUBMISSION, request_only=True),
    OpenApiExample("Only what is required", value=_MINIMAL_SUBMISSION, request_only=True),
    OpenApiExample(
        "Captured",
        value={"id": 981, "lead_id": 7, "status": "captured", "consent_status": "confirmed"},
        response_only=True,
        status_codes=["201"],
    ),
    OpenApiExample(
        "Captured, double opt-in pending",
        value={"id": 982, "lead_id": 8, "status": "captured", "consent_status": "pending"},
        response_only=True,
        status_codes=["201"],
    ),
    OpenApiExample(
        "Invalid answers",
        value={
            "detail": INVALID_SUBMISSION_DETAIL,
            "errors": {
                "answers.email": ["Enter a valid email address."],
                "answers.company_name": ["This field is required."],
            },
        },
        response_only=True,
        status_codes=["400"],
    ),
    OpenApiExample(
        "Person erased since it was sent",
        value={
            "detail": SUPPRESSED_SUBMISSION_DETAIL,
            "errors": {"answers.email": ["The person was erased, or objected, since this was sent."]},
        },
        response_only=True,
        status_codes=["409"],
    ),
]

# --- Consent withdrawal ----------------------------------------------------------------------------

_WITHDRAWN_CONSENT = {
    "id": 11,
    "legal_basis": "opt_in",
    "status": "confirmed",
    "text_version": "1",
    "source": "form",
    "source_ref": "state-of-b2b",
    "given_at": "2026-03-02T09:58:00Z",
    "confirmed_at": None,
    "withdrawn_at": "2026-03-09T14:30:00Z",
}

WITHDRAW_CONSENT_EXAMPLES = [
    OpenApiExample("Received by phone", value={"note": "Phoned on 9 March"}, request_only=True),
    OpenApiExample("No note", value={}, request_only=True),
    OpenApiExample(
        "Withdrawn",
        value={"lead_id": 42, "withdrawn": 1, "consents": [_WITHDRAWN_CONSENT]},
        response_only=True,
        status_codes=["200"],
    ),
    OpenApiExample(
        "No such lead",
        value={"detail": "No lead has this id."},
        response_only=True,
        status_codes=["404"],
    ),
]
