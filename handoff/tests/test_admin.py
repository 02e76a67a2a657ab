from __future__ import annotations

from datetime import datetime

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse
from django.utils.html import escape
from django.utils.text import Truncator

from core import roles
from handoff.admin import WHY_IN_LIST_CHARS
from handoff.models import Assignment, Team
from handoff.tests.test_daily_work_views import assign
from tests.personas import client_for

pytestmark = pytest.mark.django_db


def team_form(*hours: tuple[int, str, str]) -> dict[str, str]:
    """The admin's add-team POST with one opening-hours row per (weekday, opens, closes)."""
    data = {"name": "Nordics", "slug": "nordics", "timezone": "Europe/Stockholm", "holiday_country": "SE"}
    for prefix, count in (("hours", len(hours)), ("closed_dates", 0), ("memberships", 0)):
        data |= {f"{prefix}-TOTAL_FORMS": str(count), f"{prefix}-INITIAL_FORMS": "0"}
    for index, (weekday, opens, closes) in enumerate(hours):
        data |= {f"hours-{index}-weekday": str(weekday), f"hours-{index}-opens_at": opens,
                 f"hours-{index}-closes_at": closes}  # fmt: skip
    return data


def test_managers_may_manage_teams_and_sla_policies() -> None:
    codenames = set(Group.objects.get(name=roles.SALES_MANAGER).permissions.values_list("codename", flat=True))

    assert {
        "add_team",
        "change_team",
        "view_team",
        "add_membership",
        "change_slapolicy",
        "view_assignment",
    } <= codenames


def test_reps_get_no_admin_permissions_from_handoff() -> None:
    codenames = set(Group.objects.get(name=roles.SALES_REP).permissions.values_list("codename", flat=True))

    assert codenames == {"work_inbox"}


def test_a_manager_adds_a_team_with_a_split_shift(manager: object) -> None:
    response = client_for(manager).post(
        reverse("admin:handoff_team_add"), team_form((0, "09:00", "12:00"), (0, "13:00", "17:00"))
    )

    assert response.status_code == 302
    assert Team.objects.get(slug="nordics").hours.count() == 2


def test_overlapping_opening_hours_are_rejected(manager: object) -> None:
    response = client_for(manager).post(
        reverse("admin:handoff_team_add"), team_form((0, "09:00", "13:00"), (0, "12:00", "17:00"))
    )

    assert response.status_code == 200
    assert b"overlap" in response.content
    assert not Team.objects.filter(slug="nordics").exists()


@pytest.mark.parametrize(
    "page",
    [
        "admin:handoff_team_changelist",
        "admin:handoff_team_add",
        "admin:handoff_slapolicy_add",
        "admin:handoff_assignment_changelist",
    ],
)
def test_managers_reach_the_handoff_admin_pages(manager: object, page: str) -> None:
    response = client_for(manager).get(reverse(page))

    assert response.status_code == 200


def test_the_assignment_list_shows_a_line_of_the_reasoning_and_the_whole_of_it_on_hover(
    team: Team, now: datetime, manager: User
) -> None:
    assignment = assign(team, now)
    summary = 'Rule "EMEA <b>enterprise</b>" & rep1 was next in the rotation, which weighs capacity; ' * 3
    Assignment.objects.filter(pk=assignment.pk).update(reasons={"summary": summary})

    response = client_for(manager).get(reverse("admin:handoff_assignment_changelist"))

    html = response.content.decode()
    shown = Truncator(summary).chars(WHY_IN_LIST_CHARS)
    assert f'<span title="{escape(summary)}">{escape(shown)}</span>' in html
    assert len(shown) == WHY_IN_LIST_CHARS < len(summary)
    assert "<b>enterprise</b>" not in html
