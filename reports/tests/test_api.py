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
