"""How the inbox and the team queue print their rows, pick lists and menus (handoff.templatetags.handoff_rows),
and the small reads behind them (the viewer's teams, members, calendars, saved views and follow-ups)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.urls import reverse

from handoff import selectors, services
from handoff.countdown import SLAClock
from handoff.models import ClosedDate, Membership, SavedView, Team
from handoff.templatetags.handoff_rows import select_options, sla_clock_html
from handoff.tests.factories import MQLFactory, RepFactory, TeamFactory
from tests.personas import client_for

pytestmark = pytest.mark.django_db

INBOX = reverse("handoff:inbox")
QUEUE = reverse("handoff:team_queue")

CLOCK_MARKUP = (
    '<span class="sla-clock sla-{}" data-sla-team="7" data-sla-state="{}" data-sla-balance="{}"'
    ' data-sla-target="{}" data-testid="sla-clock" role="timer">{}</span>'
)
CLOCKS = [
    (
        SLAClock("running", "warn", 7205, 86400, True, "due in 2h 00m 05s"),
        CLOCK_MARKUP.format("warn", "running", 7205, 86400, "due in 2h 00m 05s"),
    ),
    (
        SLAClock("paused", "paused", 600, 86400, False, "paused — outside business hours · 10m 00s left"),
        CLOCK_MARKUP.format("paused", "paused", 600, 86400, "paused — outside business hours · 10m 00s left"),
    ),
    (
        SLAClock("breached", "breached", -3600, 86400, True, "breached 1h 00m ago in business hours"),
        CLOCK_MARKUP.format("breached", "breached", -3600, 86400, "breached 1h 00m ago in business hours"),
    ),
    (SLAClock("met", "met", 0, 86400, True, "SLA met"), CLOCK_MARKUP.format("met", "met", 0, 86400, "SLA met")),
    (
        SLAClock("running", "ok", 5, 60, True, 'a <label> & "quotes"'),
        CLOCK_MARKUP.format("ok", "running", 5, 60, "a &lt;label&gt; &amp; &quot;quotes&quot;"),
    ),
]


@pytest.mark.parametrize(("clock", "markup"), CLOCKS)
def test_a_countdown_prints_the_markup_countdown_js_reads(clock: SLAClock, markup: str) -> None:
    # The inbox, the team queue and the lead page all print their countdowns through this one function.
    assert sla_clock_html(clock, 7) == markup


def test_the_team_queue_escapes_what_the_lead_typed(team: Team, manager: object, now: datetime) -> None:
    services.assign_lead(lead=MQLFactory(first_name="<b>Bold</b>", company_name='Acme" onclick="x'), team=team, now=now)

    content = client_for(manager).get(f"{QUEUE}?show=open").content.decode()

    assert "<b>Bold</b>" not in content
    assert 'aria-label="Select &lt;b&gt;Bold&lt;/b&gt;' in content
    assert "Acme&quot; onclick=&quot;x" in content


def test_a_pick_list_selects_the_chosen_value_and_escapes_labels() -> None:
    choices = [("", "Any"), ("a&b", "A & B"), ("c", "<C>")]

    html = select_options(choices, "a&b")

    assert html == (
        '<option value="">Any</option><option value="a&amp;b" selected>A &amp; B</option>'
        '<option value="c">&lt;C&gt;</option>'
    )


def test_a_pick_list_compares_ids_as_text_and_may_ignore_case() -> None:
    assert 'value="3" selected' in select_options([("", "Any"), ("3", "Three")], 3)
    assert 'value="LinkedIn" selected' in select_options([("LinkedIn", "LinkedIn")], "linkedin", ignore_case=True)
    assert "selected" not in select_options([("LinkedIn", "LinkedIn")], "linkedin")


def test_a_pick_list_with_nothing_chosen_selects_nothing() -> None:
    assert "selected" not in select_options([("", "Any team"), ("1", "London")], None)


def test_the_inbox_filter_bar_keeps_the_chosen_source_whatever_its_case(team: Team, rep: object, now: datetime) -> None:
    services.assign_lead(lead=MQLFactory(first_touch_source="linkedin"), team=team, now=now)
    selectors.forget_pick_lists()

    content = client_for(rep).get(f"{INBOX}?source=LinkedIn").content.decode()

    assert '<option value="linkedin" selected>linkedin</option>' in content


def test_the_viewers_teams_are_those_they_work_in_or_manage(rep: object, manager: object) -> None:
    works_in = TeamFactory(name="B works in", members=[rep])
    manages = TeamFactory(name="A manages", managers=[rep])
    TeamFactory(name="C other", members=[manager])

    teams = selectors.teams_of(user=rep)

    assert [team.name for team in teams] == [manages.name, works_in.name]
    # A rep may not share views, even with a team they are listed as managing.
    assert [team.is_managed for team in teams] == [False, False]  # type: ignore[attr-defined]


def test_a_manager_may_share_views_with_the_teams_they_manage_only(manager: object) -> None:
    TeamFactory(name="Managed", managers=[manager])
    TeamFactory(name="Worked in", members=[manager])

    teams = selectors.teams_of(user=manager)

    assert {team.name: team.is_managed for team in teams} == {"Managed": True, "Worked in": False}  # type: ignore[attr-defined]


def test_assignable_members_are_the_active_reps_of_the_managers_teams_by_name(manager: object) -> None:
    zoe, adam, away = (RepFactory(first_name=name, last_name="Rep") for name in ("Zoe", "Adam", "Away"))
    team = TeamFactory(name="London", members=[zoe, adam], managers=[manager])
    Membership.objects.create(team=team, user=away, is_active=False)
    TeamFactory(name="Elsewhere", members=[RepFactory()])

    members = selectors.assignable_members(user=manager)

    assert [(m.team.name, m.user.get_full_name()) for m in members] == [("London", "Adam Rep"), ("London", "Zoe Rep")]
    assert members[0].capacity_weight == 1  # a column the page did not read loads when asked for
    assert members[0].user.email == adam.email


def test_a_teams_calendar_counts_its_closed_dates(rep: object) -> None:
    team = TeamFactory(members=[rep])
    ClosedDate.objects.create(team=team, date=date(2026, 3, 3), reason="Office move")

    calendar = selectors.team_calendar(team)

    assert calendar.hours[0] == ((time(9), time(17)),)
    assert calendar.closed_dates == frozenset({date(2026, 3, 3)})
    assert not calendar.is_open(datetime(2026, 3, 3, 12, tzinfo=UTC))  # a Tuesday, at noon in London
    assert calendar.is_open(datetime(2026, 3, 4, 12, tzinfo=UTC))


def test_a_view_shared_by_a_manager_names_who_shared_it(
    manager: object, rep: object, team: Team, now: datetime
) -> None:
    SavedView.objects.create(owner=manager, name="Hot leads", query="min_score=80", team=team, created_at=now)
    SavedView.objects.create(owner=rep, name="Mine", query="stage=mql", created_at=now)

    views = selectors.saved_views_for(user=rep)

    assert [(view.name, view.is_own, view.team_name) for view in views] == [
        ("Mine", True, None),
        ("Hot leads", False, team.name),
    ]
    assert views[1].owner_name == (manager.get_full_name() or manager.get_username())  # type: ignore[attr-defined]


def test_the_inbox_names_each_follow_up_by_its_lead(assignment: object, rep: object, now: datetime) -> None:
    lead = MQLFactory(first_name="", last_name="", email="only@example.com")
    services.add_follow_up(lead=lead, rep=rep, due_at=now + timedelta(days=1), note="Call back", now=now)

    follow_ups = selectors.open_follow_ups(user=rep)

    assert [(f.lead_name, f.note, f.due_at) for f in follow_ups] == [
        ("only@example.com", "Call back", now + timedelta(days=1))
    ]


@pytest.mark.parametrize(("tab", "action"), [("open", "handoff:team_bulk"), ("unassigned", "handoff:team_assign")])
def test_the_queues_bulk_bar_posts_to_its_action(
    tab: str, action: str, team: Team, manager: object, now: datetime
) -> None:
    services.assign_lead(lead=MQLFactory(), team=team, now=now)
    MQLFactory()  # unassigned, routed to no team: every manager's queue offers it

    content = client_for(manager).get(f"{QUEUE}?show={tab}").content.decode()

    assert f'<form method="post" action="{reverse(action)}" data-testid="bulk-form">' in content
