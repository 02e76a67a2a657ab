"""The Lead admin's data subject request actions: export a lead's personal data, erase it.

They call ``integrations.privacy``, which reaches every app, so they live here rather than in ``leads.admin``
(leads imports no higher app); ``IntegrationsConfig.ready`` adds them to ``LeadAdmin.actions``. Both need
``leads.erase_lead`` (``LeadAdmin.has_erase_permission``): an export holds the reps' notes and the
submissions' answers too, more than the lead page shows.
"""

from __future__ import annotations

import json
import logging

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from core.typing import signed_in_user
from integrations import privacy
from leads.admin import LeadAdmin, _confirmation_page, _reviewable
from leads.models import Lead

logger = logging.getLogger(__name__)

# Erasing cannot be undone: it is confirmed on a page that names the leads, for a reviewable number at a time.
ERASE_AT_ONCE = 50


@admin.action(description="Export personal data (JSON)", permissions=["erase"])
def export_personal_data(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Lead]
) -> HttpResponse | None:
    """Download everything held about one lead's person as ``lead-<id>.json``; the admin history records it."""
    leads = list(queryset[:2])
    if len(leads) != 1:
        modeladmin.message_user(request, "Select exactly one lead: an export holds one person's data.", messages.ERROR)
        return None
    [lead] = leads
    data = privacy.export_lead_data(lead=lead)
    modeladmin.log_change(request, lead, "Exported personal data (JSON).")
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="lead-{lead.pk}.json"'
    return response


@admin.action(description="Erase personal data", permissions=["erase"])
def erase_personal_data(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Lead]
) -> TemplateResponse | None:
    """The person asked to be forgotten: after a confirmation with the reason, erase as ``privacy.erase_lead`` says."""
    fields = ("id", "email", "phone", "first_name", "last_name", "company_name", "stage", "erased_at")
    leads = _reviewable(modeladmin, request, queryset, at_most=ERASE_AT_ONCE, fields=fields, purpose="to erase at once")
    if leads is None:
        return None
    reason = request.POST.get("reason", "").strip()[:500]
    if request.POST.get("confirmed") != "yes" or not reason:
        return _confirmation_page(
            modeladmin, request, leads, action="erase_personal_data", title="Erase personal data",
            confirm_label="Yes, erase the personal data", needs_reason=request.POST.get("confirmed") == "yes",
        )  # fmt: skip
    erased, again, failed = 0, 0, 0
    now, by = timezone.now(), signed_in_user(request)
    for lead in leads:
        was_erased = lead.erased_at is not None
        try:
            privacy.erase_lead(lead=lead, now=now, by=by, reason=reason)
        except Exception:  # one lead changed under us must not stop the others; its erasure rolled back
            logger.exception("Could not erase lead %s", lead.pk)
            failed += 1
            continue
        if was_erased:
            again += 1
        else:
            erased += 1
    modeladmin.message_user(request, f"Erased the personal data of {erased} lead(s).", messages.SUCCESS)
    if again:
        modeladmin.message_user(request, f"{again} lead(s) had been erased before; nothing more was recorded.")
    if failed:
        modeladmin.message_user(
            request, f"{failed} lead(s) could not be erased and were left unchanged; try again.", messages.ERROR
        )
    return None


LEAD_ACTIONS = (export_personal_data, erase_personal_data)


def add_lead_actions() -> None:
    """Offer the actions on the Lead admin, after its own (run once more, it adds nothing)."""
    own = tuple(action for action in LeadAdmin.actions if action not in LEAD_ACTIONS)
    LeadAdmin.actions = (*own, *LEAD_ACTIONS)
