"""The rep's lead page warns, at the top, when the lead has no usable consent left (withdrawn or never confirmed)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from handoff.models import Assignment
from leads import services
from leads.models import ConsentStatus
from leads.tests.factories import ConsentFactory
from tests.personas import client_for

pytestmark = pytest.mark.django_db

WARNING = "Consent withdrawn — do not contact"


def lead_page(assignment: Assignment, user: object) -> str:
    return client_for(user).get(reverse("handoff:lead", args=[assignment.lead_id])).content.decode()


def test_a_lead_whose_consent_was_withdrawn_shows_the_do_not_contact_warning(
    assignment: Assignment, rep: object, now: datetime
) -> None:
    ConsentFactory(lead=assignment.lead)
    services.withdraw_consents(lead=assignment.lead, now=now + timedelta(hours=1), source="admin")

    html = lead_page(assignment, rep)

    assert WARNING in html
    assert html.index(WARNING) < html.index("Company and role")


def test_a_lead_with_one_usable_consent_left_shows_no_warning(assignment: Assignment, rep: object) -> None:
    ConsentFactory(lead=assignment.lead, withdrawn_at=assignment.assigned_at)
    ConsentFactory(lead=assignment.lead)

    assert WARNING not in lead_page(assignment, rep)


def test_a_lead_whose_only_consent_is_still_pending_shows_the_warning(assignment: Assignment, rep: object) -> None:
    ConsentFactory(lead=assignment.lead, status=ConsentStatus.PENDING)

    assert WARNING in lead_page(assignment, rep)


def test_the_warning_reads_the_prefetched_consents(assignment: Assignment, rep: object) -> None:
    ConsentFactory(lead=assignment.lead, withdrawn_at=assignment.assigned_at)
    ConsentFactory(lead=assignment.lead, withdrawn_at=assignment.assigned_at)

    with CaptureQueriesContext(connection) as queries:
        lead_page(assignment, rep)

    assert len([query for query in queries if '"leads_consent"' in query["sql"]]) == 1
