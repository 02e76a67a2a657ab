"""An erased lead that was never enriched says so ("Not enriched: erased"), not "Pending": nothing will enrich it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from leads.models import EnrichmentStatus, Lead
from leads.services import erase_lead_personal_data
from leads.tests.factories import FIXED_NOW, LeadFactory
from tests.personas import client_for

pytestmark = pytest.mark.django_db


def erased(lead: Lead) -> Lead:
    erase_lead_personal_data(lead=lead, now=FIXED_NOW, by=None, reason="Asked by email on 1 March")
    return lead


def test_an_erased_lead_never_enriched_shows_not_enriched_erased() -> None:
    lead = erased(LeadFactory(enrichment_status=EnrichmentStatus.PENDING))

    assert (lead.enrichment_status, lead.enrichment_status_label) == (EnrichmentStatus.PENDING, "Not enriched: erased")


def test_a_lead_waiting_for_enrichment_shows_pending() -> None:
    lead = LeadFactory(enrichment_status=EnrichmentStatus.PENDING)

    assert lead.enrichment_status_label == "Pending"


def test_an_erased_lead_enriched_before_keeps_its_status() -> None:
    lead = erased(LeadFactory(enrichment_status=EnrichmentStatus.PARTIAL, enriched_at=FIXED_NOW))

    assert lead.enrichment_status_label == "Partly enriched"


def test_the_lead_admin_shows_an_erased_lead_as_not_enriched(marketer: object) -> None:
    lead = erased(LeadFactory(enrichment_status=EnrichmentStatus.PENDING))

    page = client_for(marketer).get(reverse("admin:leads_lead_change", args=[lead.pk])).content.decode()

    assert "Not enriched: erased" in page
