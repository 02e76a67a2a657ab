"""Clicks on nurture links: a person's is scored once the burst window has passed; a mail scanner's never is, and
every request is still redirected."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from integrations import privacy
from leads.models import Activity, ActivityKind
from leads.tests.factories import FIXED_NOW, ConsentFactory, LeadFactory
from nurture import links, selectors, sending, services, tasks
from nurture.apps import NurtureConfig
from nurture.models import Click, ClickBotReason, Send
from nurture.tests.conftest import SmtpSink
from nurture.tests.factories import EnrollmentFactory, StepFactory, TrackFactory
from tests.personas import client_for

pytestmark = pytest.mark.django_db
REPORT_URL = "https://www.example.com/report"
PRICING_URL = "https://www.example.com/pricing"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
AN_HOUR_LATER = FIXED_NOW + timedelta(hours=1)


@pytest.fixture
def sent(smtp_sink: SmtpSink) -> Send:
    """A lead sent the first step of a track at FIXED_NOW."""
    lead = LeadFactory(email="ada@acme.example")
    ConsentFactory(lead=lead)
    track = TrackFactory()
    StepFactory(track=track, position=1)
    EnrollmentFactory(lead=lead, track=track)
    sending.send_due_steps(now=FIXED_NOW)
    return Send.objects.get()


def open_link(send: Send, *, at: datetime, url: str = REPORT_URL, user_agent: str = CHROME, method: str = "get") -> Any:
    with time_machine.travel(at, tick=False):
        request: Callable[..., Any] = getattr(Client(), method)
        return request(links.click_url(send_id=send.pk, url=url), HTTP_USER_AGENT=user_agent)


def scored_clicks() -> int:
    return Activity.objects.filter(kind=ActivityKind.EMAIL_CLICKED).count()


def test_a_persons_click_is_redirected_and_scored_once_the_burst_window_has_passed(sent: Send) -> None:
    response = open_link(sent, at=AN_HOUR_LATER)

    counted = services.count_clicks(now=AN_HOUR_LATER + timedelta(seconds=3))

    assert (response.status_code, response["Location"]) == (302, REPORT_URL)
    assert counted == 1
    activity = Activity.objects.get(kind=ActivityKind.EMAIL_CLICKED)
    assert (activity.lead_id, activity.occurred_at, activity.metadata["url"]) == (
        sent.lead_id,
        AN_HOUR_LATER,
        REPORT_URL,
    )
    sent.refresh_from_db()
    assert (sent.click_count, sent.first_clicked_at) == (1, AN_HOUR_LATER)


def test_a_click_waits_for_the_burst_window_before_it_is_scored(sent: Send) -> None:
    open_link(sent, at=AN_HOUR_LATER)

    counted = services.count_clicks(now=AN_HOUR_LATER + timedelta(seconds=1))

    assert counted == 0 and scored_clicks() == 0
    assert Click.objects.get().counted_at is None


@pytest.mark.parametrize(
    "user_agent", ["Barracuda Sentinel (EE)", "Mimecast", "Mozilla/5.0 (compatible; Proofpoint URL Defense)", ""]
)
def test_a_mail_scanners_request_is_redirected_but_never_scored(sent: Send, user_agent: str) -> None:
    response = open_link(sent, at=AN_HOUR_LATER, user_agent=user_agent)

    services.count_clicks(now=AN_HOUR_LATER + timedelta(minutes=5))

    assert (response.status_code, response["Location"]) == (302, REPORT_URL)
    click = Click.objects.get()
    assert (click.is_bot, click.bot_reason, click.counted_at) == (True, ClickBotReason.USER_AGENT, None)
    assert scored_clicks() == 0
    sent.refresh_from_db()
    assert (sent.click_count, sent.first_clicked_at) == (0, None)


def test_a_head_request_is_redirected_but_never_scored(sent: Send) -> None:
    response = open_link(sent, at=AN_HOUR_LATER, method="head")

    services.count_clicks(now=AN_HOUR_LATER + timedelta(minutes=5))

    assert (response.status_code, response["Location"]) == (302, REPORT_URL)
    assert Click.objects.get().bot_reason == ClickBotReason.HEAD
    assert scored_clicks() == 0


def test_a_click_within_the_minimum_delay_after_the_send_is_a_suspected_scanner(sent: Send) -> None:
    response = open_link(sent, at=FIXED_NOW + timedelta(seconds=60))

    services.count_clicks(now=FIXED_NOW + timedelta(minutes=5))

    assert response.status_code == 302
    assert Click.objects.get().bot_reason == ClickBotReason.TOO_SOON
    assert scored_clicks() == 0


def test_the_minimum_delay_after_the_send_is_a_setting(sent: Send, settings: Any) -> None:
    settings.NURTURE_CLICK_MIN_DELAY_SECONDS = 10
    open_link(sent, at=FIXED_NOW + timedelta(seconds=30))

    services.count_clicks(now=FIXED_NOW + timedelta(minutes=5))

    assert Click.objects.get().is_bot is False
    assert scored_clicks() == 1


def test_several_links_of_one_email_opened_within_the_burst_window_are_all_suspected_scanners(sent: Send) -> None:
    open_link(sent, at=AN_HOUR_LATER, url=REPORT_URL)
    open_link(sent, at=AN_HOUR_LATER + timedelta(milliseconds=400), url=PRICING_URL)

    services.count_clicks(now=AN_HOUR_LATER + timedelta(minutes=5))

    assert list(Click.objects.values_list("is_bot", "bot_reason")) == [(True, ClickBotReason.BURST)] * 2
    assert scored_clicks() == 0


def test_the_burst_window_is_a_setting(sent: Send, settings: Any) -> None:
    settings.NURTURE_CLICK_BURST_SECONDS = 10
    open_link(sent, at=AN_HOUR_LATER, url=REPORT_URL)
    open_link(sent, at=AN_HOUR_LATER + timedelta(seconds=5), url=PRICING_URL)

    services.count_clicks(now=AN_HOUR_LATER + timedelta(minutes=5))

    assert set(Click.objects.values_list("bot_reason", flat=True)) == {ClickBotReason.BURST}
    assert scored_clicks() == 0


def test_two_links_opened_further_apart_than_the_burst_window_are_both_scored(sent: Send) -> None:
    open_link(sent, at=AN_HOUR_LATER, url=REPORT_URL)
    open_link(sent, at=AN_HOUR_LATER + timedelta(seconds=30), url=PRICING_URL)

    services.count_clicks(now=AN_HOUR_LATER + timedelta(minutes=5))

    assert not Click.objects.filter(is_bot=True).exists()
    assert scored_clicks() == 2


def test_the_same_link_opened_twice_at_once_is_a_person_scored_once(sent: Send) -> None:
    open_link(sent, at=AN_HOUR_LATER)
    open_link(sent, at=AN_HOUR_LATER + timedelta(milliseconds=300))

    services.count_clicks(now=AN_HOUR_LATER + timedelta(minutes=5))

    sent.refresh_from_db()
    assert sent.click_count == 2
    assert scored_clicks() == 1


def test_a_second_run_counts_no_click_twice(sent: Send) -> None:
    open_link(sent, at=AN_HOUR_LATER)
    later = AN_HOUR_LATER + timedelta(minutes=1)

    first, second = services.count_clicks(now=later), services.count_clicks(now=later + timedelta(minutes=1))

    sent.refresh_from_db()
    assert (first, second, sent.click_count) == (1, 0, 1)


def test_a_click_on_a_test_emails_link_keeps_nothing_and_still_redirects(sent: Send) -> None:
    with time_machine.travel(AN_HOUR_LATER, tick=False):
        response = Client().get(links.click_url(send_id=links.TEST_SEND, url=REPORT_URL), HTTP_USER_AGENT=CHROME)

    assert (response.status_code, response["Location"]) == (302, REPORT_URL)
    assert not Click.objects.exists()


def test_the_clicks_are_counted_every_minute() -> None:
    assert NurtureConfig.periodic_tasks["nurture.tasks.count_clicks"] == 1
    assert tasks.count_clicks() == 0


def test_the_report_counts_a_persons_clicks_and_emails_only_scanners_opened_apart(sent: Send) -> None:
    lead = LeadFactory(email="grace@acme.example")
    ConsentFactory(lead=lead)
    EnrollmentFactory(lead=lead, track=sent.track)
    sending.send_due_steps(now=FIXED_NOW)
    scanned = Send.objects.get(lead=lead)
    open_link(sent, at=AN_HOUR_LATER, user_agent="Mimecast")  # the scanner, then the person
    open_link(sent, at=AN_HOUR_LATER + timedelta(minutes=3))
    open_link(scanned, at=FIXED_NOW + timedelta(seconds=20))
    services.count_clicks(now=AN_HOUR_LATER + timedelta(minutes=5))

    [row] = selectors.track_report(created_from=None, created_to=None)

    [step] = row.steps
    assert (step.sent, step.clicked, step.scanned) == (2, 1, 1)


def test_the_report_page_shows_the_emails_only_scanners_opened(sent: Send, marketer: Any) -> None:
    open_link(sent, at=FIXED_NOW + timedelta(seconds=20))

    html = client_for(marketer).get(reverse("nurture:report"), {"range": "all"}).content.decode()

    assert '<td class="text-end" data-measure="clicked">0' in html
    assert '<td class="text-end" data-measure="scanned">1</td>' in html


def test_the_send_in_admin_lists_its_clicks_with_the_reason_to_whoever_may_read_sends(
    sent: Send, marketer: Any
) -> None:
    open_link(sent, at=AN_HOUR_LATER, user_agent="Mimecast")

    response = client_for(marketer).get(reverse("admin:nurture_send_change", args=[sent.pk]))

    assert response.status_code == 200
    assert "Scanner, crawler or no browser" in response.content.decode()


def test_erasure_blanks_the_clicks_user_agent_and_the_export_lists_the_clicks(sent: Send) -> None:
    open_link(sent, at=AN_HOUR_LATER)

    exported = privacy.export_lead_data(lead=sent.lead)
    privacy.erase_lead(lead=sent.lead, now=AN_HOUR_LATER, by=None, reason="Request by email")

    assert [(row["url"], row["user_agent"]) for row in exported["nurture_clicks"]] == [(REPORT_URL, CHROME)]
    assert Click.objects.get().user_agent == ""


def test_a_click_on_an_erased_leads_email_keeps_no_user_agent(sent: Send) -> None:
    privacy.erase_lead(lead=sent.lead, now=AN_HOUR_LATER, by=None, reason="Request by email")

    response = open_link(sent, at=AN_HOUR_LATER + timedelta(hours=1))

    assert response.status_code == 302
    assert Click.objects.get().user_agent == ""
