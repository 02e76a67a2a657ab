"""The rep's and manager's daily tools: sorting and filters, saved views, bulk actions, follow-ups, the timeline."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from handoff import services
from handoff.models import Assignment, AssignmentOutcome, FollowUp, SavedView, Team, ViewerSettings
from handoff.tests.factories import MembershipFactory, MQLFactory, TeamFactory
from leads.models import Stage, StageChange
from tests.personas import client_for

pytestmark = pytest.mark.django_db

INBOX = reverse("handoff:inbox")
QUEUE = reverse("handoff:team_queue")


def assign(team: Team, now: datetime, **lead_fields: object) -> Assignment:
    return services.assign_lead(lead=MQLFactory(**lead_fields), team=team, now=now)


def lead_ids(response: object) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-lead-id="(\d+)"', response.content.decode())]  # type: ignore[attr-defined]


def queue_ids(response: object) -> list[int]:
    return [int(pk) for pk in re.findall(r'name="bulk-ids" value="(\d+)"', response.content.decode())]  # type: ignore[attr-defined]


# --- Sorting and filters -------------------------------------------------------------------------


def test_inbox_sorts_by_assignment_time_newest_first(team: Team, rep: object, now: datetime) -> None:
    older = assign(team, now - timedelta(hours=2))
    newer = assign(team, now)

    response = client_for(rep).get(f"{INBOX}?sort=-assigned")

    assert lead_ids(response) == [newer.lead_id, older.lead_id]


def test_inbox_sorts_least_urgent_first(team: Team, rep: object, now: datetime) -> None:
    made = [assign(team, now + timedelta(minutes=minute)) for minute in range(3)]

    response = client_for(rep).get(f"{INBOX}?sort=-due")

    assert lead_ids(response) == [assignment.lead_id for assignment in reversed(made)]


def test_inbox_filters_by_campaign_and_team(team: Team, rep: object, now: datetime) -> None:
    other_team = TeamFactory(members=[rep])
    spring = assign(team, now, first_touch_campaign="spring-webinar")
    assign(team, now, first_touch_campaign="autumn-ebook")
    elsewhere = assign(other_team, now, first_touch_campaign="spring-webinar")
    client = client_for(rep)

    by_campaign = client.get(f"{INBOX}?campaign=spring-webinar")
    by_both = client.get(f"{INBOX}?campaign=spring-webinar&team={team.pk}")

    assert sorted(lead_ids(by_campaign)) == sorted([spring.lead_id, elsewhere.lead_id])
    assert lead_ids(by_both) == [spring.lead_id]


def test_inbox_offers_the_sources_seen_as_a_pick_list(team: Team, rep: object, now: datetime) -> None:
    assign(team, now, first_touch_source="linkedin")

    html = client_for(rep).get(INBOX).content.decode()

    assert re.search(r'<select[^>]*name="source"', html)
    assert '<option value="linkedin">linkedin</option>' in html


def test_inbox_filters_by_the_day_of_assignment(team: Team, rep: object, now: datetime) -> None:
    yesterday = assign(team, now - timedelta(days=1))
    today = assign(team, now)
    day = now.date().isoformat()

    response = client_for(rep).get(f"{INBOX}?assigned_from={day}&assigned_to={day}")

    assert lead_ids(response) == [today.lead_id]
    assert yesterday.lead_id not in lead_ids(response)


def test_a_date_range_backwards_is_reported_on_the_filter_bar(assignment: Assignment, rep: object) -> None:
    response = client_for(rep).get(f"{INBOX}?assigned_from=2026-03-05&assigned_to=2026-03-01")

    assert response.status_code == 200
    assert "The last day cannot be before the first." in response.content.decode()


def test_an_empty_inbox_says_nothing_is_assigned(rep: object, team: Team) -> None:
    html = client_for(rep).get(INBOX).content.decode()

    assert 'data-empty="nothing-assigned"' in html
    assert "Nothing matches" not in html


def test_a_search_with_no_match_says_nothing_matches(assignment: Assignment, rep: object) -> None:
    html = client_for(rep).get(f"{INBOX}?q=zzz-nobody").content.decode()

    assert 'data-empty="no-match"' in html
    assert "Nothing matches these filters." in html


def test_a_search_for_a_full_name_finds_the_lead_in_the_inbox(team: Team, rep: object, now: datetime) -> None:
    sven = assign(team, now, first_name="Sven", last_name="Andersen")
    assign(team, now, first_name="Sven", last_name="Berg")

    response = client_for(rep).get(INBOX, {"q": "Sven Andersen"})

    assert lead_ids(response) == [sven.lead_id]


def test_a_search_for_a_full_name_finds_the_lead_in_the_team_queue(team: Team, manager: object, now: datetime) -> None:
    rosa = assign(team, now, first_name="Rosa", last_name="Nakamura")
    assign(team, now, first_name="Rosa", last_name="Diaz")

    response = client_for(manager).get(QUEUE, {"show": "open", "q": "rosa nakamura"})

    assert queue_ids(response) == [rosa.pk]


# --- Saved views ---------------------------------------------------------------------------------


def test_a_rep_saves_a_view_and_finds_it_in_the_inbox(assignment: Assignment, rep: object) -> None:
    client = client_for(rep)

    response = client.post(reverse("handoff:save_view"), {"name": "Hot ones", "query": "min_score=50&after=abc"})

    view = SavedView.objects.get(owner=rep)
    assert (view.name, view.query, view.team) == ("Hot ones", "min_score=50", None)
    assert response.status_code == 302 and response["Location"].endswith("?min_score=50")
    assert 'href="?min_score=50">Hot ones' in client.get(INBOX).content.decode()


def test_a_second_view_of_the_same_name_is_refused_with_a_message(rep: object, team: Team) -> None:
    client = client_for(rep)
    client.post(reverse("handoff:save_view"), {"name": "Mine", "query": ""})

    response = client.post(reverse("handoff:save_view"), {"name": "Mine", "query": "stage=mql"}, follow=True)

    assert SavedView.objects.filter(owner=rep).count() == 1
    assert "You already have a view called “Mine”" in response.content.decode()


def test_a_manager_shares_a_view_with_their_team(manager: object, rep: object, team: Team) -> None:
    client_for(manager).post(
        reverse("handoff:save_view"), {"name": "Team focus", "query": "stage=mql", "team": team.pk}
    )

    html = client_for(rep).get(INBOX).content.decode()

    assert SavedView.objects.get(name="Team focus").team == team
    assert "Team focus" in html and "shared with London" in html


def test_a_rep_cannot_share_a_view_with_a_team(rep: object, team: Team) -> None:
    client_for(rep).post(reverse("handoff:save_view"), {"name": "Sneaky", "query": "", "team": team.pk})

    assert not SavedView.objects.filter(name="Sneaky").exists()


# --- Bulk actions --------------------------------------------------------------------------------


def test_a_rep_bulk_rejects_after_confirming(team: Team, rep: object, now: datetime) -> None:
    first, second = assign(team, now), assign(team, now)
    client = client_for(rep)
    data = {"action": "reject", "ids": [first.pk, second.pk]}

    confirm_page = client.post(reverse("handoff:inbox_bulk"), data)
    untouched = Assignment.objects.filter(pk__in=[first.pk, second.pk], ended_at__isnull=True).count()
    done = client.post(reverse("handoff:inbox_bulk"), {**data, "confirm": "1", "reason": "Students, not buyers"})

    assert confirm_page.status_code == 200 and "Reject 2 leads?" in confirm_page.content.decode()
    assert untouched == 2
    assert done.status_code == 302
    assert set(Assignment.objects.filter(pk__in=[first.pk, second.pk]).values_list("outcome", flat=True)) == {
        AssignmentOutcome.REJECTED
    }


def test_the_bulk_confirmation_for_one_lead_speaks_of_one_lead(assignment: Assignment, rep: object) -> None:
    html = client_for(rep).post(reverse("handoff:inbox_bulk"), {"action": "recycle", "ids": [assignment.pk]})

    text = " ".join(html.content.decode().split())
    assert "Recycle to nurture 1 lead?" in text
    assert "This lead goes back to nurture until the day below, and leaves your inbox." in text


def test_a_bulk_reject_without_a_reason_asks_for_one_and_changes_nothing(assignment: Assignment, rep: object) -> None:
    response = client_for(rep).post(
        reverse("handoff:inbox_bulk"), {"action": "reject", "ids": [assignment.pk], "confirm": "1"}
    )

    assert response.status_code == 400
    assert "Give marketing a reason for rejecting." in response.content.decode()
    assert Assignment.objects.get(pk=assignment.pk).ended_at is None


def test_a_rep_bulk_accepts(team: Team, rep: object, now: datetime) -> None:
    first, second = assign(team, now), assign(team, now)

    client_for(rep).post(
        reverse("handoff:inbox_bulk"), {"action": "accept", "ids": [first.pk, second.pk], "confirm": "1"}
    )

    assert set(Assignment.objects.filter(pk__in=[first.pk, second.pk]).values_list("state", flat=True)) == {"accepted"}


def test_a_rep_cannot_bulk_act_on_another_reps_lead(team: Team, rep: object, other_rep: object, now: datetime) -> None:
    theirs = services.assign_lead(lead=MQLFactory(), team=TeamFactory(members=[other_rep]), now=now)

    response = client_for(rep).post(
        reverse("handoff:inbox_bulk"), {"action": "accept", "ids": [theirs.pk], "confirm": "1"}
    )

    assert response.status_code == 404
    assert Assignment.objects.get(pk=theirs.pk).state == "assigned"


def test_a_bulk_recycle_to_a_day_already_begun_in_the_teams_timezone_is_refused(
    assignment: Assignment, rep: object
) -> None:
    ViewerSettings.objects.create(user=rep, timezone="America/Los_Angeles")
    data = {"action": "recycle", "ids": [assignment.pk], "recycle_on": "2026-03-03", "reason": "", "confirm": "1"}

    # Tuesday 02:00 in London, the team's timezone; Monday 18:00 for the rep.
    with time_machine.travel(datetime(2026, 3, 3, 2, 0, tzinfo=UTC), tick=False):
        response = client_for(rep).post(reverse("handoff:inbox_bulk"), data, follow=True)

    assert "has already begun" in response.content.decode()
    assert Assignment.objects.get(pk=assignment.pk).is_open


def test_the_bulk_recycle_date_starts_after_today_in_the_teams_and_the_viewers_timezones(
    assignment: Assignment, rep: object
) -> None:
    ViewerSettings.objects.create(user=rep, timezone="America/Los_Angeles")

    # Tuesday 02:00 in London, the team's timezone; Monday 18:00 for the rep: Tuesday has begun for the team.
    with time_machine.travel(datetime(2026, 3, 3, 2, 0, tzinfo=UTC), tick=False):
        html = client_for(rep).post(reverse("handoff:inbox_bulk"), {"action": "recycle", "ids": [assignment.pk]})

    assert re.search(r'<input [^>]*name="recycle_on"[^>]* min="2026-03-04"', html.content.decode())


def test_a_manager_bulk_recycles_from_the_queue_and_is_recorded_as_deciding(
    team: Team, manager: object, now: datetime
) -> None:
    assignment = assign(team, now)
    back_on = (now + timedelta(days=30)).date().isoformat()

    with time_machine.travel(now, tick=False):
        client_for(manager).post(
            reverse("handoff:team_bulk"),
            {
                "action": "recycle",
                "ids": [assignment.pk],
                "recycle_on": back_on,
                "reason": "Budget next year",
                "confirm": "1",
            },
        )

    assignment.refresh_from_db()
    change = StageChange.objects.filter(lead_id=assignment.lead_id, to_stage=Stage.NURTURE).get()
    assert assignment.outcome == AssignmentOutcome.RECYCLED
    assert change.changed_by == manager


def test_the_queue_bulk_reassign_shows_a_confirmation_first(team: Team, manager: object, now: datetime) -> None:
    assignment = assign(team, now)

    response = client_for(manager).post(
        reverse("handoff:team_bulk"),
        {"action": "reassign", "bulk-ids": [assignment.pk], "bulk-to": f"team:{team.pk}", "bulk-reason": "Holiday"},
    )

    assert response.status_code == 200
    assert "Reassign 1 lead" in response.content.decode()
    assert Assignment.objects.get(pk=assignment.pk).ended_at is None


# --- Team queue filters --------------------------------------------------------------------------


def test_the_team_queue_filters_by_rep(
    team: Team, manager: object, rep: object, other_rep: object, now: datetime
) -> None:
    MembershipFactory(team=team, user=other_rep)
    mine = services.assign_lead(lead=MQLFactory(), team=team, now=now, rep=rep)
    services.assign_lead(lead=MQLFactory(), team=team, now=now, rep=other_rep)

    response = client_for(manager).get(f"{QUEUE}?show=open&rep={rep.pk}")  # type: ignore[attr-defined]

    assert queue_ids(response) == [mine.pk]


def test_the_team_queue_tabs_keep_a_search_with_an_ampersand_whole(assignment: Assignment, manager: object) -> None:
    html = client_for(manager).get(f"{QUEUE}?show=open&q=Smith+%26+Co").content.decode()

    assert "q=Smith+%26+Co" in html


def test_the_team_queue_shows_the_wall_clock_due_time(assignment: Assignment, manager: object) -> None:
    html = client_for(manager).get(f"{QUEUE}?show=open").content.decode()

    assert 'data-testid="due-wall-clock"' in html
    assert "business hours" in html


# --- Follow-ups, time zone and the timeline ------------------------------------------------------


def test_a_rep_sets_a_follow_up_in_their_time_zone_and_sees_it_in_the_inbox(
    assignment: Assignment, rep: object, now: datetime
) -> None:
    ViewerSettings.objects.create(user=rep, timezone="America/New_York")
    client = client_for(rep)
    url = reverse("handoff:add_follow_up", args=[assignment.lead_id])

    response = client.post(url, {"followup-due_at": "2030-03-03T09:30", "followup-note": "Call about pricing"})

    follow_up = FollowUp.objects.get(lead_id=assignment.lead_id)
    assert response.status_code == 302
    assert follow_up.due_at.isoformat() == "2030-03-03T14:30:00+00:00"  # 09:30 in New York, EST
    assert "Call about pricing" in client.get(INBOX).content.decode()


def test_a_follow_up_in_the_past_is_refused(assignment: Assignment, rep: object) -> None:
    url = reverse("handoff:add_follow_up", args=[assignment.lead_id])

    response = client_for(rep).post(url, {"followup-due_at": "2001-01-01T09:00", "followup-note": "Too late"})

    assert response.status_code == 400
    assert "Pick a time in the future." in response.content.decode()
    assert not FollowUp.objects.exists()


def test_marking_a_follow_up_done_takes_it_off_the_inbox(assignment: Assignment, rep: object, now: datetime) -> None:
    follow_up = services.add_follow_up(
        lead=assignment.lead, rep=rep, due_at=now + timedelta(hours=1), note="Send the deck", now=now
    )
    client = client_for(rep)

    client.post(reverse("handoff:complete_follow_up", args=[follow_up.pk]))

    assert FollowUp.objects.get(pk=follow_up.pk).done_at is not None
    assert "Send the deck" not in client.get(INBOX).content.decode()


def test_the_timeline_merges_assignments_contacts_and_stage_changes_newest_first(
    assignment: Assignment, rep: object, now: datetime
) -> None:
    services.log_contact(assignment=assignment, rep=rep, kind="call", note="Wants a demo", now=now + timedelta(hours=1))
    bant = services.BANT(budget="40k", authority="CMO", need="Routing", timing="Q3")
    services.qualify_lead(assignment=assignment, rep=rep, bant=bant, now=now + timedelta(hours=2))

    html = client_for(rep).get(reverse("handoff:lead", args=[assignment.lead_id])).content.decode()

    kinds = re.findall(r'data-testid="timeline-entry" data-kind="(\w+)"', html)
    assert kinds[:3] == ["assignment", "note", "stage"]  # qualifying: the handoff ends, BANT notes, the SQL stage
    assert {"contact", "assignment", "stage"} <= set(kinds)
    assert "Call logged" in html and "Wants a demo" in html
    assert "Handoff history" not in html


def test_the_timeline_shows_times_in_the_viewers_zone_and_names_it(assignment: Assignment, rep: object) -> None:
    ViewerSettings.objects.create(user=rep, timezone="Asia/Tokyo")

    html = client_for(rep).get(reverse("handoff:lead", args=[assignment.lead_id])).content.decode()

    assert 'data-testid="timeline-zone">Asia/Tokyo<' in html
    assert "JST" in html


def test_choosing_a_time_zone_is_kept(rep: object, team: Team) -> None:
    client_for(rep).post(reverse("handoff:set_timezone"), {"timezone": "Europe/Berlin", "next": INBOX})

    assert ViewerSettings.objects.get(user=rep).timezone == "Europe/Berlin"


def test_an_unknown_time_zone_is_refused(rep: object, team: Team) -> None:
    client_for(rep).post(reverse("handoff:set_timezone"), {"timezone": "Mars/Olympus", "next": INBOX})

    assert not ViewerSettings.objects.filter(user=rep).exists()


# --- Live updates --------------------------------------------------------------------------------


def test_the_pulse_changes_when_a_lead_is_assigned(team: Team, rep: object, now: datetime) -> None:
    client = client_for(rep)
    before = client.get(reverse("handoff:inbox_pulse")).json()

    assign(team, now)
    after = client.get(reverse("handoff:inbox_pulse")).json()

    assert (before["todo"], after["todo"]) == (0, 1)
    assert before["version"] != after["version"]


# --- Error pages ---------------------------------------------------------------------------------


def test_a_missing_page_is_the_sites_own_404_with_where_to_go(rep: object) -> None:
    response = client_for(rep).get("/inbox/lead/999999/")

    assert response.status_code == 404
    html = response.content.decode()
    assert "We could not find that page" in html and "bootstrap.min.css" in html
    assert 'href="/inbox/"' in html


# --- Constant queries per page -------------------------------------------------------------------


def _queries(client: object, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)  # type: ignore[attr-defined]
    assert response.status_code == 200
    return len(captured)


def _next_page(client: object, url: str) -> str:
    html = client.get(url).content.decode()  # type: ignore[attr-defined]
    cursor = re.search(r'href="\?([^"]*after=[^"]+)"', html)
    assert cursor is not None, "expected a second page"
    return f"{url.split('?')[0]}?{cursor.group(1).replace('&amp;', '&')}"


def test_the_inbox_sorted_and_filtered_makes_the_same_queries_on_a_later_page(
    team: Team, rep: object, now: datetime
) -> None:
    for minute in range(55):
        assign(team, now + timedelta(minutes=minute), first_touch_campaign="spring")
    client = client_for(rep)
    url = f"{INBOX}?sort=-assigned&campaign=spring&stage=mql"
    client.get(url)  # the pick lists are read once per process, then kept

    first = _queries(client, url)
    later = _queries(client, _next_page(client, url))

    assert first == later


def test_the_team_queue_makes_the_same_queries_on_a_later_page_with_more_rows(
    team: Team, manager: object, now: datetime
) -> None:
    assign(team, now)
    client = client_for(manager)
    one_row = _queries(client, f"{QUEUE}?show=open")
    for minute in range(55):
        assign(team, now + timedelta(minutes=minute))

    first = _queries(client, f"{QUEUE}?show=open")
    later = _queries(client, _next_page(client, f"{QUEUE}?show=open"))

    assert one_row == first == later


def test_the_lead_page_makes_the_same_queries_with_a_longer_history(
    assignment: Assignment, rep: object, now: datetime
) -> None:
    client = client_for(rep)
    url = reverse("handoff:lead", args=[assignment.lead_id])
    short = _queries(client, url)
    for hour in range(1, 6):
        services.log_contact(
            assignment=assignment, rep=rep, kind="call", note=f"call {hour}", now=now + timedelta(hours=hour)
        )
        services.add_follow_up(lead=assignment.lead, rep=rep, due_at=now + timedelta(days=hour), note="again", now=now)

    long = _queries(client, url)

    assert short == long


def test_the_500_page_renders_in_the_layout_without_a_request() -> None:
    html = render_to_string("500.html")  # Django's server_error renders it with no context at all

    assert "Something went wrong on our side" in html
    assert "bootstrap.min.css" in html and 'href="/"' in html


def test_erasing_a_lead_blanks_its_follow_up_notes(assignment: Assignment, rep: object, now: datetime) -> None:
    services.add_follow_up(
        lead=assignment.lead, rep=rep, due_at=now + timedelta(days=1), note="Ask Ada about Q3", now=now
    )

    services.erase_lead_personal_data(lead_id=assignment.lead_id, now=now)

    assert list(FollowUp.objects.filter(lead_id=assignment.lead_id).values_list("note", flat=True)) == [""]
