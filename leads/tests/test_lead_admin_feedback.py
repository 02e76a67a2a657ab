"""Saving a lead in admin says what happened: the new score, stage and owner, each with its reason."""

import json
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from leads.models import ConsentStatus, EnrichmentStatus, Lead, Stage
from leads.tests.factories import FIXED_NOW, ConsentFactory, LeadFactory
from scoring.demo import install_default_model
from tests.personas import client_for

pytestmark = pytest.mark.django_db


def admin_save(lead: Lead, user: object, **changes: str) -> Any:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    url = reverse("admin:leads_lead_change", args=[lead.pk])
    page = client.get(url).context
    form = page["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name in form.fields}
    data = {**data, "custom_answers": json.dumps(lead.custom_answers), **changes, "_continue": "1"}
    for inline in page["inline_admin_formsets"]:  # read-only inlines: their management forms only
        data.update({f"{inline.formset.prefix}-TOTAL_FORMS": "0", f"{inline.formset.prefix}-INITIAL_FORMS": "0"})
    return client.post(url, data, follow=True)


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def helix_lead() -> Lead:
    """A VP at a company no directory knows: 25 points from title and country alone."""
    install_default_model(now=FIXED_NOW)
    lead = LeadFactory(
        email="vp@helix-biotech.de", company_name="Helix Biotech GmbH", company_domain="helix-biotech.de",
        job_title="VP of Engineering", seniority="vp", country="DE", enrichment_status=EnrichmentStatus.ENRICHED,
    )  # fmt: skip
    ConsentFactory(lead=lead, status=ConsentStatus.CONFIRMED)
    return lead


def test_saving_shows_the_new_score_and_why(marketer: object, helix_lead: Lead) -> None:
    response = admin_save(helix_lead, marketer, industry="Healthcare", employee_count="900")

    notes = " ".join(messages_of(response))
    assert "Score 0 → 55:" in notes and "Industry is Healthcare" in notes, notes


def test_saving_shows_the_new_stage_with_its_reason(marketer: object, helix_lead: Lead) -> None:
    helix_lead.activities.create(kind="form_submitted", occurred_at=timezone.now())  # admin saves at "now"

    response = admin_save(helix_lead, marketer, industry="Healthcare", employee_count="900")

    helix_lead.refresh_from_db()
    assert helix_lead.stage == Stage.MQL, messages_of(response)
    assert any(note.startswith("Stage New → Marketing-qualified (MQL)") for note in messages_of(response))


def test_saving_recomputes_the_size_band_from_the_employee_count(marketer: object, helix_lead: Lead) -> None:
    admin_save(helix_lead, marketer, employee_count="900")

    helix_lead.refresh_from_db()
    assert helix_lead.size_band == "Mid-market"


def test_saving_a_lead_still_short_says_what_it_lacks(marketer: object, helix_lead: Lead) -> None:
    response = admin_save(helix_lead, marketer, first_name="Augusta")

    held = [note for note in messages_of(response) if note.startswith("Not an MQL yet")]
    assert held and "Industry unknown" in held[0] and "Size band unknown" in held[0]


def test_the_lead_list_says_why_a_lead_is_not_an_mql(marketer: object, helix_lead: Lead) -> None:
    response = client_for(marketer).get(reverse("admin:leads_lead_changelist"))

    html = response.content.decode()
    assert "short of the MQL threshold of 60" in html
    assert "Industry unknown (“ICP industry” +20)" in html


def test_the_lead_page_says_which_fields_hold_it_from_mql(marketer: object, helix_lead: Lead) -> None:
    Lead.objects.filter(pk=helix_lead.pk).update(score=70, country="")

    response = client_for(marketer).get(reverse("admin:leads_lead_change", args=[helix_lead.pk]))

    assert "Missing: Country." in response.content.decode()


def test_the_lead_page_shows_each_enriched_value_with_its_provider(marketer: object) -> None:
    lead = LeadFactory(
        industry="Software",
        enrichment_sources={
            "industry": {"provider": "Company directory", "confidence": 0.9, "at": FIXED_NOW.isoformat()}
        },
    )

    response = client_for(marketer).get(reverse("admin:leads_lead_change", args=[lead.pk]))

    html = response.content.decode()
    assert 'data-testid="enrichment-provenance"' in html and "Company directory" in html and "90 %" in html
