"""New leads per week or month, by first-touch channel or source."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from reports.selectors import Report
from reports.selectors.volume import MAX_SERIES
from reports.tests.conftest import scope
from reports.tests.factories import Step, journey

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 3, 2, 0, 30, tzinfo=UTC)
SUNDAY_NIGHT = datetime(2026, 3, 8, 23, 59, tzinfo=UTC)
NEXT_MONDAY = datetime(2026, 3, 9, 0, 0, tzinfo=UTC)


def test_weeks_start_on_monday() -> None:
    journey(Step("cpc"), created_at=MONDAY)
    journey(Step("cpc"), created_at=SUNDAY_NIGHT)
    journey(Step("email"), created_at=NEXT_MONDAY)

    table = Report(scope(period="week")).volume()

    assert [column.label for column in table.columns] == ["Week of", "Paid search", "Email", "Total"]
    assert table.rows == [(date(2026, 3, 2), 2, 0, 2), (date(2026, 3, 9), 0, 1, 1)]


def test_months_start_on_the_first() -> None:
    journey(Step("cpc"), created_at=datetime(2026, 1, 31, 23, 0, tzinfo=UTC))
    journey(Step("cpc"), created_at=datetime(2026, 2, 1, 0, 0, tzinfo=UTC))

    table = Report(scope(period="month")).volume()

    assert table.rows == [(date(2026, 1, 1), 1, 1), (date(2026, 2, 1), 1, 1)]


def test_a_quiet_week_shows_as_zero() -> None:
    journey(Step("cpc"), created_at=MONDAY)
    journey(Step("cpc"), created_at=datetime(2026, 3, 18, tzinfo=UTC))

    table = Report(scope(period="week")).volume()

    assert [row[0] for row in table.rows] == [date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16)]
    assert table.rows[1] == (date(2026, 3, 9), 0, 0)


def test_volume_by_source_groups_on_the_first_touch_source() -> None:
    journey(Step("cpc", source="google"), created_at=MONDAY)
    journey(Step("paid_social", source="linkedin"), created_at=MONDAY)
    journey(Step("paid_social", source="linkedin"), created_at=MONDAY)

    table = Report(scope(volume_by="source")).volume()

    assert [column.label for column in table.columns] == ["Week of", "linkedin", "google", "Total"]
    assert table.rows == [(date(2026, 3, 2), 2, 1, 3)]


def test_sources_beyond_the_chart_limit_are_summed_as_other() -> None:
    for i in range(MAX_SERIES + 2):
        journey(Step("cpc", source=f"source-{i:02}"), created_at=MONDAY)

    table = Report(scope(volume_by="source")).volume()

    assert [column.label for column in table.columns][-2:] == ["Other", "Total"]
    assert table.rows[0][-2:] == (2, MAX_SERIES + 2)
