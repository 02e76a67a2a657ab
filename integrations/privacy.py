"""Data subject requests (GDPR art. 15, 17 and 20): export or erase one lead's personal data, app by app.

Each app owns its step (``lead_personal_data`` and ``erase_lead_personal_data`` in its services); this
module only calls them in order. It lives here because integrations is the one app the one-way import rule
lets import every other app, so each request reads as one function instead of receivers spread over the
apps' ``ready()``. An app that starts holding personal data adds its step to both functions below, and its
records to the scan in ``integrations/tests/test_privacy.py``.

An erasure runs in one transaction: a step that fails rolls the whole erasure back, so it is complete or
does not happen. A step that fails in an export fails the export: nobody gets half of the data.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from handoff import services as handoff_services
from integrations import audit
from integrations import services as integrations_services
from leads import services as leads_services
from leads.models import Lead
from nurture import services as nurture_services
from reports import services as reports_services

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def export_lead_data(*, lead: Lead) -> dict[str, Any]:
    """Everything held about the lead's person (GDPR art. 15 and 20), as JSON-ready data.

    The leads app's records, handoff's assignments with the reps' notes, reports' first-touch corrections
    and integrations' webhook deliveries. Times are ISO 8601 strings.
    """
    parts = [
        leads_services.lead_personal_data(lead=lead),
        handoff_services.lead_personal_data(lead=lead),
        nurture_services.lead_personal_data(lead=lead),
        reports_services.lead_personal_data(lead=lead),
        integrations_services.lead_personal_data(lead=lead),
    ]
    data: dict[str, Any] = {}
    for part in parts:
        clash = data.keys() & part.keys()
        if clash:
            raise ValueError(f"Two apps export the same parts: {', '.join(sorted(clash))}")
        data.update(part)
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def erase_lead(*, lead: Lead, now: datetime, by: User | None, reason: str) -> None:
    """Erase the personal data held about the lead's person (GDPR art. 17), in every app, in one transaction.

    ``reason`` (the request's date and channel) is recorded with who erased; without one nothing is erased.
    Safe to run again for a lead already erased: no step changes anything more.
    """
    with transaction.atomic():
        # Marks the lead erased, withdraws its consents, blanks its records, disqualifies it and records
        # who and why; raises ValidationError before any write when the reason is blank.
        leads_services.erase_lead_personal_data(lead=lead, now=now, by=by, reason=reason)
        # Ends an open assignment (the rep loses the lead) and blanks the reps' notes and emails.
        handoff_services.erase_lead_personal_data(lead_id=lead.pk, now=now)
        # Ends the nurture enrollment and blanks the addresses and subjects of the emails sent.
        nurture_services.erase_lead_personal_data(lead_id=lead.pk, now=now)
        # Stubs the webhook payloads that carried the lead and what receivers answered.
        integrations_services.erase_lead_personal_data(lead_id=lead.pk)
        # Blanks the reasons managers typed when correcting the lead's first touch; marks the lead's day for the
        # report rollups (its SLA clock and its rows changed above).
        reports_services.erase_lead_personal_data(lead_id=lead.pk, now=now)
        # Last, so an audit entry written by any step above is cleaned too: the audit trail keeps which
        # fields changed, when and by whom, but no value and no name.
        audit.erase_lead_history(lead_id=lead.pk)
    lead.refresh_from_db()
