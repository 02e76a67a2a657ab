"""Enrichment for a pipeline batch: the same results as lead by lead, written set-based, never over a newer row."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.batch import batch_scope
from leads import services
from leads.enrichment import services as enrichment
from leads.models import CompanyDirectoryEntry, EnrichmentStatus, Lead, ProviderRun
from leads.tests.factories import FIXED_NOW, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

COMPARED = ("company_name", "company_domain", "employee_count", "country", "industry", "size_band", "seniority",
            "job_function", "email_domain_kind", "enrichment_status", "enriched_at", "enrichment_attempts",
            "enrichment_retry_at", "enrichment_sources")  # fmt: skip


@pytest.fixture(autouse=True)
def acme() -> CompanyDirectoryEntry:
    return CompanyDirectoryEntry.objects.create(
        domain="acme.example", name="Acme Analytics", employee_count=2500, industry="SaaS", country="US"
    )


def vp_at_acme(name: str) -> Lead:
    return LeadFactory(
        email=f"{name}@acme.example", company_name="", company_domain="", job_title="VP Mktg", country=""
    )


def runs_of(lead: Lead) -> list[tuple[str, str, list[str]]]:
    rows = ProviderRun.objects.filter(lead=lead).order_by("provider_id")
    return [(run.provider_name, run.status, run.fields_set) for run in rows]


def audited(lead: Lead) -> dict[str, Any]:
    entry = LogEntry.objects.get_for_object(lead).get()
    return entry.changes_dict


def test_a_batch_enriches_each_lead_as_enriching_it_alone_does() -> None:
    alone, batched = vp_at_acme("ada"), vp_at_acme("bob")
    enrichment.enrich_lead(lead_id=alone.pk, now=FIXED_NOW)

    assert enrichment.enrich_leads(lead_ids=[batched.pk], now=FIXED_NOW) == [batched.pk]

    alone.refresh_from_db()
    batched.refresh_from_db()
    assert [getattr(batched, name) for name in COMPARED] == [getattr(alone, name) for name in COMPARED]
    assert batched.enrichment_status == EnrichmentStatus.ENRICHED
    assert runs_of(batched) == runs_of(alone)
    assert audited(batched) == audited(alone)  # the audit trail lead.save() leaves, without the save


def test_a_lead_changed_after_the_batch_read_it_is_left_for_its_new_round(monkeypatch: pytest.MonkeyPatch) -> None:
    edited, untouched = vp_at_acme("ada"), vp_at_acme("bob")
    run_providers = enrichment._run_providers

    def staff_edit_meanwhile(lead: Lead, **kwargs: Any) -> Any:
        if lead.pk == edited.pk:  # providers are slow; staff change the title in the meantime
            Lead.objects.filter(pk=edited.pk).update(job_title="Chief Executive")
        return run_providers(lead, **kwargs)

    monkeypatch.setattr(enrichment, "_run_providers", staff_edit_meanwhile)

    enriched = enrichment.enrich_leads(lead_ids=[edited.pk, untouched.pk], now=FIXED_NOW)

    assert enriched == [untouched.pk]
    edited.refresh_from_db()
    assert (edited.job_title, edited.enrichment_attempts, edited.seniority) == ("Chief Executive", 0, "")
    assert not ProviderRun.objects.filter(lead=edited).exists()


def test_a_value_staff_set_while_the_batch_ran_is_kept_over_the_providers(monkeypatch: pytest.MonkeyPatch) -> None:
    edited, untouched = vp_at_acme("ada"), vp_at_acme("bob")
    staff = UserFactory(username="staffer")
    run_providers = enrichment._run_providers

    def staff_edit_after_the_providers(lead: Lead, **kwargs: Any) -> Any:
        runs = run_providers(lead, **kwargs)
        if lead.pk == edited.pk:  # the directory said SaaS; staff know better, while the batch goes on
            fresh = Lead.objects.get(pk=edited.pk)
            before = {"industry": fresh.industry}
            fresh.industry = "Manufacturing"
            fresh.save(update_fields=["industry", "updated_at"])
            services.record_staff_edit(lead=fresh, before=before, by=staff, now=FIXED_NOW)
        return runs

    monkeypatch.setattr(enrichment, "_run_providers", staff_edit_after_the_providers)

    enriched = enrichment.enrich_leads(lead_ids=[edited.pk, untouched.pk], now=FIXED_NOW)

    edited.refresh_from_db()
    untouched.refresh_from_db()
    assert enriched == [edited.pk, untouched.pk]
    assert (edited.industry, edited.field_sources["industry"]["source"]) == ("Manufacturing", "staff")
    assert (edited.enrichment_status, edited.employee_count) == (EnrichmentStatus.ENRICHED, 2500)
    assert untouched.industry == "Software"


def test_a_lead_not_due_is_left_alone() -> None:
    lead = vp_at_acme("ada")
    Lead.objects.filter(pk=lead.pk).update(enrichment_status=EnrichmentStatus.ENRICHED)

    assert enrichment.enrich_leads(lead_ids=[lead.pk], now=FIXED_NOW) == []
    assert not ProviderRun.objects.exists()


def test_writing_a_batch_takes_the_same_number_of_queries_whatever_its_size() -> None:
    def queries_for(names: Callable[[int], str], count: int) -> int:
        leads = [vp_at_acme(names(i)) for i in range(count)]
        with batch_scope(), CaptureQueriesContext(connection) as queries:  # as the pipeline runs it
            enrichment.enrich_leads(lead_ids=[lead.pk for lead in leads], now=FIXED_NOW)
        return len(queries)

    small = queries_for(lambda i: f"small{i}", 2)

    assert queries_for(lambda i: f"large{i}", 20) == small
