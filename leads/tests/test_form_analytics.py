"""Form analytics: views, starts and conversions counted per form and day; bots, staff and previews ignored."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from leads import analytics
from leads.models import ActivityKind, CaptureForm, FormDailyStat, Stage, SubmissionStatus
from leads.tests.factories import FIXED_NOW, ActivityFactory, LeadFactory, SubmissionFactory
from tests.personas import client_for

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
HEADLESS = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0 Safari/537.36"
TODAY = FIXED_NOW.date()
PERIOD = analytics.DateRange(start=TODAY - timedelta(days=6), end=TODAY)


def stats(form: CaptureForm) -> tuple[int, int, int]:
    row = FormDailyStat.objects.filter(form=form, day=TODAY).first()
    return (row.views, row.bot_views, row.starts) if row else (0, 0, 0)


def view(
    client: Client, form: CaptureForm, user_agent: str = BROWSER, name: str = "leads:form", **headers: str
) -> None:
    response = client.get(reverse(name, args=[form.slug]), headers={"user-agent": user_agent, **headers})
    assert response.status_code == 200


@pytest.fixture(autouse=True)
def _today(clock: time_machine.Traveller) -> None:
    """The views read the clock; every count lands on FIXED_NOW's day."""


def test_each_view_of_the_form_page_and_the_embed_counts_once(whitepaper: CaptureForm) -> None:
    client = Client()

    view(client, whitepaper)
    view(client, whitepaper)
    view(client, whitepaper, name="leads:form_embed")

    assert stats(whitepaper) == (3, 0, 0)


@pytest.mark.parametrize("user_agent", [GOOGLEBOT, HEADLESS, "python-requests/2.32", ""])
def test_bots_are_counted_apart_from_views(whitepaper: CaptureForm, user_agent: str) -> None:
    view(Client(), whitepaper, user_agent=user_agent)

    assert stats(whitepaper) == (0, 1, 0)


@pytest.mark.parametrize("user_agent", ["Mimecast", f"{BROWSER} SafeLinks", "Mozilla/5.0 (compatible; Proofpoint)"])
def test_a_mail_gateway_opening_the_forms_link_is_a_bot_view(whitepaper: CaptureForm, user_agent: str) -> None:
    """The same rule as for email links (``core.link_scanners``): a form's link in an email is opened by gateways."""
    view(Client(), whitepaper, user_agent=user_agent)

    assert stats(whitepaper) == (0, 1, 0)


def test_a_prefetch_is_not_a_view(whitepaper: CaptureForm) -> None:
    view(Client(), whitepaper, **{"sec-purpose": "prefetch"})

    assert stats(whitepaper) == (0, 0, 0)


def test_staff_looking_at_the_public_page_is_not_counted(whitepaper: CaptureForm, marketer: object) -> None:
    view(client_for(marketer), whitepaper)

    assert stats(whitepaper) == (0, 0, 0)


def test_the_admin_preview_is_not_counted(whitepaper: CaptureForm, marketer: object) -> None:
    client_for(marketer).get(reverse("leads:form_preview", args=[whitepaper.slug]), headers={"user-agent": BROWSER})

    assert stats(whitepaper) == (0, 0, 0)


def test_the_view_count_sets_no_cookie(whitepaper: CaptureForm) -> None:
    response = Client().get(reverse("leads:form", args=[whitepaper.slug]), headers={"user-agent": BROWSER})

    assert list(response.cookies) == []


def test_a_start_is_counted_and_answered_with_no_content(whitepaper: CaptureForm) -> None:
    response = Client().post(reverse("leads:form_start", args=[whitepaper.slug]), headers={"user-agent": BROWSER})

    assert (response.status_code, stats(whitepaper)) == (204, (0, 0, 1))


def test_a_bots_start_is_not_counted(whitepaper: CaptureForm) -> None:
    Client().post(reverse("leads:form_start", args=[whitepaper.slug]), headers={"user-agent": GOOGLEBOT})

    assert stats(whitepaper) == (0, 0, 0)


def test_the_form_page_names_where_starts_are_reported(whitepaper: CaptureForm) -> None:
    response = Client().get(reverse("leads:form", args=[whitepaper.slug]))

    assert f'data-start-url="{reverse("leads:form_start", args=[whitepaper.slug])}"' in response.content.decode()


def test_counters_add_up_per_day(whitepaper: CaptureForm) -> None:
    analytics.count(form_id=whitepaper.pk, counter="views", day=date(2026, 3, 1))
    analytics.count(form_id=whitepaper.pk, counter="views", day=date(2026, 3, 1))
    analytics.count(form_id=whitepaper.pk, counter="starts", day=date(2026, 3, 2))

    rows = FormDailyStat.objects.filter(form=whitepaper).order_by("day").values_list("day", "views", "starts")
    assert list(rows) == [(date(2026, 3, 1), 2, 0), (date(2026, 3, 2), 0, 1)]


# --- The funnel ---------------------------------------------------------------------------------------


def test_funnel_counts_conversions_spam_mql_sql_and_downloads(whitepaper: CaptureForm) -> None:
    for _ in range(10):
        analytics.count(form_id=whitepaper.pk, counter="views", day=TODAY)
    mql, sql, new = LeadFactory(stage=Stage.MQL), LeadFactory(stage=Stage.SQL), LeadFactory(stage=Stage.NEW)
    for lead in (mql, sql, new):
        SubmissionFactory(form=whitepaper, lead=lead, submitted_at=FIXED_NOW)
    SubmissionFactory(form=whitepaper, status=SubmissionStatus.SPAM, spam_reason="honeypot",
                      submitted_at=FIXED_NOW)  # fmt: skip
    SubmissionFactory(form=whitepaper, lead=new, released_at=FIXED_NOW, submitted_at=FIXED_NOW)
    ActivityFactory(
        lead=mql, kind=ActivityKind.ASSET_DOWNLOADED, occurred_at=FIXED_NOW, metadata={"form": "state-of-b2b"}
    )
    SubmissionFactory(form=whitepaper, lead=LeadFactory(stage=Stage.MQL), submitted_at=FIXED_NOW - timedelta(days=30))

    funnel = analytics.form_funnels(forms=[whitepaper], period=PERIOD)[0]

    numbers = (funnel.views, funnel.submissions, funnel.spam_held, funnel.spam_released, funnel.leads, funnel.mqls,
               funnel.sqls, funnel.downloads)  # fmt: skip
    assert numbers == (10, 5, 1, 1, 3, 2, 1, 1)
    assert (funnel.conversion_rate, funnel.mql_rate, funnel.sql_rate) == (40.0, 66.7, 33.3)


def test_a_lead_that_once_reached_mql_counts_as_mql(whitepaper: CaptureForm) -> None:
    lead = LeadFactory(stage=Stage.REJECTED)
    lead.stage_changes.create(from_stage=Stage.NEW, to_stage=Stage.MQL, changed_at=FIXED_NOW)
    SubmissionFactory(form=whitepaper, lead=lead, submitted_at=FIXED_NOW)

    funnel = analytics.form_funnels(forms=[whitepaper], period=PERIOD)[0]

    assert (funnel.leads, funnel.mqls, funnel.sqls) == (1, 1, 0)


def test_rates_without_a_base_are_none(whitepaper: CaptureForm) -> None:
    funnel = analytics.form_funnels(forms=[whitepaper], period=PERIOD)[0]

    assert (funnel.conversion_rate, funnel.mql_rate) == (None, None)


# --- The pages ----------------------------------------------------------------------------------------------


def test_comparison_page_lists_every_form_with_its_numbers(whitepaper: CaptureForm, marketer: object) -> None:
    analytics.count(form_id=whitepaper.pk, counter="views", day=TODAY)

    response = client_for(marketer).get(reverse("admin:leads_captureform_analytics"))

    assert response.status_code == 200
    assert [funnel.views for funnel in response.context["funnels"]] == [1]
    assert response.context["chart"]["labels"] == [whitepaper.name]


def test_comparison_page_filters_by_date(whitepaper: CaptureForm, marketer: object) -> None:
    analytics.count(form_id=whitepaper.pk, counter="views", day=TODAY - timedelta(days=10))

    response = client_for(marketer).get(
        reverse("admin:leads_captureform_analytics"), {"created_after": TODAY.isoformat()}
    )

    assert [funnel.views for funnel in response.context["funnels"]] == [0]


def test_a_reversed_date_range_is_a_form_error(whitepaper: CaptureForm, marketer: object) -> None:
    response = client_for(marketer).get(
        reverse("admin:leads_captureform_analytics"), {"created_after": "2026-03-02", "created_before": "2026-03-01"}
    )

    assert response.status_code == 400
    assert "The start date is after the end date." in response.content.decode()


INVALID_RANGES = [
    ({"created_after": "2026-03-02", "created_before": "2026-03-01"}, "The start date is after the end date."),
    ({"created_after": "2026-02-30"}, "Enter a valid date."),
]


@pytest.mark.parametrize("page", ["comparison", "form"])
@pytest.mark.parametrize(("dates", "message"), INVALID_RANGES)
def test_dates_that_do_not_validate_show_their_error_and_no_figures(
    whitepaper: CaptureForm, marketer: object, page: str, dates: dict[str, str], message: str
) -> None:
    analytics.count(form_id=whitepaper.pk, counter="views", day=TODAY)
    url = (
        reverse("admin:leads_captureform_analytics")
        if page == "comparison"
        else reverse("admin:leads_captureform_form_analytics", args=[whitepaper.pk])
    )

    response = client_for(marketer).get(url, dates)

    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    assert "funnels" not in response.context and "funnel" not in response.context and "chart" not in response.context
    assert 'data-testid="form-analytics"' not in html and 'data-testid="form-funnel"' not in html
    assert "No figures for these dates: correct the error above to see them." in html


@pytest.mark.parametrize("dates", [{"created_before": "9999-12-31"}, {"created_after": "0001-01-01"}])
def test_a_date_beyond_the_years_a_report_counts_is_a_form_error(
    whitepaper: CaptureForm, marketer: object, dates: dict[str, str]
) -> None:
    response = client_for(marketer).get(reverse("admin:leads_captureform_analytics"), dates)

    assert response.status_code == 400
    assert "Pick dates between the years 1900 and 9998." in response.content.decode()


def test_dates_that_do_not_validate_stay_as_they_were_typed(whitepaper: CaptureForm, marketer: object) -> None:
    response = client_for(marketer).get(
        reverse("admin:leads_captureform_analytics"), {"created_after": "2026-03-02", "created_before": "2026-03-01"}
    )

    html = response.content.decode()
    assert 'value="2026-03-02"' in html and 'value="2026-03-01"' in html


def test_form_page_shows_the_daily_series(whitepaper: CaptureForm, marketer: object) -> None:
    analytics.count(form_id=whitepaper.pk, counter="views", day=TODAY)

    response = client_for(marketer).get(reverse("admin:leads_captureform_form_analytics", args=[whitepaper.pk]))

    assert (response.context["chart"]["labels"][-1], response.context["chart"]["views"][-1]) == (TODAY.isoformat(), 1)


def test_managers_cannot_open_form_analytics(whitepaper: CaptureForm, manager: object) -> None:
    response = client_for(manager).get(reverse("admin:leads_captureform_analytics"))

    assert response.status_code == 403
