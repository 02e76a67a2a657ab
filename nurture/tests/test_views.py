"""The track report, the admin preview and test email, the lead page partial and the API."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.template import Context, Template
from django.urls import reverse

from leads.models import Lead, Stage
from leads.tests.factories import FIXED_NOW, ConsentFactory, LeadFactory
from nurture import sending
from nurture.models import Send
from nurture.tests.conftest import SmtpSink
from nurture.tests.factories import EnrollmentFactory, StepFactory, TrackFactory
from tests.personas import client_for

pytestmark = pytest.mark.django_db
REPORT = reverse("nurture:report")


@pytest.fixture
def sent(smtp_sink: SmtpSink) -> Send:
    lead = LeadFactory(first_name="Ada")
    ConsentFactory(lead=lead)
    track = TrackFactory(key="startup", name="Start-up nurture")
    StepFactory(track=track, position=1, subject="Welcome {{ first_name }}")
    EnrollmentFactory(lead=lead, track=track)
    sending.send_due_steps(now=FIXED_NOW)
    return Send.objects.get()


def test_the_report_counts_sends_clicks_and_later_mqls_per_step(sent: Send, marketer: Any) -> None:
    Send.objects.filter(pk=sent.pk).update(first_clicked_at=FIXED_NOW, click_count=1)
    from leads import services as lead_services

    lead_services.change_stage(lead=sent.lead, to_stage=Stage.MQL, now=FIXED_NOW)

    response = client_for(marketer).get(REPORT, {"range": "all"})

    assert response.status_code == 200
    [row] = response.context["rows"]
    [step] = row.steps
    assert (row.enrolled, step.sent, step.clicked, step.became_mql, step.became_sql) == (1, 1, 1, 1, 0)


def test_the_report_filters_on_the_leads_creation_date_like_the_reports_page(sent: Send, manager: Any) -> None:
    response = client_for(manager).get(REPORT, {"created_after": "2026-03-03"})

    [row] = response.context["rows"]
    assert (row.enrolled, row.steps) == (0, [])


def test_the_report_shows_a_form_error_for_reversed_dates(manager: Any) -> None:
    response = client_for(manager).get(REPORT, {"created_after": "2026-03-03", "created_before": "2026-03-01"})

    assert response.status_code == 400
    assert b"The end date is before the start date." in response.content


INVALID_FILTERS = (
    {"created_after": "2026-03-03", "created_before": "2026-03-01"},
    {"created_after": "2026-02-30"},
    {"created_before": "yesterday"},
)


@pytest.mark.parametrize("params", INVALID_FILTERS)
def test_a_filter_that_does_not_validate_shows_its_error_and_no_figures(manager: Any, params: dict[str, str]) -> None:
    EnrollmentFactory(track=TrackFactory(name="Start-up nurture"))

    response = client_for(manager).get(REPORT, params)

    page = response.content.decode()
    assert response.status_code == 400
    assert 'data-testid="filter-errors"' in page
    assert "rows" not in response.context
    assert "Start-up nurture" not in page and 'id="data-nurture"' not in page
    assert "No figures for these filters: correct the error above to see the report." in page


@pytest.mark.parametrize("zone", ["UTC", "Asia/Tokyo"])
@pytest.mark.parametrize("dates", [{"created_before": "9999-12-31"}, {"created_after": "0001-01-01"}])
def test_a_date_beyond_the_years_a_report_counts_is_a_form_error(
    manager: Any, settings: Any, zone: str, dates: dict[str, str]
) -> None:
    settings.TIME_ZONE = zone

    response = client_for(manager).get(REPORT, dates)

    assert response.status_code == 400
    assert "Pick dates between the years 1900 and 9998." in response.content.decode()


def test_a_filter_that_does_not_validate_keeps_what_was_entered(manager: Any) -> None:
    response = client_for(manager).get(REPORT, {"created_after": "2026-03-03", "created_before": "2026-03-01"})

    page = response.content.decode()
    assert 'value="2026-03-03"' in page and 'value="2026-03-01"' in page


def test_a_rep_may_not_see_the_report(rep: Any) -> None:
    assert client_for(rep).get(REPORT).status_code == 403


def test_an_anonymous_visitor_is_sent_to_sign_in(client: Any) -> None:
    response = client.get(REPORT)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_report_refuses_post(manager: Any) -> None:
    assert client_for(manager).post(REPORT).status_code == 405


def _preview_url(track_id: int) -> str:
    return reverse("admin:nurture_track_preview", args=[track_id])


def test_the_preview_shows_each_step_with_a_real_leads_data_escaped(marketer: Any) -> None:
    step = StepFactory(subject="Hi {{ first_name }}")
    lead = LeadFactory(first_name="<i>Ada</i>", email="ada@acme.example")

    response = client_for(marketer).get(_preview_url(step.track_id), {"lead": "ada@acme.example"})

    assert response.status_code == 200
    assert response.context["lead"] == lead
    assert b"<strong>&lt;i&gt;Ada&lt;/i&gt;</strong>" in response.content


def test_the_preview_names_a_lead_it_cannot_find(marketer: Any) -> None:
    step = StepFactory()

    response = client_for(marketer).get(_preview_url(step.track_id), {"lead": "nobody@example.com"})

    assert b"No lead with id or email" in response.content


def test_send_a_test_to_me_emails_the_marketer_with_the_unsubscribe_headers(marketer: Any) -> None:
    step = StepFactory(subject="Hi {{ first_name }}")
    lead = LeadFactory(first_name="Ada")

    response = client_for(marketer).post(_preview_url(step.track_id), {"lead": lead.pk, "step": step.pk})

    assert response.status_code == 302
    [message] = mail.outbox
    assert (message.to, message.subject) == ([marketer.email], "[Test] Hi Ada")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert not Send.objects.exists()


def test_a_manager_may_preview_but_not_send_a_test(manager: Any) -> None:
    step = StepFactory()

    assert client_for(manager).get(_preview_url(step.track_id)).status_code == 200
    assert client_for(manager).post(_preview_url(step.track_id), {"step": step.pk}).status_code == 403
    assert mail.outbox == []


def test_the_lead_page_partial_lists_the_enrollment_and_its_emails(sent: Send) -> None:
    html = Template("{% load nurture %}{% nurture_history lead %}").render(Context({"lead": sent.lead}))

    assert "Start-up nurture" in html
    assert "Welcome Ada" in html


def test_the_api_lists_a_leads_enrollments_with_their_sends(sent: Send, marketer: Any) -> None:
    response = client_for(marketer).get(f"/api/nurture/leads/{sent.lead_id}/")

    assert response.status_code == 200
    [enrollment] = response.json()
    assert enrollment["track"] == "startup"
    assert [s["subject"] for s in enrollment["sends"]] == ["Welcome Ada"]


def test_the_api_hides_a_lead_a_rep_does_not_own(sent: Send, rep: Any) -> None:
    assert client_for(rep).get(f"/api/nurture/leads/{sent.lead_id}/").status_code == 404


@pytest.mark.parametrize("lead_id", ["9" * 19, "9" * 5_000])
def test_the_api_answers_an_id_too_long_for_any_lead_with_a_404(marketer: Any, lead_id: str) -> None:
    response = client_for(marketer).get(f"/api/nurture/leads/{lead_id}/")

    assert (response.status_code, response.json()) == (404, {"detail": "No lead has this id."})


def test_the_leads_page_timeline_shows_its_enrollment_and_the_emails_it_was_sent(sent: Send, rep: Any) -> None:
    Lead.objects.filter(pk=sent.lead_id).update(owner=rep)  # warmed up and handed to sales since

    page = client_for(rep).get(reverse("handoff:lead", args=[sent.lead_id])).content.decode()

    assert f"Enrolled in nurture track “{sent.track.name}”" in page
    assert f"Nurture email “{sent.subject}”" in page
