"""First-contact SLA compliance by rep, team and source, read from the handoff app's SLA records."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from handoff.models import Assignment, BreachAction, SLARecord, Team
from handoff.tests.factories import RepFactory, TeamFactory
from leads.models import Lead, Stage
from leads.tests.factories import FIXED_NOW
from reports.selectors import Report
from reports.selectors.sla import sla_table
from reports.tests.conftest import scope
from reports.tests.factories import Step, journey

pytestmark = pytest.mark.django_db

DUE = FIXED_NOW + timedelta(hours=4)


def clock(*, rep: User, team: Team, lead: Lead, turn: int, **outcome: object) -> SLARecord:
    assignment = Assignment.objects.create(
        lead=lead, rep=rep, team=team, turn=turn, assigned_at=FIXED_NOW, sla_due_at=DUE
    )
    return SLARecord.objects.create(
        assignment=assignment, target_duration=timedelta(hours=4), on_breach=BreachAction.NOTIFY_MANAGER,
        started_at=FIXED_NOW, due_at=DUE, remind_at=FIXED_NOW + timedelta(hours=3), **outcome,
    )  # fmt: skip


@pytest.fixture
def clocks(db: None) -> None:
    """Riley in Enterprise: met, met late, breached, running, stopped. Robin in Mid-market: met."""
    riley = RepFactory(username="riley", first_name="Riley", last_name="Rep")
    robin = RepFactory(username="robin", first_name="", last_name="")
    enterprise, mid_market = TeamFactory(name="Enterprise"), TeamFactory(name="Mid-market")
    podcast = Step("podcast", source="b2b-growth-podcast")

    def lead() -> Lead:
        return journey(podcast, stage=Stage.MQL, moves=[(Stage.MQL, 1)])

    clock(rep=riley, team=enterprise, lead=lead(), turn=1, met_at=DUE - timedelta(hours=1))
    clock(rep=riley, team=enterprise, lead=lead(), turn=2, met_at=DUE + timedelta(minutes=5))
    clock(rep=riley, team=enterprise, lead=lead(), turn=3, breached_at=DUE)
    clock(rep=riley, team=enterprise, lead=lead(), turn=4)
    clock(rep=riley, team=enterprise, lead=lead(), turn=5, stopped_at=FIXED_NOW + timedelta(hours=1))
    clock(rep=robin, team=mid_market, lead=journey(Step("cpc", source="google")), turn=1, met_at=FIXED_NOW)


def rows() -> dict[tuple[str, str], tuple[object, ...]]:
    table = sla_table(scope())
    assert table is not None
    return {(row[0], row[1]): row[2:] for row in table.rows}


def test_compliance_by_rep_counts_met_against_met_and_breached(clocks: None) -> None:
    # Riley: 5 clocks; 1 met in time, 2 breached (one flagged, one contacted late), 1 running, 1 stopped.
    assert rows()[("Rep", "Riley Rep (riley)")] == (5, 1, 2, 1, pytest.approx(1 / 3))


def test_compliance_by_team(clocks: None) -> None:
    assert rows()[("Team", "Mid-market")] == (1, 1, 0, 0, 1.0)


def test_compliance_by_first_touch_source(clocks: None) -> None:
    assert rows()[("Source", "b2b-growth-podcast")][:3] == (5, 1, 2)


def test_a_rep_without_a_name_shows_the_username(clocks: None) -> None:
    assert ("Rep", "robin") in rows()


def test_sla_compliance_follows_the_lead_filters(clocks: None) -> None:
    filtered = scope(leads=Lead.objects.filter(first_touch_source="google"), is_filtered=True)

    table = sla_table(filtered)

    assert table is not None
    assert [(row[0], row[1]) for row in table.rows] == [("Rep", "robin"), ("Team", "Mid-market"), ("Source", "google")]


def test_the_sla_section_is_left_out_while_no_lead_was_ever_assigned() -> None:
    assert Report(scope()).table("sla") is None


def test_a_reps_clocks_from_several_sources_and_teams_add_up_in_each_dimension(db: None) -> None:
    riley = RepFactory(username="riley")
    enterprise, mid_market = TeamFactory(name="Enterprise"), TeamFactory(name="Mid-market")
    podcast, search = Step("podcast", source="b2b-growth-podcast"), Step("cpc", source="google")
    clock(rep=riley, team=enterprise, lead=journey(podcast), turn=1, met_at=FIXED_NOW)
    clock(rep=riley, team=mid_market, lead=journey(podcast), turn=1, breached_at=DUE)
    clock(rep=riley, team=enterprise, lead=journey(search), turn=2, met_at=FIXED_NOW)

    counted = {key: value[:4] for key, value in rows().items()}

    assert counted[("Rep", "riley")] == (3, 2, 1, 0)
    assert counted[("Team", "Enterprise")] == (2, 2, 0, 0)
    assert counted[("Source", "b2b-growth-podcast")] == (2, 1, 1, 0)


def test_the_clocks_are_read_once_for_the_three_dimensions(clocks: None) -> None:
    with CaptureQueriesContext(connection) as queries:
        sla_table(scope())

    assert len([query for query in queries if "GROUP BY" in query["sql"]]) == 1


def test_rows_with_as_many_clocks_come_in_name_order(db: None) -> None:
    riley = RepFactory(username="riley")
    for name in ("Zeta", "Alpha", "Mid"):
        clock(rep=riley, team=TeamFactory(name=name), lead=journey(Step("cpc", source="google")), turn=1)

    assert [name for (by, name) in rows() if by == "Team"] == ["Alpha", "Mid", "Zeta"]
