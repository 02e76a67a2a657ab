"""``GET /api/leads/{id}/consent-proof/``: the lead's consent proof bundle, JSON or (``?format=html``) HTML."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.html import escape
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from handoff.api.views import visible_leads
from integrations import proof
from leads.api.schema import AUTH_RESPONSES, LEAD_ID_PARAMETER
from leads.api.views import lead_or_404

PROOF_EXAMPLE = {
    "bundle_version": 1,
    "generated_at": "2026-03-03T09:00:00Z",
    "lead": {"id": 7, "email": "ada@acme.example", "name": "Ada Lovelace", "erased_at": None},
    "consents": [
        {
            "id": 12,
            "legal_basis": "opt_in",
            "legal_basis_label": "Opt-in",
            "status": "confirmed",
            "source": "form",
            "source_ref": "webinar-pipeline-playbook",
            "form": {"id": 2, "name": "Pipeline playbook webinar", "slug": "webinar-pipeline-playbook"},
            "consent_text_version": 3,
            "consent_text_published_at": "2026-01-10T08:00:00Z",
            "text": "Yes, Acme may email me about its products. I can withdraw this at any time.",
            "given_at": "2026-03-02T10:00:00Z",
            "ip_hash": "hmac-sha256:5f2c…",
            "double_opt_in": {
                "required": True,
                "email_sent_at": "2026-03-02T10:00:05Z",
                "confirmed_at": "2026-03-02T10:07:00Z",
                "confirmed_ip_hash": "hmac-sha256:91ab…",
            },
            "withdrawn_at": None,
        }
    ],
    "digest": "sha256:0c4f…",
}


class ConsentProofHTMLRenderer(BaseRenderer):
    """The bundle as the printable page admin downloads; an error as a one-line page."""

    media_type = "text/html"
    format = "html"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if isinstance(data, dict) and "consents" in data:
            return proof.render_consent_proof_html(data).encode()
        detail = data.get("detail", "") if isinstance(data, dict) else ""
        return f"<!doctype html><title>Consent proof</title><p>{escape(str(detail))}</p>".encode()


@extend_schema(tags=["leads"])
class ConsentProofView(APIView):
    """One lead's consent proof: each consent's form and text version, exact text, time, IP hash, double opt-in."""

    required_scope = "read"
    renderer_classes = [JSONRenderer, ConsentProofHTMLRenderer]

    @extend_schema(
        operation_id="leads_consent_proof",
        summary="A lead's consent proof bundle",
        description=(
            "For each consent of the lead, newest first: the legal basis and status, the form and the version "
            "of its consent text, the exact text the person saw, when it was given, an HMAC-SHA256 of the IP "
            "address (never the address), the double opt-in (asked by the form, email sent, confirmed at, a "
            "hash of the confirming IP) and the withdrawal time. `digest` is the SHA-256 of the rest of the "
            "bundle. `?format=html` (or `Accept: text/html`) gives the same as a printable page.\n\n"
            "Who may see the lead may see its proof: a rep their own, a manager their teams', a marketer or a "
            "`read`/`full` key every lead; any other lead is a 404."
        ),
        parameters=[
            LEAD_ID_PARAMETER,
            OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "html"], description="json (default) or html"),
        ],
        examples=[OpenApiExample("A confirmed double opt-in consent", value=PROOF_EXAMPLE, response_only=True)],
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="The bundle."),
            404: OpenApiResponse(description="No lead you may see has this id."),
            **AUTH_RESPONSES,
        },
    )
    def get(self, request: Request, lead_id: str) -> Response:
        lead = lead_or_404(lead_id, among=visible_leads(request))
        bundle = proof.consent_proof(lead=lead, now=timezone.now())
        response = Response(bundle)
        if request.accepted_renderer.format == "html":
            response["Content-Disposition"] = f'inline; filename="consent-proof-lead-{lead.pk}.html"'
        return response
