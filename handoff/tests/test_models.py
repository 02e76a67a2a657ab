from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from handoff.models import Membership, SLAPolicy, Team, TeamHours
from handoff.tests.factories import TeamFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("fields", "field_in_error"),
    [
        ({"timezone": "Europe/Atlantis"}, "timezone"),
        ({"holiday_country": "XX"}, "holiday_country"),
        ({"holiday_country": "GB", "holiday_subdivision": "XX"}, "holiday_country"),
    ],
)
def test_a_team_with_an_unknown_timezone_or_holiday_region_is_invalid(
    fields: dict[str, str], field_in_error: str
) -> None:
    team = Team(name="Nowhere", slug="nowhere", **fields)

    with pytest.raises(ValidationError) as error:
        team.full_clean()

    assert field_in_error in error.value.message_dict


def test_only_one_team_can_be_the_default() -> None:
    TeamFactory(is_default=True)

    with pytest.raises(IntegrityError):
        TeamFactory(is_default=True)


@pytest.mark.parametrize(("opens", "closes"), [(time(9), time(17)), (time(22), time(0))])
def test_opening_hours_may_close_later_or_at_midnight(opens: time, closes: time) -> None:
    hours = TeamHours(team=TeamFactory(hours={}), weekday=0, opens_at=opens, closes_at=closes)

    hours.full_clean()


def test_opening_hours_must_close_after_they_open() -> None:
    hours = TeamHours(team=TeamFactory(hours={}), weekday=0, opens_at=time(17), closes_at=time(9))

    with pytest.raises(ValidationError) as error:
        hours.full_clean()

    assert "closes_at" in error.value.message_dict


@pytest.mark.parametrize(
    ("day", "expected"),
    [(date(2026, 3, 1), False), (date(2026, 3, 2), True), (date(2026, 3, 6), True), (date(2026, 3, 7), False)],
)
def test_out_of_office_covers_both_ends_of_the_range(day: date, expected: bool) -> None:
    membership = Membership(out_of_office_from=date(2026, 3, 2), out_of_office_until=date(2026, 3, 6))

    assert membership.is_out_of_office(day) is expected


def test_out_of_office_without_an_end_lasts_until_cleared() -> None:
    membership = Membership(out_of_office_from=date(2026, 3, 2))

    assert membership.is_out_of_office(date(2027, 1, 1))


def test_out_of_office_cannot_end_before_it_starts() -> None:
    membership = Membership(out_of_office_from=date(2026, 3, 6), out_of_office_until=date(2026, 3, 2))

    with pytest.raises(ValidationError) as error:
        membership.clean()

    assert "out_of_office_until" in error.value.message_dict


def test_a_policy_score_range_must_be_ordered() -> None:
    policy = SLAPolicy(name="Odd", min_score=80, max_score=20)

    with pytest.raises(ValidationError) as error:
        policy.full_clean()

    assert "max_score" in error.value.message_dict


def test_a_policy_target_must_be_positive() -> None:
    policy = SLAPolicy(name="Instant", target_duration=timedelta(0))

    with pytest.raises(ValidationError) as error:
        policy.full_clean()

    assert "target_duration" in error.value.message_dict
