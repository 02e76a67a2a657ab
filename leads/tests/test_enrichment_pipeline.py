from datetime import datetime, timedelta

import pytest
from pytest_django.fixtures import Settings

from leads.enrichment import services as enrichment
from leads.enrichment.directory import import_directory_csv
from leads.models import (
    CompanyDirectoryEntry,
    EnrichmentProvider,
    EnrichmentStatus,
    Lead,
    ProviderRun,
    ProviderRunStatus,
)
from leads.tests.factories import FIXED_NOW, LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme() -> CompanyDirectoryEntry:
    return CompanyDirectoryEntry.objects.create(
        domain="acme.example", name="Acme Analytics", employee_count=2500, industry="SaaS", country="US"
    )


def test_enrichment_with_the_built_in_providers_fills_firmographics_and_role(acme: CompanyDirectoryEntry) -> None:
    lead = LeadFactory(email="ada@acme.example", company_name="", company_domain="", job_title="VP Mktg", country="")

    lead = enrichment.enrich_lead(lead_id=lead.pk, now=FIXED_NOW)

    assert (lead.company_name, lead.company_domain, lead.employee_count, lead.country) == (
        "Acme Analytics",
        "acme.example",
        2500,
        "US",
    )
    assert (lead.industry, lead.size_band) == ("Software", "Enterprise")
    assert (lead.seniority, lead.job_function, lead.email_domain_kind) == ("vp", "marketing", "company")
    assert (lead.enrichment_status, lead.enriched_at) == (EnrichmentStatus.ENRICHED, FIXED_NOW)


@pytest.mark.parametrize("source", ["staff", "person"])
def test_enrichment_keeps_a_size_band_staff_or_the_person_chose(acme: CompanyDirectoryEntry, source: str) -> None:
    # The directory says 2,500 employees (Enterprise); the lead's own answer is the subsidiary's band.
    lead = LeadFactory(
        email="ada@acme.example", company_domain="", size_band="SMB",
        field_sources={"size_band": {"source": source, "at": FIXED_NOW.isoformat()}},
    )  # fmt: skip

    lead = enrichment.enrich_lead(lead_id=lead.pk, now=FIXED_NOW + timedelta(hours=1))

    assert (lead.employee_count, lead.size_band) == (2500, "SMB")


def test_enrichment_gives_the_band_of_the_count_where_a_provider_set_the_old_one(acme: CompanyDirectoryEntry) -> None:
    lead = LeadFactory(
        email="ada@acme.example", company_domain="", size_band="SMB",
        enrichment_sources={"size_band": {"provider": "size bands", "confidence": 1.0, "at": FIXED_NOW.isoformat()}},
    )  # fmt: skip

    lead = enrichment.enrich_lead(lead_id=lead.pk, now=FIXED_NOW + timedelta(hours=1))

    assert lead.size_band == "Enterprise"


def test_each_provider_run_is_recorded_with_the_fields_it_set(acme: CompanyDirectoryEntry) -> None:
    lead = LeadFactory(email="ada@acme.example", company_domain="", job_title="CTO")

    enrichment.enrich_lead(lead_id=lead.pk, now=FIXED_NOW)

    runs = {run.provider_name: run for run in ProviderRun.objects.filter(lead=lead)}
    assert set(runs) == {"Email domain", "Job title", "Company directory"}
    assert runs["Job title"].fields_set == ["job_function", "seniority"]
    assert all(run.status == ProviderRunStatus.OK for run in runs.values())


def test_provenance_names_the_provider_and_its_confidence(acme: CompanyDirectoryEntry) -> None:
    lead = LeadFactory(email="ada@acme.example", company_domain="")

    lead = enrichment.enrich_lead(lead_id=lead.pk, now=FIXED_NOW)

    assert lead.enrichment_sources["employee_count"] == {
        "provider": "Company directory",
        "confidence": 0.9,
        "at": FIXED_NOW.isoformat(),
    }


def test_a_value_the_person_typed_is_kept_unless_the_provider_may_overwrite(acme: CompanyDirectoryEntry) -> None:
    lead = LeadFactory(email="ada@acme.example", company_domain="", company_name="ACME Inc (typed)")

    lead = enrichment.enrich_lead(lead_id=lead.pk, now=FIXED_NOW)

    assert lead.company_name == "ACME Inc (typed)"


def test_a_provider_set_to_overwrite_replaces_a_typed_value(acme: CompanyDirectoryEntry) -> None:
    EnrichmentProvider.objects.filter(kind="company_directory").update(may_overwrite=True)
    lead = LeadFactory(email="ada@acme.example", company_domain="", company_name="ACME Inc (typed)")

    lead = enrichment.enrich_lead(lead_id=lead.pk, now=FIXED_NOW)

    assert lead.company_name == "Acme Analytics"


def test_a_provider_set_to_overwrite_never_replaces_a_value_staff_set(acme: CompanyDirectoryEntry) -> None:
    EnrichmentProvider.objects.filter(kind="company_directory").update(may_overwrite=True)
    staff_set = {"company_name": {"source": "staff", "at": FIXED_NOW.isoformat()}}
    lead = LeadFactory(
        email="ada@acme.example", company_domain="", company_name="Acme (per sales)", field_sources=staff_set
    )

    lead = enrichment.enrich_lead(lead_id=lead.pk, now=FIXED_NOW)

    assert lead.company_name == "Acme (per sales)"


def test_a_failing_provider_leaves_the_lead_partly_enriched(acme: CompanyDirectoryEntry, settings: Settings) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = True  # so the call to 127.0.0.1:9 is made, and fails to connect
    EnrichmentProvider.objects.create(
        name="Broken API", kind="http", order=99, timeout_seconds=0.5,
        settings={"url": "http://127.0.0.1:9/v1?email={email}", "mapping": {"industry": "industry"}, "retries": 0},
    )  # fmt: skip
    lead = LeadFactory(email="ada@acme.example", company_domain="")

    lead = enrichment.enrich_lead(lead_id=lead.pk, now=FIXED_NOW)

    assert lead.enrichment_status == EnrichmentStatus.PARTIAL
    failed = ProviderRun.objects.get(lead=lead, provider_name="Broken API")
    assert failed.status == ProviderRunStatus.FAILED
    assert "connection failed" in failed.error
    assert lead.employee_count == 2500


def test_an_unknown_provider_kind_is_a_failed_run_not_a_crash() -> None:
    EnrichmentProvider.objects.all().delete()
    EnrichmentProvider.objects.create(name="Gone", kind="retired_kind")
    lead = LeadFactory()

    lead = enrichment.enrich_lead(lead_id=lead.pk, now=FIXED_NOW)

    assert lead.enrichment_status == EnrichmentStatus.FAILED
    assert "Unknown provider kind" in ProviderRun.objects.get(lead=lead).error


def test_enriching_twice_gives_the_same_lead_and_run_log(acme: CompanyDirectoryEntry) -> None:
    lead = LeadFactory(email="ada@acme.example", company_domain="", job_title="CTO")
    enrichment.enrich_lead(lead_id=lead.pk, now=FIXED_NOW)
    first = Lead.objects.values().get(pk=lead.pk)

    enrichment.enrich_lead(lead_id=lead.pk, now=FIXED_NOW + timedelta(minutes=5))

    assert Lead.objects.values().get(pk=lead.pk) == first
    assert ProviderRun.objects.filter(lead=lead).count() == 3


def test_directory_csv_import_creates_and_updates_entries(acme: CompanyDirectoryEntry) -> None:
    csv_text = (
        "domain,name,employee_count,industry,country\n"
        'ACME.example,Acme Analytics Inc,"3,000",Software,us\n'
        "www.tinystart.example,Tiny Start,12,fintech,PT\n"
    )

    report = import_directory_csv(csv_text)

    assert (report.created, report.updated, report.errors) == (1, 1, [])
    assert CompanyDirectoryEntry.objects.get(domain="acme.example").employee_count == 3000
    assert CompanyDirectoryEntry.objects.get(domain="tinystart.example").industry == "Fintech"


def test_directory_csv_import_reports_every_bad_line_and_saves_nothing() -> None:
    csv_text = (
        "domain,name,employee_count,industry,country\n"
        "gmail.com,Google Mail,10,Software,US\n"
        "ok.example,Ok,many,Software,US\n"
        "fine.example,Fine,10,Basket weaving,US\n"
        "good.example,Good,10,Software,USA\n"
    )

    report = import_directory_csv(csv_text)

    assert [error.split(":")[0] for error in report.errors] == ["Line 2", "Line 3", "Line 4", "Line 5"]
    assert not CompanyDirectoryEntry.objects.exists()


def test_directory_csv_without_a_domain_column_is_refused() -> None:
    assert import_directory_csv("name,industry\nAcme,Software\n").errors == [
        "The header row needs the column(s): domain."
    ]


def test_a_provider_on_a_private_address_is_a_failed_run_with_the_reason(acme: CompanyDirectoryEntry) -> None:
    EnrichmentProvider.objects.create(
        name="Internal API", kind="http", order=99, timeout_seconds=0.5,
        settings={"url": "http://127.0.0.1:9/v1?email={email}", "mapping": {"industry": "industry"}, "retries": 0},
    )  # fmt: skip
    lead = LeadFactory(email="ada@acme.example", company_domain="")

    lead = enrichment.enrich_lead(lead_id=lead.pk, now=FIXED_NOW)

    failed = ProviderRun.objects.get(lead=lead, provider_name="Internal API")
    assert (failed.status, failed.error) == (
        ProviderRunStatus.FAILED,
        "Refused: This address points into a private network (127.0.0.1); "
        "set OUTBOUND_ALLOW_PRIVATE_NETWORKS=1 to allow it.",
    )


class SpentHold:
    """A caller's hold on the lead whose time is up (renewing it gives no more)."""

    def clock(self) -> datetime:
        return FIXED_NOW

    def keep(self) -> datetime:
        return FIXED_NOW


def test_no_provider_runs_once_the_callers_hold_on_the_lead_is_spent_and_the_lead_is_tried_again_later() -> None:
    lead = LeadFactory(email="ada@acme.example", job_title="CTO")

    lead = enrichment.enrich_lead(lead_id=lead.pk, now=FIXED_NOW, hold=SpentHold())

    runs = set(ProviderRun.objects.filter(lead=lead).values_list("status", "error"))
    assert runs == {(ProviderRunStatus.FAILED, enrichment.OUT_OF_TIME)}
    assert (lead.seniority, lead.enrichment_retry_at) == ("", FIXED_NOW + enrichment.RETRY_DELAYS[0])
