import pytest

from leads import demo
from leads.enrichment.demo import load_demo_enrichment
from leads.models import CompanyDirectoryEntry, Lead
from leads.tests.factories import FIXED_NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_leads() -> dict[str, object]:
    users = demo.ensure_demo_users(password="demo")
    demo.load_demo_leads(count=32, reps=[users["rep1"]], now=FIXED_NOW)
    return users


def test_demo_enterprise_leads_are_enriched_from_the_directory(demo_leads: dict[str, object]) -> None:
    load_demo_enrichment(users=demo_leads, now=FIXED_NOW)  # type: ignore[arg-type]

    lead = Lead.objects.get(email__endswith="@evergreen-retail.example", email__contains=".4@")
    assert (lead.size_band, lead.industry) == ("Enterprise", "Retail")


def test_demo_enrichment_twice_creates_nothing_twice(demo_leads: dict[str, object]) -> None:
    load_demo_enrichment(users=demo_leads, now=FIXED_NOW)  # type: ignore[arg-type]
    companies = CompanyDirectoryEntry.objects.count()

    summary = load_demo_enrichment(users=demo_leads, now=FIXED_NOW)  # type: ignore[arg-type]

    assert CompanyDirectoryEntry.objects.count() == companies
    assert summary.endswith("0 leads enriched")
