"""Bad filters of GET /api/leads/ are a 400 naming the filter, also where PostgreSQL would have failed on them."""

from __future__ import annotations

import pytest
from django.test import Client

from integrations.tests.factories import ApiKeyFactory, api_headers
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

NAIVE_TIME = "Include a UTC offset or Z, as in 2026-03-02T10:00:00Z: a time without one could be in any time zone."


def list_leads(**params: str) -> object:
    return Client().get("/api/leads/", params, headers=api_headers(ApiKeyFactory(scope="read")))


@pytest.mark.parametrize("name", ["created_after", "created_before"])
def test_an_offset_beyond_plus_15_59_is_refused_naming_the_filter(name: str) -> None:
    response = list_leads(**{name: "2026-01-01T00:00:00+16:00"})

    assert response.status_code == 400  # type: ignore[attr-defined]
    assert list(response.json()) == [name]  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["created_after", "created_before"])
@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_a_time_beyond_the_years_a_page_can_show_is_refused_naming_the_filter(name: str, value: str) -> None:
    response = list_leads(**{name: value})

    assert response.status_code == 400  # type: ignore[attr-defined]
    assert list(response.json()) == [name]  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["created_after", "created_before"])
@pytest.mark.parametrize("value", ["2026-03-01T00:00:00", "2026-03-01"])
def test_a_time_without_a_utc_offset_is_refused_naming_the_filter(name: str, value: str) -> None:
    response = list_leads(**{name: value})

    assert (response.status_code, response.json()) == (400, {name: [NAIVE_TIME]})  # type: ignore[attr-defined]


def test_an_offset_beyond_minus_15_59_is_refused() -> None:
    response = list_leads(created_after="2026-01-01T00:00:00-16:00")

    assert response.status_code == 400  # type: ignore[attr-defined]


def test_an_offset_of_15_59_filters_by_the_instant_it_names() -> None:
    lead = LeadFactory()  # created at 2026-03-02 10:00 UTC

    response = list_leads(created_after="2026-03-03T01:59:00+15:59")

    assert response.status_code == 200  # type: ignore[attr-defined]
    assert [row["id"] for row in response.json()["results"]] == [lead.pk]  # type: ignore[attr-defined]


def test_a_nul_in_the_search_is_refused_naming_the_filter() -> None:
    response = list_leads(q="a\x00b")

    assert (response.status_code, response.json()) == (400, {"q": ["Null characters are not allowed."]})  # type: ignore[attr-defined]


def test_an_owner_that_is_not_a_whole_number_is_refused_naming_the_filter() -> None:
    response = list_leads(owner="1.5")

    assert response.status_code == 400  # type: ignore[attr-defined]
    assert list(response.json()) == ["owner"]  # type: ignore[attr-defined]
