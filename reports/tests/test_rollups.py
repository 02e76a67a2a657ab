"""The rollups kept current by the writes give the same report as a from-scratch computation.

Generated leads over four months (several teams, campaigns, forms, paths and stage histories), rollups
built, then the changes the app makes to older and new leads through its services: a first touch corrected
by hand, an erased lead, a lead moving to MQL and on to SQL within one day, a late touch, leads created
today. After one refresh, the rollup tables equal a rebuild from scratch, and every report table read from
them equals the same table computed live from the leads, for each filter combination.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.db.models import Sum
from django.http import QueryDict
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from core.rollup_days import day_of
from handoff.models import (
    Assignment,
    AssignmentOutcome,
    BreachAction,
    ContactKind,
    Membership,
    RoutingDecision,
    RoutingRule,
    SLARecord,
    Team,
)
from handoff.services.actions import log_contact, reject_lead
from handoff.services.assignment import reassign_lead
from handoff.services.routing import route_lead, route_leads
from handoff.services.sla import flag_sla_events
from handoff.tests.factories import RepFactory
from integrations.privacy import erase_lead
from leads import imports
from leads import services as lead_services
from leads.import_files import FULL_NAME, read_table
from leads.models import ActivityKind, ImportEvent, Lead, LeadImport, LegalBasis, Stage
from leads.tests.factories import ActivityFactory, CaptureFormFactory, SubmissionFactory
from reports.filters import ReportFilter
from reports.models import (
    ALL_FORMS,
    CreditDayRollup,
    LeadDayRollup,
    MilestoneDayRollup,
    RollupDirtyDay,
    RollupState,
    SLADayRollup,
)
from reports.rollups import mark_day_changed, rebuild_rollups, refresh_rollups
from reports.selectors import TABLE_KEYS, Report
from reports.selectors.base import report_zone
from reports.selectors.rollups import median_of_counts, rollup_state
from reports.services import OfflineTouch, correct_first_touch
from reports.tests.factories import SpendFactory, Step, TouchFactory, journey
from tests.personas import client_for

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
STEPS = (
    Step("cpc", source="google", campaign="brand-search"),
    Step("paid_social", source="linkedin", campaign="q3-whitepaper"),
    Step("email", source="newsletter", campaign="monthly-digest"),
    Step("podcast", source="b2b-growth-podcast"),
    Step("", source="", is_meaningful=False),
)
HISTORIES: tuple[tuple[str, list[tuple[str, float]]], ...] = (
    (Stage.NEW, []),
    (Stage.NURTURE, [(Stage.NURTURE, 5)]),
    (Stage.MQL, [(Stage.MQL, 30)]),
    (Stage.SQL, [(Stage.MQL, 30), (Stage.SQL, 80)]),
    (Stage.REJECTED, [(Stage.MQL, 12), (Stage.REJECTED, 50)]),
    (Stage.MQL, []),  # imported straight into MQL: counted, but in no median
)
FILTERS: tuple[dict[str, str], ...] = (
    {},
    {"range": "all"},
    {"created_after": "2026-04-01", "created_before": "2026-05-31"},
    {"form": "webinar-signup"},
    {"form": "ebook"},
    {"campaign": "brand-search"},
    {"team": "enterprise"},
    {"team": "smb", "campaign": "q3-whitepaper", "created_after": "2026-03-01"},
    {"form": "webinar-signup", "team": "enterprise", "created_before": "2026-05-15"},
)


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def teams() -> None:
    from handoff.tests.factories import TeamFactory

    for slug in ("enterprise", "smb"):
        TeamFactory(slug=slug, name=slug.title())


def generate_leads(count: int, *, seed: int = 13) -> list[Lead]:
    rng = random.Random(seed)
    webinar, ebook = CaptureFormFactory(slug="webinar-signup"), CaptureFormFactory(slug="ebook")
    leads = []
    for _ in range(count):
        created_at = NOW - timedelta(days=rng.randrange(1, 120), hours=rng.randrange(24), minutes=rng.randrange(60))
        stage, moves = rng.choice(HISTORIES)
        steps = [rng.choice(STEPS) for _ in range(rng.choice((1, 1, 2, 3, 4)))]
        steps = [Step(s.medium, hours=i * 20, source=s.source, campaign=s.campaign, is_meaningful=s.is_meaningful)
                 for i, s in enumerate(steps)]  # fmt: skip
        lead = journey(*steps, created_at=created_at, stage=stage, moves=moves,
                       routing_team=rng.choice(("", "enterprise", "smb")))  # fmt: skip
        if rng.random() < 0.3:
            SubmissionFactory(lead=lead, form=webinar, submitted_at=created_at)
        if rng.random() < 0.2:
            ActivityFactory(lead=lead, kind=ActivityKind.FORM_SUBMITTED, metadata={"form": ebook.slug})
        leads.append(lead)
    SpendFactory(source="google", campaign="brand-search", month=NOW.date().replace(month=4, day=1))
    return leads


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every rollup row, as sorted tuples (credits rounded: a float sum may differ in the last bit)."""
    tables = {}
    for model in (LeadDayRollup, CreditDayRollup, MilestoneDayRollup, SLADayRollup):
        fields = [f.name for f in model._meta.concrete_fields if f.name != "id"]
        rows = model.objects.values_list(*fields)
        tables[model.__name__] = sorted(tuple(_plain(v) for v in row) for row in rows)
    return tables


def _plain(value: Any) -> Any:
    return round(value, 9) if isinstance(value, float) else value


def report_for(params: dict[str, str], *, use_rollups: bool) -> dict[str, Any]:
    query = QueryDict(mutable=True)
    query.update(params)
    scope = ReportFilter(query, queryset=Lead.objects.all()).scope(
        period="week", volume_by="channel", use_rollups=use_rollups
    )
    assert (scope.rollup is not None) == use_rollups
    report = Report(scope)
    # SLA compliance is None while no lead was ever assigned; every other table is there for any leads.
    tables = {key: report.table(key) for key in TABLE_KEYS}
    return {key: table and [tuple(_plain(v) for v in row) for row in table.rows] for key, table in tables.items()}


CLOCKS = ("met in time", "met late", "breached", "breached then met", "running", "stopped")


def start_clocks(leads: list[Lead], *, seed: int = 7) -> None:
    """An SLA clock for most leads sales got, in every state, with three reps across both teams."""
    rng = random.Random(seed)
    teams = list(Team.objects.order_by("slug"))
    reps = [
        RepFactory(username=f"rep{i}", first_name=name, last_name="Rep") for i, name in enumerate(("Ann", "Bo", ""))
    ]
    Membership.objects.bulk_create(Membership(team=team, user=rep) for team in teams for rep in reps)
    for turn, lead in enumerate(lead for lead in leads if lead.stage in (Stage.MQL, Stage.SQL, Stage.REJECTED)):
        if rng.random() < 0.2:
            continue
        clock = rng.choice(CLOCKS)
        assigned_at = lead.created_at + timedelta(hours=rng.randrange(1, 48))
        due_at, stopped = assigned_at + timedelta(hours=24), clock == "stopped"
        assignment = Assignment.objects.create(
            lead=lead, rep=rng.choice(reps), team=rng.choice(teams), turn=turn, assigned_at=assigned_at,
            sla_due_at=due_at, ended_at=assigned_at + timedelta(hours=5) if stopped else None,
            outcome=AssignmentOutcome.REJECTED if stopped else "",
        )  # fmt: skip
        SLARecord.objects.create(
            assignment=assignment, target_duration=timedelta(hours=24), on_breach=BreachAction.NOTIFY_MANAGER,
            started_at=assigned_at, due_at=due_at, remind_at=assigned_at + timedelta(hours=18),
            met_at={"met in time": assigned_at + timedelta(hours=2), "met late": due_at + timedelta(hours=6),
                    "breached then met": due_at + timedelta(hours=6)}.get(clock),
            breached_at=due_at + timedelta(minutes=1) if clock in ("breached", "breached then met") else None,
            stopped_at=assigned_at + timedelta(hours=5) if stopped else None,
        )  # fmt: skip


def work_the_clocks_the_way_the_app_does(manager: User) -> None:
    """On older leads' running clocks: a contact logged, a reassignment, a rejection, then the sweep's breaches."""
    running = [
        assignment
        for assignment in Assignment.objects.open().select_related("lead", "rep", "sla").order_by("pk")
        if assignment.sla.met_at is None and assignment.sla.breached_at is None
        and assignment.lead.created_at < NOW - timedelta(days=3)
    ]  # fmt: skip
    contacted, reassigned = running[0], running[1]
    rejected = next(assignment for assignment in running[2:] if assignment.lead.stage == Stage.MQL)
    log_contact(assignment=contacted, rep=contacted.rep, kind=ContactKind.CALL, note="Left a message", now=NOW)
    other_rep = Membership.objects.exclude(user=reassigned.rep).filter(team=reassigned.team).first()
    assert other_rep is not None
    reassign_lead(assignment=reassigned, now=NOW, by=manager, reason="Back from leave", rep=other_rep.user)
    reject_lead(assignment=rejected, rep=rejected.rep, reason="Not a fit", now=NOW)
    assert flag_sla_events(now=NOW).breached  # the other running clocks of older leads, long past due


def change_the_way_the_app_does(leads: list[Lead], manager: User) -> None:
    """Corrections, erasure, two stage changes in a day, a late touch and new leads, through the services."""
    corrected = next(lead for lead in leads if lead.first_touch_channel == "paid_search")
    correct_first_touch(
        lead=corrected, by=manager, reason="Heard us on the podcast", now=NOW,
        offline=OfflineTouch(channel="podcast", source="b2b-growth-podcast", occurred_at=corrected.created_at),
    )  # fmt: skip
    retouched = next(lead for lead in leads if lead.first_touch_channel == "email")
    earlier = TouchFactory(lead=retouched, occurred_at=retouched.created_at - timedelta(days=2))
    correct_first_touch(lead=retouched, by=manager, reason="Came from the ad", now=NOW, touch=earlier)
    erased = next(lead for lead in leads if lead.stage == Stage.MQL and lead.stage_changes.exists())
    lead_services.erase_lead_personal_data(lead=erased, now=NOW, by=manager, reason="Email of 14 June")
    twice = next(lead for lead in leads if lead.stage == Stage.NEW)
    twice = lead_services.change_stage(lead=twice, to_stage=Stage.MQL, now=NOW - timedelta(hours=3))
    lead_services.change_stage(lead=twice, to_stage=Stage.SQL, now=NOW - timedelta(hours=1))
    late = next(lead for lead in leads if lead.stage == Stage.SQL)
    TouchFactory(lead=late, occurred_at=late.created_at + timedelta(days=1), channel="webinar", source="partner")
    journey(Step("cpc", source="google", campaign="brand-search"), created_at=NOW - timedelta(hours=2),
            stage=Stage.MQL, moves=[(Stage.MQL, 1)], routing_team="enterprise")  # fmt: skip
    journey(Step("email", source="newsletter"), created_at=NOW - timedelta(days=1, hours=3))


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata"])
def test_rollups_kept_current_equal_a_rebuild_and_the_live_report(
    manager: User, teams: None, django_capture_on_commit_callbacks: Any, settings: Any, zone: str
) -> None:
    # In another zone the date filters give local days, which the rollups count; the live weeks are local too.
    settings.TIME_ZONE = zone
    leads = generate_leads(90)
    start_clocks(leads)
    rebuild_rollups(now=NOW - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):  # lead events are heard after the commit
        change_the_way_the_app_does(leads, manager)
        work_the_clocks_the_way_the_app_does(manager)
    assert RollupDirtyDay.objects.exists()  # the changes to older leads marked their days

    refresh_rollups(now=NOW)

    kept_current = snapshot()
    assert not RollupDirtyDay.objects.exists()
    rebuild_rollups(now=NOW)
    assert kept_current == snapshot()
    for params in FILTERS:
        assert report_for(params, use_rollups=True) == report_for(params, use_rollups=False), params


def test_the_page_reads_the_rollups_with_a_fixed_number_of_queries(
    manager: User, teams: None, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    start_clocks(generate_leads(40))
    rebuild_rollups(now=NOW)
    client = client_for(manager)

    with django_assert_max_num_queries(20) as queries:
        response = client.get("/reports/", {"range": "all"})

    assert response.context["refreshed_at"] == NOW
    assert response.context["tables"]["funnel"].rows[0][1] == 40
    assert response.context["tables"]["sla"].rows
    # The SLA clocks are asked only whether there are any: the table is read from their rollup.
    assert sum("handoff_slarecord" in query["sql"] for query in queries.captured_queries) == 1


def test_erasing_a_lead_disqualified_while_assigned_keeps_the_sla_rollup_equal_to_the_live_table(
    manager: User, teams: None, django_capture_on_commit_callbacks: Any
) -> None:
    # Disqualifying leaves the assignment open; erasing stops its clock by update(), with no stage change to mark.
    start_clocks(generate_leads(60))
    assignment = next(
        assignment
        for assignment in Assignment.objects.open().select_related("lead", "sla").order_by("pk")
        if assignment.lead.stage == Stage.MQL and assignment.sla.met_at is None and assignment.sla.breached_at is None
        and assignment.lead.created_at < NOW - timedelta(days=3)
    )  # fmt: skip
    lead_services.change_stage(lead=assignment.lead, to_stage=Stage.DISQUALIFIED, now=NOW - timedelta(hours=1))
    rebuild_rollups(now=NOW - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        erase_lead(lead=Lead.objects.get(pk=assignment.lead_id), now=NOW, by=manager, reason="Email of 14 June")

    refresh_rollups(now=NOW)

    assert SLARecord.objects.get(assignment=assignment).stopped_at == NOW
    for params in FILTERS:
        assert report_for(params, use_rollups=True)["sla"] == report_for(params, use_rollups=False)["sla"], params


@pytest.mark.parametrize("batch", [True, False], ids=["the pipeline's batch", "one lead"])
def test_routing_an_older_lead_to_another_team_keeps_the_rollups_equal_to_a_rebuild(teams: None, batch: bool) -> None:
    # Routing writes its decisions in bulk (no post_save): the lead's team changes with nothing else about it.
    lead = journey(Step("cpc", source="google"), created_at=NOW - timedelta(days=30), stage=Stage.MQL,
                   routing_team="smb", country="GB")  # fmt: skip
    rebuild_rollups(now=NOW - timedelta(minutes=5))
    RoutingRule.objects.create(name="UK", countries=["GB"], team=Team.objects.get(slug="enterprise"))
    if batch:
        route_leads(leads=[Lead.objects.get(pk=lead.pk)], now=NOW)
    else:
        route_lead(lead_id=lead.pk, now=NOW)

    refresh_rollups(now=NOW)

    assert RoutingDecision.objects.get(lead=lead).team == Team.objects.get(slug="enterprise")
    kept_current = snapshot()
    rebuild_rollups(now=NOW)
    assert kept_current == snapshot()


def test_an_import_that_merges_into_an_older_lead_keeps_the_rollups_equal_to_a_rebuild() -> None:
    # The import adds its event touch to the person it merges into by bulk writes (no post_save), and changes none
    # of the lead's own values (a list imported again), so the lead is not saved either.
    journey(Step("cpc", source="google", campaign="brand"), created_at=NOW - timedelta(days=20), stage=Stage.SQL,
            moves=[(Stage.MQL, 5), (Stage.SQL, 30)], email="old@acme.example", first_name="Old", last_name="Person",
            company_name="Acme")  # fmt: skip
    rebuild_rollups(now=NOW - timedelta(minutes=5))
    content = b"Email,Name,Company\nold@acme.example,Old Person,Acme\n"
    batch = LeadImport.objects.create(
        event=ImportEvent.objects.create(name="Expo", source="expo-2026", notice="n"), file_name="scans.csv",
        file=ContentFile(content, name="scans.csv"), columns=read_table(io.BytesIO(content), name="s.csv").columns,
        legal_basis=LegalBasis.EVENT, consent_text="notice", created_at=NOW,
    )  # fmt: skip
    mapping = {"Email": "email", "Name": FULL_NAME, "Company": "company_name"}
    batch = imports.preview_import(batch=batch, mapping=mapping)
    imports.start_import(batch=batch, now=NOW)
    assert imports.run_import(batch_id=batch.pk, clock=lambda: NOW).merged_count == 1

    refresh_rollups(now=NOW)

    kept_current = snapshot()
    rebuild_rollups(now=NOW)
    assert kept_current == snapshot()


def test_rollups_built_before_the_sla_rollup_existed_leave_the_sla_table_live_until_a_rebuild(teams: None) -> None:
    start_clocks(generate_leads(40))
    rebuild_rollups(now=NOW)
    RollupState.objects.update(sla_rebuilt_at=None)  # as the migration that added the SLA rollup leaves a site
    SLADayRollup.objects.all().delete()
    live = report_for({"range": "all"}, use_rollups=False)["sla"]

    before = report_for({"range": "all"}, use_rollups=True)["sla"]
    rebuild_rollups(now=NOW)
    after = report_for({"range": "all"}, use_rollups=True)["sla"]

    assert live and before == live and after == live
    assert SLADayRollup.objects.exists()


def ticking_clock(*, seconds: int = 1) -> Callable[[], datetime]:
    """A clock that moves on ``seconds`` each time it is read, from NOW: a refresh's budget is spent in reads."""
    ticks = (NOW + timedelta(seconds=seconds * n) for n in count())
    return lambda: next(ticks)


def test_the_first_build_is_done_in_steps_by_the_refresh_and_equals_a_rebuild(
    manager: User, teams: None, django_capture_on_commit_callbacks: Any
) -> None:
    leads = generate_leads(90)
    start_clocks(leads)
    RollupDirtyDay.objects.all().delete()  # as on a site whose leads came in on their own days: nothing marked

    steps = 0
    while steps == 0 or RollupState.objects.get().rebuilt_at is None:
        assert report_for({"range": "all"}, use_rollups=False) and rollup_state() is None  # read live meanwhile
        refresh_rollups(now=NOW, clock=ticking_clock(), budget=timedelta(seconds=10))
        steps += 1
        if steps == 2:  # a change to an older lead between two steps, on a day the first step may have counted
            with django_capture_on_commit_callbacks(execute=True):
                change_the_way_the_app_does(leads, manager)
        assert steps < 100

    assert steps > 3  # 120 days at ten a step
    assert not RollupDirtyDay.objects.exists()
    assert RollupState.objects.get().sla_rebuilt_at == NOW
    built_in_steps = snapshot()
    rebuild_rollups(now=NOW)
    assert built_in_steps == snapshot()
    for params in FILTERS:
        assert report_for(params, use_rollups=True) == report_for(params, use_rollups=False), params


def test_rollups_of_another_time_zone_are_read_live_until_the_refresh_has_counted_the_days_again(
    teams: None, settings: Any
) -> None:
    start_clocks(generate_leads(60))
    rebuild_rollups(now=NOW - timedelta(minutes=5))  # in UTC days
    settings.TIME_ZONE = "America/Los_Angeles"
    assert rollup_state() is None  # the page reads the leads live: UTC days answer no local filter

    for _ in range(100):
        refresh_rollups(now=NOW, clock=ticking_clock(), budget=timedelta(seconds=10))
        if rollup_state() is not None:
            break

    assert RollupState.objects.get().zone == "America/Los_Angeles"
    rebuilt_in_steps = snapshot()
    rebuild_rollups(now=NOW)
    assert rebuilt_in_steps == snapshot()
    for params in FILTERS:
        assert report_for(params, use_rollups=True) == report_for(params, use_rollups=False), params


def test_a_build_in_steps_finishes_while_changes_to_older_leads_keep_marking_days() -> None:
    lead = journey(Step("cpc", source="google"), created_at=NOW - timedelta(days=20))
    RollupDirtyDay.objects.all().delete()
    ticks = count()

    def busy_clock() -> datetime:
        mark_day_changed(created_at=lead.created_at, now=NOW)  # another change committed as the refresh runs
        return NOW + timedelta(seconds=next(ticks))

    refresh_rollups(now=NOW, clock=busy_clock, budget=timedelta(seconds=30))
    refresh_rollups(now=NOW, clock=busy_clock, budget=timedelta(seconds=30))

    assert RollupState.objects.get().rebuilt_at == NOW
    assert RollupDirtyDay.objects.exists()  # the later changes' marks: the usual refreshes' work


def test_a_build_marks_only_the_days_that_have_leads() -> None:
    for created_at in (NOW - timedelta(days=365 * 30), NOW - timedelta(days=3)):  # one lead dated decades ago
        journey(Step("cpc", source="google"), created_at=created_at)
    RollupDirtyDay.objects.all().delete()

    refresh_rollups(now=NOW, clock=ticking_clock(), budget=timedelta(seconds=1))

    assert RollupDirtyDay.objects.count() == 1  # of the two days, the newest was counted in this step
    assert RollupDirtyDay.objects.get().day == (NOW - timedelta(days=365 * 30)).date()


def test_a_build_with_more_days_than_a_refresh_reads_counts_the_newest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    created = [NOW - timedelta(days=days) for days in (10, 20, 30, 40)]
    for at in created:
        journey(Step("cpc", source="google"), created_at=at)
    RollupDirtyDay.objects.all().delete()
    monkeypatch.setattr("reports.rollups.MARKS_PER_REFRESH", 2)

    refresh_rollups(now=NOW)

    assert set(RollupDirtyDay.objects.values_list("day", flat=True)) == {at.date() for at in created[2:]}


def test_the_command_during_a_build_in_steps_finishes_it(teams: None) -> None:
    start_clocks(generate_leads(40))
    RollupDirtyDay.objects.all().delete()
    refresh_rollups(now=NOW - timedelta(minutes=5), clock=ticking_clock(), budget=timedelta(seconds=2))
    assert rollup_state() is None

    rebuild_rollups(now=NOW)

    state = RollupState.objects.get()
    assert (state.rebuilt_at, state.build_begun_at, state.build_marks_through) == (NOW, None, None)
    for params in FILTERS:
        assert report_for(params, use_rollups=True) == report_for(params, use_rollups=False), params


def test_a_lead_in_an_hour_repeated_across_midnight_counts_on_the_day_the_filter_gives(settings: Any) -> None:
    # Newfoundland, 1 November 2009: at 00:01 the clocks went back to 23:01, so 31 October had its last hour twice.
    # The second one lies after 1 November's midnight: it counts there, as the date filter counts it.
    settings.TIME_ZONE = "America/St_Johns"
    for at in ("02:29:00", "02:50:00", "04:00:00"):  # 23:59 on 31 October, 23:20 on it again, 00:30 on 1 November
        journey(Step("cpc", source="google"), created_at=datetime.fromisoformat(f"2009-11-01T{at}+00:00"))
    assert day_of(datetime(2009, 11, 1, 2, 50, tzinfo=UTC), zone=report_zone()) == date(2009, 11, 1)

    rebuild_rollups(now=NOW)

    rows = LeadDayRollup.objects.filter(form=ALL_FORMS).values_list("day").annotate(n=Sum("leads"))
    assert dict(rows) == {date(2009, 10, 31): 1, date(2009, 11, 1): 2}
    for params in ({"created_before": "2009-10-31"}, {"created_after": "2009-11-01", "created_before": "2009-11-01"}):
        assert report_for(params, use_rollups=True) == report_for(params, use_rollups=False), params


def test_an_hour_repeated_at_midnight_counts_on_its_day_in_the_filter_and_the_rollups(settings: Any) -> None:
    # Cairo, 30 October 2025: at midnight the clocks went back to 23:00, so 30 October had its last hour twice.
    settings.TIME_ZONE = "Africa/Cairo"
    for at in ("2025-10-30T20:30:00", "2025-10-30T21:30:00"):  # 23:30 on 30 October, then 23:30 again
        journey(Step("cpc", source="google"), created_at=datetime.fromisoformat(f"{at}+00:00"))
    rebuild_rollups(now=NOW)

    for params in ({"created_before": "2025-10-30"}, {"created_after": "2025-10-30", "created_before": "2025-10-30"}):
        assert report_for(params, use_rollups=False)["funnel"][0][1] == 2, params
        assert report_for(params, use_rollups=True) == report_for(params, use_rollups=False), params


def test_a_refresh_counts_the_marked_days_newest_first_until_its_budget_is_spent() -> None:
    created = [NOW - timedelta(days=days) for days in (10, 20, 30, 40, 50)]
    leads = [journey(Step("cpc", source="google"), created_at=at) for at in created]
    rebuild_rollups(now=NOW - timedelta(minutes=5))
    for lead in leads:
        lead_services.change_stage(lead=lead, to_stage=Stage.MQL, now=NOW)

    refresh_rollups(now=NOW, clock=ticking_clock(), budget=timedelta(seconds=2))

    newest_two = {at.date() for at in created[:2]}
    assert set(RollupDirtyDay.objects.values_list("day", flat=True)) == {at.date() for at in created} - newest_two
    assert {day for day, mqls in LeadDayRollup.objects.values_list("day", "mqls") if mqls} == newest_two


def test_rollups_built_before_the_sla_rollup_existed_get_it_from_the_refresh(teams: None) -> None:
    start_clocks(generate_leads(40))
    rebuild_rollups(now=NOW - timedelta(minutes=5))
    RollupState.objects.update(sla_rebuilt_at=None)  # as the migration that added the SLA rollup leaves a site
    SLADayRollup.objects.all().delete()
    live = report_for({"range": "all"}, use_rollups=False)

    refresh_rollups(now=NOW, clock=ticking_clock(), budget=timedelta(seconds=5))
    during = report_for({"range": "all"}, use_rollups=True)
    for _ in range(100):
        if RollupState.objects.get().sla_rebuilt_at is not None:
            break
        refresh_rollups(now=NOW, clock=ticking_clock(), budget=timedelta(seconds=5))

    assert live["sla"] and during == live  # the other tables from the rollups, the SLA table live meanwhile
    assert report_for({"range": "all"}, use_rollups=True) == live
    state = RollupState.objects.get()
    assert (state.sla_rebuilt_at, state.build_begun_at) == (NOW, None)  # done, and not begun again
    assert SLADayRollup.objects.exists() and state.rebuilt_at == NOW - timedelta(minutes=5)


def test_the_page_says_how_many_days_a_build_has_still_to_count(manager: User) -> None:
    for days in (10, 20, 30):
        journey(Step("cpc", source="google"), created_at=NOW - timedelta(days=days))
    RollupDirtyDay.objects.all().delete()
    # The three days with leads are marked; a step of one second counts today, yesterday and the newest of them.
    refresh_rollups(now=NOW, clock=ticking_clock(), budget=timedelta(seconds=1))

    response = client_for(manager).get("/reports/", {"range": "all"})

    freshness = " ".join(response.content.decode().split("report-freshness")[1].split("</span>")[0].split())
    assert "the rollups are being built, 2 days still to count" in freshness
    assert response.context["refreshed_at"] is None


def test_the_page_says_how_many_changed_days_a_refresh_has_still_to_count(manager: User) -> None:
    leads = [journey(Step("cpc", source="google"), created_at=NOW - timedelta(days=days)) for days in (10, 20, 30)]
    rebuild_rollups(now=NOW - timedelta(minutes=5))
    for lead in leads:
        lead_services.change_stage(lead=lead, to_stage=Stage.MQL, now=NOW - timedelta(minutes=1))
    # Its budget spent on the newest marked day, the refresh at NOW leaves the two others for the next runs.
    refresh_rollups(now=NOW, clock=ticking_clock(), budget=timedelta(seconds=1))

    response = client_for(manager).get("/reports/", {"range": "all"})

    freshness = " ".join(response.content.decode().split("report-freshness")[1].split("</span>")[0].split())
    assert response.context["refreshed_at"] == NOW
    assert "Changes to leads of 2 older days are still to be added." in freshness


def test_a_change_to_an_older_lead_marks_its_day_in_the_same_transaction() -> None:
    lead = journey(Step("cpc", source="google"), created_at=NOW - timedelta(days=30))
    RollupDirtyDay.objects.all().delete()

    lead_services.change_stage(lead=lead, to_stage=Stage.MQL, now=NOW)

    assert list(RollupDirtyDay.objects.values_list("day", flat=True)) == [(NOW - timedelta(days=30)).date()]


def test_capturing_a_lead_today_marks_nothing() -> None:
    journey(Step("cpc", source="google"), created_at=NOW, moves=[(Stage.MQL, 0)])

    assert not RollupDirtyDay.objects.exists()


def test_a_refresh_picks_up_todays_leads_without_marks() -> None:
    rebuild_rollups(now=NOW - timedelta(minutes=1))
    journey(Step("cpc", source="google"), created_at=NOW)

    refresh_rollups(now=NOW)

    assert LeadDayRollup.objects.get(day=NOW.date()).leads == 1


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_a_change_whose_writer_read_the_clock_before_midnight_is_counted_by_a_refresh_after_midnight(
    settings: Any, zone: str
) -> None:
    # The writer read the clock at 23:59:59.9 on 2 June (site time), so the lead of 1 June was "yesterday" to it and
    # marked nothing; its transaction committed after midnight, after the first refresh of 3 June had counted 1 June.
    settings.TIME_ZONE = zone
    site = ZoneInfo(zone)
    lead = journey(Step("cpc", source="google"), created_at=datetime(2026, 6, 1, 12, 0, tzinfo=site))
    rebuild_rollups(now=datetime(2026, 6, 2, 23, 59, tzinfo=site))
    refresh_rollups(now=datetime(2026, 6, 3, 0, 0, 5, tzinfo=site))
    with time_machine.travel(datetime(2026, 6, 2, 23, 59, 59, 900_000, tzinfo=site), tick=False):
        lead_services.change_stage(lead=lead, to_stage=Stage.MQL, now=timezone.now())

    refresh_rollups(now=datetime(2026, 6, 3, 0, 1, 5, tzinfo=site))

    assert LeadDayRollup.objects.get(day=date(2026, 6, 1), form=ALL_FORMS).mqls == 1


def test_refreshing_twice_writes_the_same_rows() -> None:
    generate_leads(15)
    rebuild_rollups(now=NOW)
    first = snapshot()

    refresh_rollups(now=NOW)
    refresh_rollups(now=NOW)

    assert snapshot() == first


@pytest.mark.parametrize(
    ("counts", "median"),
    [
        ([], None),
        ([(5.0, 1)], 5.0),
        ([(1.0, 1), (3.0, 1)], 2.0),
        ([(1.0, 2), (9.0, 1)], 1.0),
        ([(1.0, 1), (2.0, 2), (7.0, 1)], 2.0),
    ],
)
def test_median_of_counts_is_the_middle_value(counts: list[tuple[float, int]], median: float | None) -> None:
    assert median_of_counts(counts) == median
