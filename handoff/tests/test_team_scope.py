"""A manager sees and changes only the leads, assignments and teams of the teams they run (issue 14, break 3).

The review's second manager ran one team and reached the other team's leads through admin. Each test here
takes that surface: ``manager`` runs London (``rep``), ``second_manager`` runs Mid-market (``other_rep``).
"""

from __future__ import annotations

from datetime import datetime

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from core import roles
from handoff import services
from handoff.models import Assignment, Membership, SLAPolicy, Team
from handoff.tests.factories import MQLFactory, SLAPolicyFactory, TeamFactory, route
from integrations.tests.factories import ApiKeyFactory, api_headers
from leads.models import StageChange
from leads.tests.factories import UserFactory
from tests.personas import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_manager(db: None) -> object:
    user = UserFactory(username="manager2", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.SALES_MANAGER))
    return user


@pytest.fixture
def other_team(other_rep: object, second_manager: object) -> Team:
    return TeamFactory(slug="mid-market", name="Mid-market", members=[other_rep], managers=[second_manager])


@pytest.fixture
def theirs(other_team: Team, now: datetime) -> Assignment:
    """A lead assigned in the other team."""
    return services.assign_lead(lead=MQLFactory(email="grace@other.example"), team=other_team, now=now)


def team_change_form(team: Team, **changes: object) -> dict[str, object]:
    """The admin's change-team POST as the page would send it, with ``changes`` on top."""
    data: dict[str, object] = {"name": team.name, "slug": team.slug, "timezone": team.timezone}
    hours = [
        {"id": row.pk, "team": team.pk, "weekday": row.weekday, "opens_at": f"{row.opens_at:%H:%M}",
         "closes_at": f"{row.closes_at:%H:%M}"}
        for row in team.hours.all()
    ]  # fmt: skip
    members = inline("memberships", member_rows(team))
    return data | inline("hours", hours) | inline("closed_dates", []) | members | changes


def member_rows(team: Team) -> list[dict[str, object]]:
    return [
        {"id": row.pk, "team": team.pk, "user": row.user_id, "capacity_weight": row.capacity_weight, "is_active": "on"}
        for row in team.memberships.all()
    ]


def inline(prefix: str, rows: list[dict[str, object]], *, new: int = 0) -> dict[str, object]:
    """An inline formset's POST: its management form and ``rows``, the last ``new`` of them not saved yet."""
    data: dict[str, object] = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(len(rows) - new)}
    for index, row in enumerate(rows):
        data |= {f"{prefix}-{index}-{name}": value for name, value in row.items()}
    return data


def with_new_member(team: Team, user: object) -> dict[str, object]:
    new = {"team": team.pk, "user": user.pk, "capacity_weight": 1, "is_active": "on"}  # type: ignore[attr-defined]
    return team_change_form(team) | inline("memberships", [*member_rows(team), new], new=1)


# --- Leads in admin ------------------------------------------------------------------------------------


def test_the_lead_admin_lists_only_the_leads_of_the_managers_teams(
    manager: object, assignment: Assignment, theirs: Assignment
) -> None:
    page = client_for(manager).get(reverse("admin:leads_lead_changelist")).content.decode()

    assert (assignment.lead.email in page, theirs.lead.email in page) == (True, False)


def test_another_teams_lead_page_in_admin_is_out_of_reach(manager: object, theirs: Assignment) -> None:
    response = client_for(manager).get(reverse("admin:leads_lead_change", args=[theirs.lead_id]))

    assert (response.status_code, response["Location"]) == (302, reverse("admin:index"))


def test_the_stage_history_in_admin_is_the_managers_teams_only(
    manager: object, assignment: Assignment, theirs: Assignment, now: datetime
) -> None:
    for lead in (assignment.lead, theirs.lead):
        StageChange.objects.create(lead=lead, from_stage="new", to_stage="mql", changed_at=now)

    page = client_for(manager).get(reverse("admin:leads_stagechange_changelist"))

    assert {change.lead_id for change in page.context["cl"].result_list} == {assignment.lead_id}


def test_a_marketer_still_sees_every_lead_in_admin(
    marketer: object, assignment: Assignment, theirs: Assignment
) -> None:
    page = client_for(marketer).get(reverse("admin:leads_lead_changelist")).content.decode()

    assert (assignment.lead.email in page, theirs.lead.email in page) == (True, True)


# --- Assignments and SLA records in admin ---------------------------------------------------------------


def test_the_assignment_admin_lists_only_the_managers_teams(
    manager: object, assignment: Assignment, theirs: Assignment
) -> None:
    page = client_for(manager).get(reverse("admin:handoff_assignment_changelist"))

    assert [row.pk for row in page.context["cl"].result_list] == [assignment.pk]


def test_another_teams_assignment_with_its_sla_record_is_out_of_reach(manager: object, theirs: Assignment) -> None:
    response = client_for(manager).get(reverse("admin:handoff_assignment_change", args=[theirs.pk]))

    assert response.status_code == 302


# --- Teams: membership and managers --------------------------------------------------------------------


def test_a_manager_sees_only_the_teams_they_run(manager: object, team: Team, other_team: Team) -> None:
    page = client_for(manager).get(reverse("admin:handoff_team_changelist"))

    assert list(page.context["cl"].result_list) == [team]


def test_a_manager_cannot_save_themself_into_another_team_and_open_its_leads(
    manager: object, second_manager: object, team: Team, assignment: Assignment
) -> None:
    client = client_for(second_manager)
    joined = team_change_form(team, managers=[manager.pk, second_manager.pk])  # type: ignore[attr-defined]

    client.post(reverse("admin:handoff_team_change", args=[team.pk]), joined)
    response = client.get(reverse("handoff:lead", args=[assignment.lead_id]))

    assert list(team.managers.all()) == [manager]
    assert response.status_code == 404


def test_a_manager_cannot_add_themself_to_the_managers_of_their_own_team(
    manager: object, second_manager: object, team: Team
) -> None:
    response = client_for(manager).post(
        reverse("admin:handoff_team_change", args=[team.pk]),
        team_change_form(team, managers=[manager.pk, second_manager.pk]),  # type: ignore[attr-defined]
    )

    assert response.status_code == 302
    assert list(team.managers.all()) == [manager]


def test_a_manager_cannot_add_a_rep_to_their_team(manager: object, other_rep: object, team: Team) -> None:
    client_for(manager).post(reverse("admin:handoff_team_change", args=[team.pk]), with_new_member(team, other_rep))

    assert not Membership.objects.filter(team=team, user=other_rep).exists()


def test_a_manager_still_records_a_reps_time_off(manager: object, rep: object, team: Team) -> None:
    client_for(manager).post(
        reverse("admin:handoff_team_change", args=[team.pk]),
        team_change_form(team, **{"memberships-0-out_of_office_from": "2026-03-09"}),
    )

    assert str(Membership.objects.get(team=team, user=rep).out_of_office_from) == "2026-03-09"


def test_a_manager_cannot_make_their_team_the_default(manager: object, team: Team) -> None:
    client_for(manager).post(
        reverse("admin:handoff_team_change", args=[team.pk]), team_change_form(team, is_default="on")
    )

    assert Team.objects.get(pk=team.pk).is_default is False


def test_a_teams_slug_is_kept_when_its_page_is_saved(manager: object, team: Team) -> None:
    response = client_for(manager).post(
        reverse("admin:handoff_team_change", args=[team.pk]), team_change_form(team, slug="renamed")
    )

    assert response.status_code == 302
    assert Team.objects.get(pk=team.pk).slug == "london"


def test_a_manager_who_adds_a_team_runs_it(manager: object) -> None:
    data = {"name": "Nordics", "slug": "nordics", "timezone": "Europe/Stockholm"}
    hours = [{"weekday": 0, "opens_at": "09:00", "closes_at": "17:00"}]

    client_for(manager).post(
        reverse("admin:handoff_team_add"),
        data | inline("hours", hours, new=1) | inline("closed_dates", []) | inline("memberships", []),
    )

    assert list(Team.objects.get(slug="nordics").managers.all()) == [manager]


def test_the_membership_permission_lets_its_holder_add_a_member(manager: object, other_rep: object, team: Team) -> None:
    manager.user_permissions.add(Permission.objects.get(codename="manage_team_membership"))  # type: ignore[attr-defined]

    client_for(manager).post(reverse("admin:handoff_team_change", args=[team.pk]), with_new_member(team, other_rep))

    assert Membership.objects.filter(team=team, user=other_rep).exists()


def test_no_role_may_change_team_membership() -> None:
    holders = Group.objects.filter(permissions__codename="manage_team_membership")

    assert not holders.exists()


# --- SLA policies --------------------------------------------------------------------------------------


def test_a_manager_sees_their_teams_sla_policies_and_those_for_every_team(
    manager: object, team: Team, other_team: Team
) -> None:
    mine = SLAPolicyFactory(team=team, priority=1)
    SLAPolicyFactory(team=other_team)
    everyones = SLAPolicyFactory(team=None, priority=2)

    page = client_for(manager).get(reverse("admin:handoff_slapolicy_changelist"))

    assert set(page.context["cl"].result_list) == {mine, everyones}


def test_a_manager_cannot_change_a_policy_for_every_team(manager: object, team: Team) -> None:
    everyones = SLAPolicyFactory(team=None, name="Default", is_active=True)
    client = client_for(manager)

    page = client.get(reverse("admin:handoff_slapolicy_change", args=[everyones.pk]))
    changed = client.post(
        reverse("admin:handoff_slapolicy_change", args=[everyones.pk]),
        {"name": "Mine now", "priority": "1", "team": str(team.pk), "target_duration": "01:00:00",
         "reminder_percent": "50", "on_breach": "notify_manager"},
    )  # fmt: skip
    listed = client.post(
        reverse("admin:handoff_slapolicy_changelist"),
        {"form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "1", "form-0-id": str(everyones.pk), "form-0-priority": "9",
         "_save": "Save"},
    )  # fmt: skip

    assert (page.status_code, page.context["has_change_permission"]) == (200, False)
    assert changed.status_code == 403
    assert listed.status_code in (200, 302)
    assert SLAPolicy.objects.values_list("name", "priority", "is_active", "team").get() == (
        "Default",
        everyones.priority,
        True,
        None,
    )


def test_a_manager_cannot_make_a_policy_for_every_team(manager: object, team: Team) -> None:
    client_for(manager).post(
        reverse("admin:handoff_slapolicy_add"),
        {"name": "Everyone", "priority": "1", "is_active": "on", "team": "", "target_duration": "01:00:00",
         "reminder_percent": "50", "on_breach": "notify_manager"},
    )  # fmt: skip

    assert not SLAPolicy.objects.exists()


# --- Pages and API ----------------------------------------------------------------------------------------


def test_the_queue_hides_a_lead_routed_to_another_team(manager: object, team: Team, other_team: Team) -> None:
    waiting_there = MQLFactory()
    route(waiting_there, team=other_team)
    unrouted = MQLFactory()

    page = client_for(manager).get(reverse("handoff:team_queue"), {"show": "unassigned"})

    assert list(page.context["page"].items) == [unrouted]
    assert waiting_there not in page.context["page"].items


def test_a_manager_cannot_assign_a_lead_routed_to_another_team(manager: object, team: Team, other_team: Team) -> None:
    waiting_there = MQLFactory()
    route(waiting_there, team=other_team)

    response = client_for(manager).post(
        reverse("handoff:assign", args=[waiting_there.pk]), {"assign-to": f"team:{team.pk}"}
    )

    assert response.status_code == 404
    assert not Assignment.objects.filter(lead=waiting_there).exists()


def test_a_lead_reassigned_to_another_team_leaves_the_managers_api_list(
    manager: object, assignment: Assignment, other_team: Team, now: datetime
) -> None:
    services.reassign_lead(assignment=assignment, now=now, by=None, reason="Mid-market", team=other_team)

    response = Client().get("/api/leads/", headers=api_headers(ApiKeyFactory(user=manager, scope="read")))

    assert response.json()["results"] == []


def test_a_lead_waiting_in_the_managers_team_is_in_their_api_list(manager: object, team: Team) -> None:
    waiting_here = MQLFactory()
    route(waiting_here, team=team)

    response = Client().get("/api/leads/", headers=api_headers(ApiKeyFactory(user=manager, scope="read")))

    assert [row["id"] for row in response.json()["results"]] == [waiting_here.pk]
