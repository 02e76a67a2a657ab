import pytest

from leads import demo
from leads.enrichment.demo import load_demo_enrichment
from leads.models import Lead, RoutingRule
from leads.tests.factories import FIXED_NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_leads() -> dict[str, object]:
    users = demo.ensure_demo_users(password="demo")
    demo.load_demo_leads(count=32, reps=[users["rep1"]], now=FIXED_NOW)
    return users


def test_demo_enterprise_leads_route_to_the_senior_team(demo_leads: dict[str, object]) -> None:
    load_demo_enrichment(users=demo_leads, now=FIXED_NOW)  # type: ignore[arg-type]

    lead = Lead.objects.get(email__endswith="@evergreen-retail.example", email__contains=".4@")
    assert (lead.size_band, lead.industry, lead.routing_team) == ("Enterprise", "Retail", "enterprise")


def test_demo_start_ups_go_to_the_nurture_track(demo_leads: dict[str, object]) -> None:
    load_demo_enrichment(users=demo_leads, now=FIXED_NOW)  # type: ignore[arg-type]

    startups = Lead.objects.filter(company_domain__in=["nimbus.example", "junipercloud.example"])
    assert startups.exists()
    assert set(startups.values_list("routing_action", "nurture_track").distinct()) == {("nurture", "Start-up nurture")}


def test_demo_enrichment_twice_creates_nothing_twice(demo_leads: dict[str, object]) -> None:
    load_demo_enrichment(users=demo_leads, now=FIXED_NOW)  # type: ignore[arg-type]
    rules = RoutingRule.objects.count()

    summary = load_demo_enrichment(users=demo_leads, now=FIXED_NOW)  # type: ignore[arg-type]

    assert RoutingRule.objects.count() == rules
    assert summary.endswith("0 leads enriched and routed")
