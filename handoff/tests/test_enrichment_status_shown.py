"""The lead page and the API say an erased lead that was never enriched will not be: not "Pending"."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from integrations.tests.factories import ApiKeyFactory, api_headers
from leads.models import EnrichmentStatus
from leads.tests.factories import FIXED_NOW, LeadFactory
from tests.personas import client_for

pytestmark = pytest.mark.django_db


def test_the_lead_page_shows_an_erased_lead_as_not_enriched(rep: object) -> None:
    lead = LeadFactory(owner=rep, enrichment_status=EnrichmentStatus.PENDING, erased_at=FIXED_NOW)

    page = client_for(rep).get(reverse("handoff:lead", args=[lead.pk])).content.decode()

    assert "Not enriched: erased" in page


def test_the_api_gives_an_erased_lead_never_enriched_the_status_erased(rep: object) -> None:
    lead = LeadFactory(owner=rep, enrichment_status=EnrichmentStatus.PENDING, erased_at=FIXED_NOW)

    body = Client().get(f"/api/leads/{lead.pk}/", headers=api_headers(ApiKeyFactory(user=rep))).json()

    assert body["enrichment_status"] == "erased"
