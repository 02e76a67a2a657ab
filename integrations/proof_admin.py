"""The Lead admin's consent proof downloads (HTML and JSON), for one selected lead.

They live here for the reason the privacy actions do (``privacy_admin``): leads may not import
integrations, so ``IntegrationsConfig.ready`` adds them to ``LeadAdmin.actions``. Anyone who may view
the lead in admin may download its proof (a manager only their teams' leads: the list is scoped).
"""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from integrations import proof
from leads.admin import LeadAdmin
from leads.models import Lead


def _one_lead(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Lead]) -> Lead | None:
    leads = list(queryset[:2])
    if len(leads) != 1:
        modeladmin.message_user(request, "Select exactly one lead: a consent proof is one person's.", messages.ERROR)
        return None
    return leads[0]


@admin.action(description="Download consent proof (HTML)", permissions=["view"])
def download_consent_proof_html(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Lead]
) -> HttpResponse | None:
    lead = _one_lead(modeladmin, request, queryset)
    if lead is None:
        return None
    bundle = proof.consent_proof(lead=lead, now=timezone.now())
    response = HttpResponse(proof.render_consent_proof_html(bundle), content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="consent-proof-lead-{lead.pk}.html"'
    return response


@admin.action(description="Download consent proof (JSON)", permissions=["view"])
def download_consent_proof_json(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Lead]
) -> HttpResponse | None:
    lead = _one_lead(modeladmin, request, queryset)
    if lead is None:
        return None
    bundle = proof.consent_proof(lead=lead, now=timezone.now())
    response = HttpResponse(
        json.dumps(bundle, indent=2, ensure_ascii=False), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="consent-proof-lead-{lead.pk}.json"'
    return response


PROOF_ACTIONS = (download_consent_proof_html, download_consent_proof_json)


def add_lead_actions() -> None:
    """Offer the downloads on the Lead admin, after its own (run once more, it adds nothing)."""
    own = tuple(action for action in LeadAdmin.actions if action not in PROOF_ACTIONS)
    LeadAdmin.actions = (*own, *PROOF_ACTIONS)
