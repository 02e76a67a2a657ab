"""Enrichment follows the data: a new title, address or company enriches the lead again; conflicts are kept."""

from datetime import timedelta

import pytest

from leads import merge, services
from leads.enrichment import freshness, provenance
from leads.enrichment import services as enrichment
from leads.models import CompanyDirectoryEntry, EnrichmentStatus, Lead, ProviderRun
from leads.tests.factories import FIXED_NOW, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

LATER = FIXED_NOW + timedelta(hours=1)


@pytest.fixture
def acme() -> CompanyDirectoryEntry:
    return CompanyDirectoryEntry.objects.create(
        domain="acme.example", name="Acme Analytics", employee_count=2500, industry="SaaS", country="US"
    )


def enriched_lead(**fields: object) -> Lead:
    lead = LeadFactory(**fields)
    return enrichment.enrich_lead(lead_id=lead.pk, now=FIXED_NOW)


def test_a_title_typed_in_admin_enriches_the_lead_again() -> None:
    lead = enriched_lead(job_title="Director of Marketing")
    before = {"job_title": lead.job_title}
    lead.job_title = "VP Marketing"
    lead.save()

    services.record_staff_edit(lead=lead, before=before, by=UserFactory(), now=LATER)
    lead = enrichment.enrich_lead(lead_id=lead.pk, now=LATER)

    assert (lead.seniority, lead.enriched_at) == ("vp", LATER)


def test_a_new_title_clears_the_seniority_read_from_the_old_one() -> None:
    lead = enriched_lead(job_title="Director of Marketing")
    before = {"job_title": lead.job_title}
    lead.job_title = "Astronaut"  # no seniority in it

    services.record_staff_edit(lead=lead, before=before, by=UserFactory(), now=LATER)
    lead = enrichment.enrich_lead(lead_id=lead.pk, now=LATER)

    assert lead.seniority == ""


def test_a_new_title_leaves_a_seniority_someone_typed() -> None:
    lead = LeadFactory(job_title="Director of Marketing", seniority="c_level", field_sources={})

    changed = freshness.mark_for_enrichment(lead, changed=["job_title"])

    assert lead.seniority == "c_level" and "seniority" not in changed


def test_a_title_a_repeat_submission_fills_in_enriches_the_lead_again() -> None:
    lead = enriched_lead(email="ada@acme.example", job_title="")

    services.capture_lead(
        details=services.LeadDetails(email="ada@acme.example", job_title="Head of Data"),
        consent=None,
        activity_kind="form_submitted",
        now=LATER,
    )
    lead = enrichment.enrich_lead(lead_id=lead.pk, now=LATER)

    assert (lead.job_title, lead.seniority) == ("Head of Data", "director")


def test_a_confirmed_title_change_enriches_the_lead_again() -> None:
    lead = enriched_lead(email="ada@acme.example", job_title="Director of Marketing")

    services.apply_verified_details(
        lead_id=lead.pk, details=services.LeadDetails(email="ada@acme.example", job_title="VP Marketing"), now=LATER
    )
    lead = enrichment.enrich_lead(lead_id=lead.pk, now=LATER)

    assert lead.seniority == "vp"


def test_a_change_of_input_gives_the_lead_to_the_pipeline() -> None:
    lead = enriched_lead(job_title="Director of Marketing")
    Lead.objects.filter(pk=lead.pk).update(pipeline_due_at=None)
    before = {"job_title": lead.job_title}
    lead.job_title = "VP Marketing"

    services.record_staff_edit(lead=lead, before=before, by=UserFactory(), now=LATER)

    lead.refresh_from_db()
    assert lead.enrichment_status == EnrichmentStatus.PENDING and lead.pipeline_due_at is not None


def test_a_change_of_another_field_does_not_enrich_again() -> None:
    lead = enriched_lead(first_name="Ada")
    before = {"first_name": "Ada"}
    lead.first_name = "Augusta"

    services.record_staff_edit(lead=lead, before=before, by=UserFactory(), now=LATER)

    lead.refresh_from_db()
    assert lead.enrichment_status == EnrichmentStatus.ENRICHED


def test_a_run_that_read_an_old_title_saves_nothing(acme: CompanyDirectoryEntry) -> None:
    lead = LeadFactory(email="ada@acme.example", job_title="Director of Marketing")
    snapshot_lead = Lead.objects.get(pk=lead.pk)
    Lead.objects.filter(pk=lead.pk).update(job_title="VP Marketing")  # changed while the providers ran

    enrichment._save_enrichment(lead=snapshot_lead, runs=[], now=FIXED_NOW)

    assert Lead.objects.get(pk=lead.pk).enrichment_status == EnrichmentStatus.PENDING


def test_a_provider_value_the_lead_did_not_take_is_kept_as_a_conflict(acme: CompanyDirectoryEntry) -> None:
    lead = enriched_lead(email="ada@acme.example", company_domain="", company_name="ACME Inc (typed)")

    assert lead.company_name == "ACME Inc (typed)"
    assert lead.enrichment_conflicts["company_name"] == {
        "provider": "Company directory",
        "value": "Acme Analytics",
        "confidence": 0.9,
        "at": FIXED_NOW.isoformat(),
        "kept": "ACME Inc (typed)",
        "kept_source": "person",
    }


def test_the_run_log_does_not_claim_a_value_it_did_not_set(acme: CompanyDirectoryEntry) -> None:
    lead = enriched_lead(email="ada@acme.example", company_domain="", company_name="ACME Inc (typed)")

    run = ProviderRun.objects.get(lead=lead, provider_name="Company directory")

    assert "company_name" not in run.fields_set and "employee_count" in run.fields_set
    assert run.fields_not_set["company_name"] == "kept the value set by person"


def test_the_lead_page_rows_show_provider_confidence_and_conflict(acme: CompanyDirectoryEntry) -> None:
    lead = enriched_lead(email="ada@acme.example", company_domain="", company_name="ACME Inc (typed)")

    rows = {(row.label, row.is_conflict): row for row in provenance.enriched_values(lead)}

    assert rows[("Employee count", False)].provider == "Company directory"
    assert rows[("Employee count", False)].confidence == "90 %"
    conflict = rows[("Company name", True)]
    assert (conflict.value, conflict.kept, conflict.kept_source) == (
        "Acme Analytics",
        "ACME Inc (typed)",
        "typed by the person",
    )


def test_a_stale_enrichment_is_refreshed_in_bounded_chunks() -> None:
    old = [enriched_lead() for _ in range(3)]
    enriched_lead_now = LeadFactory()
    enrichment.enrich_lead(lead_id=enriched_lead_now.pk, now=FIXED_NOW + timedelta(days=100))

    count = enrichment.refresh_stale_enrichment(
        now=FIXED_NOW + timedelta(days=100), older_than=timedelta(days=90), limit=2
    )

    pending = set(Lead.objects.filter(enrichment_status=EnrichmentStatus.PENDING).values_list("pk", flat=True))
    assert count == 2 and pending == {old[0].pk, old[1].pk}


def test_a_refreshed_lead_is_due_in_the_pipeline() -> None:
    lead = enriched_lead()
    Lead.objects.filter(pk=lead.pk).update(pipeline_due_at=None)

    enrichment.refresh_stale_enrichment(now=FIXED_NOW + timedelta(days=100), older_than=timedelta(days=90), limit=10)

    assert Lead.objects.get(pk=lead.pk).pipeline_due_at is not None


def test_merge_sources_ignore_the_conflict_record(acme: CompanyDirectoryEntry) -> None:
    lead = enriched_lead(email="ada@acme.example", company_domain="", company_name="ACME Inc (typed)")

    set_by = merge.sources_of(field_sources=lead.field_sources, enrichment_sources=lead.enrichment_sources)

    assert set_by.get("company_name", merge.Source.PERSON) == merge.Source.PERSON
