"""GET /api/reports/funnel/ and /api/reports/attribution/: the page's numbers as JSON, with its filters."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from integrations.models import ApiKey
from integrations.tests.factories import ApiKeyFactory, api_headers
from leads.models import Lead, Stage
from leads.tests.factories import LeadFactory
from reports.selectors import Report, Table
from reports.tests.conftest import scope
from reports.tests.factories import routed_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def leads() -> None:
    routed_to(LeadFactory(stage=Stage.NEW, first_touch_channel="paid_social"), "london")
    routed_to(LeadFactory(stage=Stage.MQL, first_touch_channel="paid_social"), "london")
    routed_to(LeadFactory(stage=Stage.SQL, first_touch_channel="organic_search"), "berlin")


def get(path: str, key: ApiKey, **params: str) -> Any:
    return Client().get(path, params, headers=api_headers(key))


def rows(table: Table) -> list[dict[str, Any]]:
    return [dict(zip([column.key for column in table.columns], row, strict=True)) for row in table.rows]


def test_the_funnel_equals_the_reports_page(leads: None, manager: User) -> None:
    response = get("/api/reports/funnel/", ApiKeyFactory(user=manager, scope="read"))

    assert (response.status_code, response.json()["rows"]) == (200, rows(Report(scope()).funnel()))


def test_the_funnel_counts_leads_mqls_and_sqls(leads: None, manager: User) -> None:
    body = get("/api/reports/funnel/", ApiKeyFactory(user=manager, scope="read")).json()

    assert [(row["stage"], row["leads"]) for row in body["rows"]] == [("Lead", 3), ("MQL", 2), ("SQL", 1)]


def test_the_attribution_equals_the_reports_page(leads: None, marketer: User) -> None:
    response = get("/api/reports/attribution/", ApiKeyFactory(user=marketer, scope="read"))

    assert (response.status_code, response.json()["rows"]) == (200, rows(Report(scope()).attribution()))


def test_the_team_filter_narrows_the_numbers_like_the_page(leads: None) -> None:
    body = get("/api/reports/funnel/", ApiKeyFactory(scope="read"), team="london").json()

    london = Lead.objects.filter(routing_decision__team__slug="london")
    expected = rows(Report(scope(leads=london, is_filtered=True)).funnel())
    assert body["rows"] == expected


def test_an_unknown_team_is_a_400(leads: None) -> None:
    response = get("/api/reports/funnel/", ApiKeyFactory(scope="read"), team="mars")

    assert (response.status_code, list(response.json())) == (400, ["team"])


def test_an_integration_key_with_the_read_scope_may_read_reports(leads: None) -> None:
    assert get("/api/reports/attribution/", ApiKeyFactory(scope="read")).status_code == 200


def test_a_capture_key_may_not_read_reports(leads: None) -> None:
    assert get("/api/reports/funnel/", ApiKeyFactory(scope="capture")).status_code == 403


@pytest.mark.parametrize("path", ["/api/reports/funnel/", "/api/reports/attribution/"])
def test_a_rep_may_not_read_reports(rep: User, path: str) -> None:
    assert get(path, ApiKeyFactory(user=rep, scope="read")).status_code == 403


@pytest.mark.parametrize("name", ["created_after", "created_before"])
def test_a_day_that_is_not_a_date_is_a_400_naming_its_parameter(name: str) -> None:
    response = get("/api/reports/funnel/", ApiKeyFactory(scope="read"), **{name: "yesterday"})

    assert (response.status_code, response.json()) == (400, {name: ["Enter a valid date."]})


def test_a_day_beyond_the_years_a_report_counts_is_a_400_naming_its_parameter() -> None:
    response = get("/api/reports/funnel/", ApiKeyFactory(scope="read"), created_after="2026-03-01",
                   created_before="9999-12-31")  # fmt: skip

    assert (response.status_code, list(response.json())) == (400, ["created_before"])


def test_two_wrong_days_are_each_named_with_their_own_message() -> None:
    response = get("/api/reports/attribution/", ApiKeyFactory(scope="read"), created_after="yesterday",
                   created_before="9999-12-31")  # fmt: skip

    assert response.json() == {
        "created_after": ["Enter a valid date."],
        "created_before": ["Pick dates between the years 1900 and 9998."],
    }


def test_a_reversed_range_is_a_400_naming_both_parameters() -> None:
    response = get("/api/reports/funnel/", ApiKeyFactory(scope="read"), created_after="2026-03-01",
                   created_before="2026-02-01")  # fmt: skip

    message = ["The start date is after the end date: swap them to see that range."]
    assert (response.status_code, response.json()) == (400, {"created_after": message, "created_before": message})
