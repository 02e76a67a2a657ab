"""Report filters and options that do not validate are shown as form errors; the Spend list offers its CSV import."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.urls import reverse

from leads.tests.factories import FIXED_NOW
from reports.forms import ReportOptionsForm
from reports.tests.factories import Step, journey
from tests.personas import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    with time_machine.travel(FIXED_NOW + timedelta(days=1)):
        yield


def test_a_reversed_date_range_is_a_form_error(manager: User) -> None:
    response = client_for(manager).get(
        reverse("reports:index"), {"created_after": "2026-03-01", "created_before": "2026-02-01"}
    )

    assert response.status_code == 400
    assert "The start date is after the end date" in response.content.decode()


INVALID_FILTERS = (
    {"created_after": "2026-03-01", "created_before": "2026-02-01"},
    {"created_after": "0001-01-01"},
    {"form": "no-such-form"},
    {"team": "no-such-team"},
    {"period": "fortnight"},
    {"by": "nonsense"},
)


@pytest.mark.parametrize("params", INVALID_FILTERS)
def test_a_filter_that_does_not_validate_shows_its_error_and_no_figures(manager: User, params: dict[str, str]) -> None:
    journey(Step("cpc", source="google"), created_at=FIXED_NOW - timedelta(days=400))

    response = client_for(manager).get(reverse("reports:index"), params)

    page = response.content.decode()
    assert response.status_code == 400
    assert 'data-testid="filter-errors"' in page
    assert "tables" not in response.context
    assert 'data-testid="kpis"' not in page and "google" not in page
    assert "No figures for these filters: correct the error above to see the report." in page


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"period": "fortnight"}, "Choose a weekly or monthly period: 'fortnight' is neither."),
        ({"by": "nonsense"}, "Choose volume by channel or by source: 'nonsense' is neither."),
    ],
)
def test_an_unknown_option_is_a_form_error_naming_the_choices(
    manager: User, params: dict[str, str], message: str
) -> None:
    response = client_for(manager).get(reverse("reports:index"), params)

    assert response.status_code == 400
    assert message in html.unescape(response.content.decode())


@pytest.mark.parametrize("params", [{}, {"period": "", "by": ""}])
def test_an_option_left_out_takes_its_default(manager: User, params: dict[str, str]) -> None:
    response = client_for(manager).get(reverse("reports:index"), params)

    assert response.status_code == 200
    assert response.context["options"].choices() == {"period": "week", "volume_by": "channel"}


def test_options_that_do_not_validate_give_no_choices_rather_than_the_defaults() -> None:
    options = ReportOptionsForm({"period": "fortnight"})

    with pytest.raises(ValueError, match="do not validate"):
        options.choices()


def test_a_filter_that_does_not_validate_keeps_what_was_entered(manager: User) -> None:
    params = {"created_after": "2026-03-01", "created_before": "2026-02-01", "campaign": "brand-search"}

    response = client_for(manager).get(reverse("reports:index"), params)

    page = response.content.decode()
    assert 'value="2026-03-01"' in page and 'value="2026-02-01"' in page and 'value="brand-search"' in page


@pytest.mark.parametrize("params", INVALID_FILTERS)
def test_an_export_with_a_filter_that_does_not_validate_is_the_error_and_no_csv(
    manager: User, params: dict[str, str]
) -> None:
    journey(Step("cpc", source="google"), created_at=FIXED_NOW - timedelta(days=400))

    response = client_for(manager).get(reverse("reports:index"), {**params, "export": "quality"})

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert 'data-testid="filter-errors"' in response.content.decode()


@pytest.mark.parametrize("zone", ["UTC", "Asia/Tokyo"])
@pytest.mark.parametrize("dates", [{"created_before": "9999-12-31"}, {"created_after": "0001-01-01"}])
def test_a_date_beyond_the_years_a_report_counts_is_a_form_error_on_the_page_and_the_api(
    manager: User, settings: object, zone: str, dates: dict[str, str]
) -> None:
    settings.TIME_ZONE = zone  # type: ignore[attr-defined]
    client = client_for(manager)

    page = client.get(reverse("reports:index"), dates)
    api = client.get("/api/reports/funnel/", dates)

    assert page.status_code == 400
    assert "Pick dates between the years 1900 and 9998." in page.content.decode()
    assert api.status_code == 400


def test_an_unknown_form_is_a_form_error(manager: User) -> None:
    response = client_for(manager).get(reverse("reports:index"), {"form": "no-such-form"})

    assert response.status_code == 400
    assert "form" in response.context["filters"].form.errors


def test_a_forward_date_range_is_no_error(manager: User) -> None:
    response = client_for(manager).get(
        reverse("reports:index"), {"created_after": "2026-02-01", "created_before": "2026-03-01"}
    )

    assert response.status_code == 200


def test_the_spend_list_offers_the_csv_import(marketer: User) -> None:
    response = client_for(marketer).get(reverse("admin:reports_spend_changelist"))

    assert reverse("admin:reports_spend_import") in response.content.decode()


def test_the_spend_list_offers_no_import_to_who_cannot_add_spend(manager: User) -> None:
    response = client_for(manager).get(reverse("admin:reports_spend_changelist"))

    assert reverse("admin:reports_spend_import") not in response.content.decode()
