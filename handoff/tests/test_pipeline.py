from datetime import timedelta

import pytest
from django_q.tasks import async_task

from handoff import pipeline
from leads.models import CompanyDirectoryEntry, EnrichmentStatus, Lead, RoutingRule
from leads.tests.factories import FIXED_NOW, LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def enterprise_setup() -> None:
    CompanyDirectoryEntry.objects.create(domain="bigco.example", name="BigCo", employee_count=5000, industry="Software")
    RoutingRule.objects.create(name="Enterprise", order=10, size_bands=["Enterprise"], team_slug="enterprise")


def test_pipeline_enriches_then_routes_a_new_lead(enterprise_setup: None) -> None:
    lead = LeadFactory(email="cio@bigco.example", company_domain="", job_title="CIO")

    pipeline.process_lead(lead_id=lead.pk, now=FIXED_NOW)

    lead.refresh_from_db()
    assert (lead.enrichment_status, lead.size_band, lead.routing_team) == ("enriched", "Enterprise", "enterprise")


def end_state(lead: Lead) -> tuple[object, ...]:
    """Everything the pipeline decides about a lead; when it last scored (scored_at) may move on."""
    row = Lead.objects.values().get(pk=lead.pk)
    decided = {name: value for name, value in row.items() if name not in {"scored_at", "updated_at"}}
    counts = (lead.activities.count(), lead.provider_runs.count(), lead.stage_changes.count())
    return decided, counts, list(lead.assignments.values_list("rep_id", "team_id"))


def test_running_the_pipeline_twice_gives_the_same_end_state(enterprise_setup: None) -> None:
    lead = LeadFactory(email="cio@bigco.example", company_domain="", job_title="CIO")
    pipeline.process_lead(lead_id=lead.pk, now=FIXED_NOW)
    first = end_state(lead)

    pipeline.process_lead(lead_id=lead.pk, now=FIXED_NOW + timedelta(minutes=1))

    assert end_state(lead) == first


def test_the_queued_task_runs_the_pipeline(enterprise_setup: None) -> None:
    lead = LeadFactory(email="cio@bigco.example", company_domain="")

    async_task("handoff.tasks.process_lead", lead.pk)

    assert Lead.objects.get(pk=lead.pk).routed_at is not None


def test_sweep_routes_a_lead_whose_task_was_lost_with_what_is_known(enterprise_setup: None) -> None:
    lost = LeadFactory(created_at=FIXED_NOW - timedelta(minutes=30))
    fresh = LeadFactory(created_at=FIXED_NOW - timedelta(minutes=1))

    swept = pipeline.sweep_stalled_leads(now=FIXED_NOW)

    lost.refresh_from_db()
    fresh.refresh_from_db()
    assert swept == 1
    assert lost.routing_rule == RoutingRule.objects.get(is_default=True)
    assert lost.enrichment_status == EnrichmentStatus.FAILED
    assert fresh.routed_at is None


def test_sweeping_twice_changes_nothing_the_second_time(enterprise_setup: None) -> None:
    lead = LeadFactory(created_at=FIXED_NOW - timedelta(minutes=30))
    pipeline.sweep_stalled_leads(now=FIXED_NOW)
    first = Lead.objects.values().get(pk=lead.pk)

    swept = pipeline.sweep_stalled_leads(now=FIXED_NOW + timedelta(minutes=1))

    assert swept == 0
    assert Lead.objects.values().get(pk=lead.pk) == first


def test_an_enrichment_service_outage_does_not_stop_routing(
    enterprise_setup: None, httpserver: object, settings: object
) -> None:
    from leads.models import EnrichmentProvider

    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = True  # type: ignore[attr-defined]  # the test server is on 127.0.0.1
    httpserver.expect_request("/v1/person").respond_with_data("down", status=503)  # type: ignore[attr-defined]
    EnrichmentProvider.objects.create(
        name="Outage API", kind="http", order=5, timeout_seconds=1,
        settings={"url": httpserver.url_for("/v1/person?email={email}"), "mapping": {"industry": "industry"},  # type: ignore[attr-defined]
                  "retries": 0, "failure_threshold": 2},
    )  # fmt: skip
    leads = [LeadFactory(email=f"cio{i}@bigco.example", company_domain="") for i in range(4)]

    for lead in leads:
        pipeline.process_lead(lead_id=lead.pk, now=FIXED_NOW)

    assert len(httpserver.log) == 2  # type: ignore[attr-defined]  # the circuit opened after two failures
    assert set(Lead.objects.values_list("enrichment_status", "routing_team")) == {("partial", "enterprise")}


def test_an_enterprise_lead_that_scores_as_mql_is_assigned_to_the_routed_team_with_an_sla(
    enterprise_setup: None, rep: object
) -> None:
    from handoff.tests.factories import TeamFactory
    from scoring.tests.factories import ScoringModelFactory, ScoringRuleFactory

    model = ScoringModelFactory(mql_threshold=30)
    ScoringRuleFactory(scoring_model=model, points=40)  # industry Software or Fintech
    TeamFactory(slug="enterprise", members=[rep])
    lead = LeadFactory(email="cio@bigco.example", company_domain="", job_title="CIO", first_name="Ada")

    pipeline.process_lead(lead_id=lead.pk, now=FIXED_NOW)

    lead.refresh_from_db()
    assert (lead.score, lead.stage, lead.owner) == (40, "mql", rep)
    assignment = lead.assignments.get()
    assert assignment.team.slug == "enterprise"
    assert assignment.sla.due_at > FIXED_NOW
