from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from core import roles
from handoff.models import Team
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
