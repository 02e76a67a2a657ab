import pytest

from leads.enrichment.providers import PROVIDER_KINDS, Found, LeadSnapshot, ProviderContext
from leads.tests.factories import FIXED_NOW

CONTEXT = ProviderContext(settings={}, timeout_seconds=1.0, now=FIXED_NOW)


def values(kind: str, snapshot: LeadSnapshot) -> dict[str, object]:
    result = PROVIDER_KINDS[kind].enrich(snapshot, CONTEXT)
    return {name: found.value for name, found in result.values.items()}


def test_job_title_provider_gives_seniority_and_function() -> None:
    assert values("job_title", LeadSnapshot(job_title="VP Mktg")) == {"seniority": "vp", "job_function": "marketing"}


def test_job_title_provider_says_nothing_about_an_unreadable_title() -> None:
    assert values("job_title", LeadSnapshot(job_title="???")) == {}


def test_email_domain_provider_gives_company_domain_and_website_for_a_company_address() -> None:
    assert values("email_domain", LeadSnapshot(email="ada@Acme-Analytics.io")) == {
        "email_domain_kind": "company",
        "company_domain": "acme-analytics.io",
        "website": "https://acme-analytics.io",
    }


@pytest.mark.parametrize(("email", "kind"), [("ada@gmail.com", "free_mail"), ("ada@mailinator.com", "disposable")])
def test_email_domain_provider_flags_free_and_disposable_mail_without_a_company(email: str, kind: str) -> None:
    assert values("email_domain", LeadSnapshot(email=email)) == {"email_domain_kind": kind}


def test_snapshot_fills_only_blanks_from_a_provider() -> None:
    snapshot = LeadSnapshot(company_domain="typed.example", industry="")

    updated = snapshot.with_values({"company_domain": Found("found.example", 0.9), "industry": Found("Software", 0.5)})

    assert (updated.company_domain, updated.industry) == ("typed.example", "Software")


def test_unknown_settings_are_refused_by_built_in_providers() -> None:
    assert PROVIDER_KINDS["job_title"].validate_settings({"speed": "fast"}) == {"speed": "Unknown setting."}
