"""The reports page and its CSV exports: who may see them, and what they show."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from leads.models import Stage
from leads.tests.factories import FIXED_NOW
from reports.rollups import rebuild_rollups
from reports.tests.factories import SpendFactory, Step, journey
from tests.personas import client_for

pytestmark = pytest.mark.django_db

URL = "/reports/"


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    """The page opens on the last 90 days; the factories create leads at FIXED_NOW."""
    with time_machine.travel(FIXED_NOW + timedelta(days=1)):
        yield


def exported(response: Any) -> list[list[str]]:
    """The rows of a CSV export (the test client's answer: a StreamingHttpResponse at run time)."""
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_url_is_reports() -> None:
    assert reverse("reports:index") == URL


def test_reports_open_for_managers(manager: User) -> None:
    response = client_for(manager).get(URL)

    assert response.status_code == 200


def test_reports_open_for_marketers(marketer: User) -> None:
    response = client_for(marketer).get(URL)

    assert response.status_code == 200


def test_reports_are_forbidden_to_reps(rep: User) -> None:
    response = client_for(rep).get(URL)

    assert response.status_code == 403


def test_reports_send_anonymous_visitors_to_sign_in() -> None:
    response = Client().get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_reports_reject_post(manager: User) -> None:
    response = client_for(manager).post(URL)

    assert response.status_code == 405


def test_the_page_shows_every_table_with_its_chart_data(manager: User) -> None:
    journey(Step("podcast", source="b2b-growth-podcast"), stage=Stage.MQL, moves=[(Stage.MQL, 1)])
    SpendFactory(source="b2b-growth-podcast", campaign="")

    response = client_for(manager).get(URL)

    html = response.content.decode()
    for key in ("volume", "quality", "cost", "funnel", "attribution"):
        assert f'data-testid="table-{key}"' in html
        assert f'id="data-{key}"' in html
    assert "b2b-growth-podcast" in html


def test_the_page_applies_the_filters(manager: User) -> None:
    journey(Step("cpc", source="google"), created_at=datetime(2026, 1, 10, tzinfo=UTC))
    journey(Step("podcast", source="b2b-growth-podcast"), created_at=datetime(2026, 3, 10, tzinfo=UTC))

    response = client_for(manager).get(URL, {"created_after": "2026-03-01"})

    sources = [row[0] for row in response.context["tables"]["quality"].rows]
    assert sources == ["b2b-growth-podcast", "All sources"]


def test_the_page_renders_with_no_leads(manager: User) -> None:
    response = client_for(manager).get(URL, {"period": "month", "by": "source"})

    assert response.status_code == 200
    assert b"No data for these filters." in response.content


def test_the_page_asks_the_database_a_fixed_number_of_questions(
    manager: User, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    for i in range(20):
        journey(Step("cpc", source=f"source-{i}"), stage=Stage.MQL, moves=[(Stage.MQL, 1)])
    client = client_for(manager)

    with django_assert_max_num_queries(20):
        client.get(URL)


def test_export_streams_the_table_as_csv(manager: User) -> None:
    journey(Step("podcast", source="b2b-growth-podcast"))

    response = client_for(manager).get(URL, {"export": "quality"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="leadsite-quality-')
    rows = exported(response)
    assert rows[0] == ["Source", "Leads", "Reached MQL", "Reached SQL", "MQL rate (%)", "SQL rate (%)", "MQL → SQL (%)"]
    assert rows[1] == ["b2b-growth-podcast", "1", "0", "0", "0.0", "0.0", ""]


def test_export_neutralises_formulas_in_cells(manager: User) -> None:
    journey(Step("cpc", source='=HYPERLINK("http://evil.example","x")', campaign="@SUM(1)"))
    SpendFactory(source="+cmd", campaign="-2+3")

    response = client_for(manager).get(URL, {"export": "cost"})

    rows = exported(response)
    assert rows[1][:2] == ["'+cmd", "All campaigns"]
    quality = exported(client_for(manager).get(URL, {"export": "quality"}))
    assert quality[1][0] == '\'=HYPERLINK("http://evil.example","x")'


def test_export_keeps_the_filters(manager: User) -> None:
    journey(Step("cpc", source="google"), created_at=datetime(2026, 1, 10, tzinfo=UTC))
    journey(Step("podcast", source="b2b-growth-podcast"), created_at=datetime(2026, 3, 10, tzinfo=UTC))

    rows = exported(client_for(manager).get(URL, {"export": "quality", "created_after": "2026-03-01"}))

    assert [row[0] for row in rows[1:]] == ["b2b-growth-podcast", "All sources"]


def test_export_of_an_unknown_table_is_404(manager: User) -> None:
    response = client_for(manager).get(URL, {"export": "salaries"})

    assert response.status_code == 404


def test_export_is_forbidden_to_reps(rep: User) -> None:
    response = client_for(rep).get(URL, {"export": "quality"})

    assert response.status_code == 403


def test_export_links_carry_the_current_filters(manager: User) -> None:
    response = client_for(manager).get(URL, {"campaign": "brand-search"})

    assert response.context["export_urls"]["funnel"] == "?campaign=brand-search&created_after=2025-12-04&export=funnel"


def test_without_sla_records_the_page_says_when_the_section_appears(manager: User) -> None:
    response = client_for(manager).get(URL)

    assert b"once leads have been assigned to reps" in response.content
    assert client_for(manager).get(URL, {"export": "sla"}).status_code == 404


def test_the_page_opens_on_the_last_90_days(manager: User) -> None:
    journey(Step("cpc", source="google"), created_at=FIXED_NOW - timedelta(days=90))
    journey(Step("podcast", source="b2b-growth-podcast"), created_at=FIXED_NOW - timedelta(days=88))

    response = client_for(manager).get(URL)

    sources = [row[0] for row in response.context["tables"]["quality"].rows]
    assert sources == ["b2b-growth-podcast", "All sources"]
    assert 'value="2025-12-04"' in response.content.decode()


def test_all_time_is_one_click_away(manager: User) -> None:
    journey(Step("cpc", source="google"), created_at=FIXED_NOW - timedelta(days=400))
    page = client_for(manager).get(URL, {"campaign": "x"})

    response = client_for(manager).get(URL + page.context["range_urls"]["all"])

    assert page.context["range_urls"]["all"] == "?campaign=x&range=all"
    assert response.context["is_all_time"] is True
    assert client_for(manager).get(URL, {"range": "all"}).context["tables"]["funnel"].rows[0][1] == 1


def test_the_page_says_the_numbers_are_live_before_the_rollups_are_built(manager: User) -> None:
    response = client_for(manager).get(URL)

    assert b"Numbers computed live" in response.content


def test_the_page_says_how_fresh_the_rollup_numbers_are(manager: User) -> None:
    journey(Step("podcast", source="b2b-growth-podcast"))
    rebuild_rollups(now=FIXED_NOW + timedelta(hours=1))

    response = client_for(manager).get(URL)

    assert "Numbers as of 2 Mar 2026, 11:00 UTC" in response.content.decode()
    assert response.context["tables"]["funnel"].rows[0][1] == 1
