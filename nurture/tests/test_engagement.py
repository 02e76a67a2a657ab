"""What recipients do: clicks feed the score (and may bring the lead to sales); unsubscribes and bounces stop it."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from integrations.privacy import erase_lead
from leads.models import Activity, ActivityKind, Lead, Stage
from leads.tests.factories import FIXED_NOW, ConsentFactory, LeadFactory
from nurture import links, sending, services, tasks
from nurture import signing as report_signing
from nurture.models import Enrollment, EnrollmentStatus, ExitReason, Send
from nurture.tests.conftest import SmtpSink
from nurture.tests.factories import EnrollmentFactory, StepFactory, TrackFactory
from scoring.models import Dimension
from scoring.tests.factories import ScoringModelFactory, ScoringRuleFactory

pytestmark = pytest.mark.django_db
REPORT_URL = "https://www.example.com/report"
BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"
)


@pytest.fixture
def sent(smtp_sink: SmtpSink) -> Send:
    """A lead in a two-step track that has been sent the first step."""
    lead = LeadFactory(email="ada@acme.example")
    ConsentFactory(lead=lead)
    track = TrackFactory()
    StepFactory(track=track, position=1)
    StepFactory(track=track, position=2, delay_days=1, subject="Second")
    EnrollmentFactory(lead=lead, track=track)
    sending.send_due_steps(now=FIXED_NOW)
    return Send.objects.get()


@pytest.fixture
def clicks_score() -> None:
    """The active model: 40 fit points for everyone, 30 per nurture click; an MQL at 60."""
    model = ScoringModelFactory(mql_threshold=60, nurture_threshold=20)
    ScoringRuleFactory(scoring_model=model, params={"field": "country", "values": ["GB"]}, points=40)
    ScoringRuleFactory(
        scoring_model=model,
        kind="activity",
        dimension=Dimension.ENGAGEMENT,
        points=30,
        params={"activity_kind": ActivityKind.EMAIL_CLICKED.value, "within_days": 30},
    )


def test_a_click_redirects_where_the_email_pointed_and_records_the_activity(sent: Send, client: Client) -> None:
    url = links.click_url(send_id=sent.pk, url=REPORT_URL)

    with time_machine.travel(FIXED_NOW + timedelta(hours=1), tick=False):
        response = client.get(url, HTTP_USER_AGENT=BROWSER)
    services.count_clicks(now=FIXED_NOW + timedelta(hours=1, minutes=1))

    assert response.status_code == 302
    assert response["Location"] == REPORT_URL
    activity = Activity.objects.get(kind=ActivityKind.EMAIL_CLICKED)
    assert activity.lead_id == sent.lead_id
    assert {k: activity.metadata[k] for k in ("track", "step", "url")} == {
        "track": sent.track.key,
        "step": 1,
        "url": REPORT_URL,
    }


def test_the_same_link_clicked_twice_is_one_activity(sent: Send, client: Client) -> None:
    url = links.click_url(send_id=sent.pk, url=REPORT_URL)

    for minutes in (60, 90):
        with time_machine.travel(FIXED_NOW + timedelta(minutes=minutes), tick=False):
            client.get(url, HTTP_USER_AGENT=BROWSER)
    services.count_clicks(now=FIXED_NOW + timedelta(hours=2))

    sent.refresh_from_db()
    assert sent.click_count == 2
    assert Activity.objects.filter(kind=ActivityKind.EMAIL_CLICKED).count() == 1


def test_a_forged_click_link_is_a_404_and_records_nothing(sent: Send, client: Client) -> None:
    token = links.click_url(send_id=sent.pk, url=REPORT_URL).rstrip("/").rsplit("/", 1)[1]
    forged = reverse("nurture:click", args=[token.replace("report", "evil00")[:-2] + "xx"])

    response = client.get(forged)

    assert response.status_code == 404
    assert not Activity.objects.filter(kind=ActivityKind.EMAIL_CLICKED).exists()


def test_a_click_that_crosses_the_mql_threshold_ends_the_enrollment_and_routes_the_lead(
    sent: Send, clicks_score: None, client: Client, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    url = links.click_url(send_id=sent.pk, url=REPORT_URL)

    with time_machine.travel(FIXED_NOW + timedelta(hours=1), tick=False):
        client.get(url, HTTP_USER_AGENT=BROWSER)
    with (
        time_machine.travel(FIXED_NOW + timedelta(hours=1, minutes=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tasks.count_clicks()  # the minute's run: the click is scored and the pipeline runs

    lead = Lead.objects.get(pk=sent.lead_id)
    enrollment = Enrollment.objects.get()
    assert (lead.stage, lead.score) == (Stage.MQL, 70)
    assert (enrollment.status, enrollment.exit_reason) == (EnrollmentStatus.EXITED, ExitReason.MQL)
    assert lead.routed_at is not None


def test_the_one_click_unsubscribe_withdraws_consent_and_stops_every_later_step(
    sent: Send, smtp_sink: SmtpSink, client: Client
) -> None:
    url = links.unsubscribe_url(send_id=sent.pk)

    response = client.post(url, {"List-Unsubscribe": "One-Click"})  # what a mailbox provider posts

    assert response.status_code == 200
    lead = Lead.objects.get(pk=sent.lead_id)
    assert not lead.has_usable_consent
    assert Enrollment.objects.get().exit_reason == ExitReason.UNSUBSCRIBED
    assert sending.send_due_steps(now=FIXED_NOW + timedelta(days=7)).sent == 0
    assert len(smtp_sink.messages) == 1


def test_opening_the_unsubscribe_link_changes_nothing_until_the_button_is_pressed(sent: Send, client: Client) -> None:
    response = client.get(links.unsubscribe_url(send_id=sent.pk))

    assert response.status_code == 200
    assert b"Unsubscribe</button>" in response.content
    assert Enrollment.objects.get().status == EnrollmentStatus.ACTIVE


def _post_report(client: Client, payload: dict[str, Any], *, secret: str = "s3cret") -> Any:
    body = json.dumps(payload).encode()
    signature = report_signing.sign(secret, body, at=FIXED_NOW)
    with time_machine.travel(FIXED_NOW, tick=False):
        return client.post(
            reverse("nurture:bounces"), body, content_type="application/json", HTTP_X_LEADSITE_SIGNATURE=signature
        )


def test_a_signed_hard_bounce_ends_the_enrollment(sent: Send, client: Client, settings: Any) -> None:
    settings.NURTURE_BOUNCE_SECRET = "s3cret"

    response = _post_report(client, {"type": "bounce", "bounce_type": "hard", "message_id": sent.message_id})

    sent.refresh_from_db()
    assert response.status_code == 200 and response.json() == {"matched": True}
    assert sent.bounced_at == FIXED_NOW
    assert Enrollment.objects.get().exit_reason == ExitReason.BOUNCE


def test_a_bounce_after_the_person_was_erased_records_no_text_naming_them(sent: Send, marketer: Any) -> None:
    erase_lead(lead=sent.lead, now=FIXED_NOW, by=marketer, reason="Erasure request, ticket 12")
    detail = "550 5.1.1 <ada@acme.example>: Recipient address rejected"

    services.record_bounce(
        message_id=sent.message_id, email="", is_complaint=False, is_hard=True, now=FIXED_NOW, detail=detail
    )

    sent.refresh_from_db()
    assert (sent.bounced_at, sent.error) == (FIXED_NOW, "")


def test_a_soft_bounce_is_recorded_but_keeps_the_enrollment(sent: Send, client: Client, settings: Any) -> None:
    settings.NURTURE_BOUNCE_SECRET = "s3cret"

    _post_report(client, {"type": "bounce", "bounce_type": "soft", "email": "ADA@acme.example"})

    sent.refresh_from_db()
    assert sent.bounced_at == FIXED_NOW
    assert Enrollment.objects.get().status == EnrollmentStatus.ACTIVE


def test_a_complaint_withdraws_consent_and_ends_the_enrollment(sent: Send, client: Client, settings: Any) -> None:
    settings.NURTURE_BOUNCE_SECRET = "s3cret"

    _post_report(client, {"type": "complaint", "message_id": sent.message_id})

    assert Enrollment.objects.get().exit_reason == ExitReason.COMPLAINT
    assert not Lead.objects.get(pk=sent.lead_id).has_usable_consent


def test_a_report_with_a_wrong_signature_is_refused(sent: Send, client: Client, settings: Any) -> None:
    settings.NURTURE_BOUNCE_SECRET = "s3cret"

    response = _post_report(client, {"type": "bounce", "message_id": sent.message_id}, secret="guess")

    assert response.status_code == 403
    assert Enrollment.objects.get().status == EnrollmentStatus.ACTIVE


def test_a_report_whose_signature_is_not_ascii_is_refused(sent: Send, client: Client, settings: Any) -> None:
    settings.NURTURE_BOUNCE_SECRET = "s3cret"
    body = json.dumps({"type": "bounce", "message_id": sent.message_id}).encode()

    with time_machine.travel(FIXED_NOW, tick=False):
        response = client.post(
            reverse("nurture:bounces"), body, content_type="application/json",
            HTTP_X_LEADSITE_SIGNATURE=f"t={int(FIXED_NOW.timestamp())},v1=é",
        )  # fmt: skip

    assert response.status_code == 403


def test_an_invalid_report_is_a_400_naming_the_fields(sent: Send, client: Client, settings: Any) -> None:
    settings.NURTURE_BOUNCE_SECRET = "s3cret"

    response = _post_report(client, {"type": "bounced"})

    assert response.status_code == 400
    assert set(response.json()) == {"type"}
