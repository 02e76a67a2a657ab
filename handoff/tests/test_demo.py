from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User

from handoff.countdown import sla_clock
from handoff.demo import load_demo_handoff
from handoff.models import Assignment, ContactLog, RepPool, RoutingDecision, RoutingRule, SLAPolicy, SLARecord, Team
from handoff.selectors import team_calendar
from leads import demo as leads_demo
from leads.enrichment.demo import load_demo_enrichment
from leads.models import Lead, Stage

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_users(now: datetime) -> dict[str, User]:
    users = leads_demo.ensure_demo_users(password="demo")
    leads_demo.load_demo_leads(count=80, reps=[users[f"rep{i}"] for i in range(1, 5)], now=now)
    return users


def test_demo_creates_the_two_teams_managed_by_the_manager(demo_users: dict[str, User], now: datetime) -> None:
    load_demo_handoff(users=demo_users, now=now)

    teams = {team.slug: team for team in Team.objects.prefetch_related("managers", "memberships__user")}
    assert set(teams) == {"enterprise", "mid-market"}
    assert {m.user.username for m in teams["enterprise"].memberships.all()} == {"rep1", "rep2"}
    assert (teams["enterprise"].timezone, teams["mid-market"].timezone) == ("Europe/London", "America/New_York")
    assert all(list(team.managers.all()) == [demo_users["manager"]] for team in teams.values())


def test_demo_has_a_default_and_a_faster_policy_for_high_scores(demo_users: dict[str, User], now: datetime) -> None:
    load_demo_handoff(users=demo_users, now=now)

    targets = {policy.min_score: policy.target_duration.total_seconds() / 3600 for policy in SLAPolicy.objects.all()}
    assert targets == {None: 24, 70: 4}


def test_every_owned_demo_mql_gets_an_open_assignment(demo_users: dict[str, User], now: datetime) -> None:
    load_demo_handoff(users=demo_users, now=now)

    owned_mqls = Lead.objects.filter(stage=Stage.MQL, owner__isnull=False)
    assert owned_mqls.exists()
    assert all(Assignment.objects.open().filter(lead=lead, rep=lead.owner).exists() for lead in owned_mqls)


def test_demo_clocks_are_met_running_due_soon_and_breached(demo_users: dict[str, User]) -> None:
    now = datetime(2026, 3, 2, 15, tzinfo=UTC)  # both demo teams are open
    load_demo_handoff(users=demo_users, now=now)

    urgencies = set()
    for assignment in Assignment.objects.open().select_related("team", "sla"):
        sla = assignment.sla
        clock = sla_clock(calendar=team_calendar(assignment.team), due_at=sla.due_at, target=sla.target_duration,
                          now=now, met_at=sla.met_at)  # fmt: skip
        urgencies.add(clock.urgency)
    assert {"met", "ok", "urgent", "breached"} <= urgencies


def test_sqls_in_the_demo_have_their_qualification_history(demo_users: dict[str, User], now: datetime) -> None:
    load_demo_handoff(users=demo_users, now=now)

    sql = Lead.objects.filter(stage=Stage.SQL).first()
    assert sql is not None
    assignment = Assignment.objects.get(lead=sql)
    assert (assignment.outcome, assignment.qualification.need) == ("qualified", assignment.qualification.need)
    assert ContactLog.objects.filter(assignment=assignment).exists()


def test_loading_the_demo_twice_creates_nothing_twice(demo_users: dict[str, User], now: datetime) -> None:
    load_demo_handoff(users=demo_users, now=now)
    counts = (Team.objects.count(), SLAPolicy.objects.count(), Assignment.objects.count(), SLARecord.objects.count())

    summary = load_demo_handoff(users=demo_users, now=now)

    assert (
        Team.objects.count(),
        SLAPolicy.objects.count(),
        Assignment.objects.count(),
        SLARecord.objects.count(),
    ) == counts
    assert "0 open and 0 finished assignments added" in summary


# --- Routing -------------------------------------------------------------------------------------------------


@pytest.fixture
def enriched_demo(demo_users: dict[str, User], now: datetime) -> dict[str, User]:
    """The demo leads enriched from the demo directory (leads' demo), then the handoff demo with its routing."""
    load_demo_enrichment(users=demo_users, now=now)
    load_demo_handoff(users=demo_users, now=now)
    return demo_users


def test_demo_enterprise_leads_are_routed_to_the_senior_team(enriched_demo: object) -> None:
    decisions = RoutingDecision.objects.filter(lead__size_band="Enterprise", lead__employee_count__lt=10000)

    assert decisions.exists()
    assert set(decisions.values_list("team__slug", flat=True)) == {"enterprise"}


def test_demo_strategic_accounts_go_to_the_strategic_pool(enriched_demo: object) -> None:
    decisions = RoutingDecision.objects.filter(lead__employee_count__gte=10000)

    assert decisions.exists()
    assert set(decisions.values_list("pool__name", "team__slug")) == {("Strategic accounts", "enterprise")}


def test_demo_start_ups_go_to_the_start_up_nurture_track(enriched_demo: object) -> None:
    decisions = RoutingDecision.objects.filter(lead__company_domain__in=["nimbus.example", "junipercloud.example"])

    assert decisions.exists()
    assert set(decisions.values_list("destination", "nurture_track")) == {("nurture", "start-up-nurture")}


def test_demo_routing_twice_creates_nothing_twice(enriched_demo: dict[str, User], now: datetime) -> None:
    counts = (RoutingRule.objects.count(), RepPool.objects.count(), RoutingDecision.objects.count())

    load_demo_handoff(users=enriched_demo, now=now)

    assert (RoutingRule.objects.count(), RepPool.objects.count(), RoutingDecision.objects.count()) == counts
