"""The worker against a real SMTP server (aiosmtpd in the test): what is sent, once, to whom, and when."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from leads.models import ConsentStatus, Stage
from leads.tests.factories import FIXED_NOW, ConsentFactory, LeadFactory
from nurture import links, sending, services
from nurture.models import Enrollment, EnrollmentStatus, ExitReason, Send, SendStatus, Track
from nurture.tests.conftest import SmtpSink, free_port
from nurture.tests.factories import EnrollmentFactory, StepFactory, TrackFactory

pytestmark = pytest.mark.django_db

# FIXED_NOW is Monday 2 March 2026, 10:00 UTC: 10:00 in London, inside the default 9-17 window.


def _enrolled(**lead_fields: object) -> Enrollment:
    lead = LeadFactory(**lead_fields)
    ConsentFactory(lead=lead)
    step = StepFactory()
    return EnrollmentFactory(lead=lead, track=step.track)


def _bodies(message: object) -> tuple[str, str]:
    html = message.get_body(("html",)).get_content()  # type: ignore[attr-defined]
    text = message.get_body(("plain",)).get_content()  # type: ignore[attr-defined]
    return html, text


def test_a_due_step_is_delivered_with_both_bodies_and_merge_fields_escaped(smtp_sink: SmtpSink) -> None:
    _enrolled(first_name="<b>Ada</b>", company_name="Acme & Co", email="ada@acme.example")

    result = sending.send_due_steps(now=FIXED_NOW)

    assert result.sent == 1
    [message] = smtp_sink.messages
    html, text = _bodies(message)
    assert message["To"] == "ada@acme.example"
    assert message["Subject"] == "Hello <b>Ada</b>"
    assert "Hi <strong>&lt;b&gt;Ada&lt;/b&gt;</strong> at Acme &amp; Co." in html
    assert "Hi **<b>Ada</b>** at Acme & Co." in text


def test_every_email_carries_the_one_click_unsubscribe_headers(smtp_sink: SmtpSink) -> None:
    _enrolled()

    sending.send_due_steps(now=FIXED_NOW)

    [message] = smtp_sink.messages
    send = Send.objects.get()
    # A long header is folded; its value is the same once unfolded.
    assert message["List-Unsubscribe"].strip() == f"<{links.unsubscribe_url(send_id=send.pk)}>"
    assert message["List-Unsubscribe"].strip().startswith("<https://leads.example.com/n/u/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert links.unsubscribe_url(send_id=send.pk) in _bodies(message)[1]


def test_links_are_rewritten_to_signed_click_links(smtp_sink: SmtpSink) -> None:
    _enrolled()

    sending.send_due_steps(now=FIXED_NOW)

    html, text = _bodies(smtp_sink.messages[0])
    click = links.click_url(send_id=Send.objects.get().pk, url="https://www.example.com/report")
    assert f'href="{click}"' in html
    assert click in text
    assert "https://www.example.com/report" not in html


def test_a_retry_of_the_worker_sends_nothing_twice(smtp_sink: SmtpSink) -> None:
    enrollment = _enrolled()
    StepFactory(track=enrollment.track, delay_days=2)

    sending.send_due_steps(now=FIXED_NOW)
    again = sending.send_due_steps(now=FIXED_NOW)

    assert again.sent == 0
    assert len(smtp_sink.messages) == 1
    assert Send.objects.count() == 1


def test_a_next_step_due_at_once_waits_for_the_next_run_so_it_never_overtakes_the_step_before(
    smtp_sink: SmtpSink,
) -> None:
    enrollment = _enrolled()
    StepFactory(track=enrollment.track, delay_days=0, subject="The second")

    first = sending.send_due_steps(now=FIXED_NOW)
    second = sending.send_due_steps(now=FIXED_NOW + timedelta(minutes=1))

    assert (first.sent, second.sent) == (1, 1)
    assert [message["Subject"] for message in smtp_sink.messages][1] == "The second"


def test_the_send_row_stops_a_second_send_of_the_same_step_even_if_the_enrollment_was_rewound(
    smtp_sink: SmtpSink,
) -> None:
    enrollment = _enrolled()
    sending.send_due_steps(now=FIXED_NOW)
    Enrollment.objects.filter(pk=enrollment.pk).update(
        status=EnrollmentStatus.ACTIVE, last_position=0, next_due_at=FIXED_NOW
    )

    with pytest.raises(IntegrityError):
        sending.send_due_steps(now=FIXED_NOW + timedelta(minutes=1))  # a later run: this one's sends wait

    assert len(smtp_sink.messages) == 1


def test_the_next_step_waits_its_business_days_then_goes_out(smtp_sink: SmtpSink) -> None:
    enrollment = _enrolled()
    StepFactory(track=enrollment.track, delay_days=3, subject="Second")

    sending.send_due_steps(now=FIXED_NOW)
    enrollment.refresh_from_db()

    # Monday + 3 business days = Thursday, when the window opens at 9:00 London (GMT in March).
    assert enrollment.next_due_at == datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
    assert sending.send_due_steps(now=datetime(2026, 3, 4, 16, 0, tzinfo=UTC)).sent == 0
    assert sending.send_due_steps(now=datetime(2026, 3, 5, 9, 0, tzinfo=UTC)).sent == 1
    assert [m["Subject"] for m in smtp_sink.messages] == ["Hello Ada", "Second"]


def test_a_lead_without_a_usable_consent_is_never_sent_anything(smtp_sink: SmtpSink) -> None:
    lead = LeadFactory()
    ConsentFactory(lead=lead, status=ConsentStatus.PENDING)
    enrollment = EnrollmentFactory(lead=lead, track=StepFactory().track)

    result = sending.send_due_steps(now=FIXED_NOW)

    enrollment.refresh_from_db()
    assert result.sent == 0
    assert smtp_sink.messages == []
    assert (enrollment.status, enrollment.exit_reason) == (EnrollmentStatus.EXITED, ExitReason.CONSENT)


def test_a_lead_whose_consent_was_withdrawn_is_never_sent_anything(smtp_sink: SmtpSink) -> None:
    lead = LeadFactory()
    ConsentFactory(lead=lead, withdrawn_at=FIXED_NOW - timedelta(days=1))
    EnrollmentFactory(lead=lead, track=StepFactory().track)

    sending.send_due_steps(now=FIXED_NOW)

    assert smtp_sink.messages == []
    assert Send.objects.count() == 0


def test_an_mql_routing_sent_to_the_track_gets_its_emails(smtp_sink: SmtpSink) -> None:
    _enrolled(stage=Stage.MQL, stage_changed_at=FIXED_NOW - timedelta(minutes=5))

    result = sending.send_due_steps(now=FIXED_NOW)

    assert (result.sent, result.exited) == (1, 0)


def test_a_lead_that_became_an_mql_since_it_was_enrolled_leaves_without_a_send(smtp_sink: SmtpSink) -> None:
    enrollment = _enrolled(stage=Stage.MQL, stage_changed_at=FIXED_NOW - timedelta(minutes=5))
    Enrollment.objects.filter(pk=enrollment.pk).update(started_at=FIXED_NOW - timedelta(days=3))

    result = sending.send_due_steps(now=FIXED_NOW)

    enrollment.refresh_from_db()
    assert (result.sent, enrollment.exit_reason) == (0, ExitReason.MQL)
    assert smtp_sink.messages == []


def test_nothing_is_sent_at_night_in_the_leads_time_zone(smtp_sink: SmtpSink) -> None:
    # 10:00 UTC is 05:00 in New York: the US lead waits for 9:00 there (14:00 UTC).
    enrollment = _enrolled(country="US")

    result = sending.send_due_steps(now=FIXED_NOW)

    enrollment.refresh_from_db()
    assert (result.sent, result.postponed) == (0, 1)
    assert enrollment.next_due_at == datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def test_nothing_is_sent_on_a_weekend(smtp_sink: SmtpSink) -> None:
    enrollment = _enrolled()
    saturday = datetime(2026, 3, 7, 11, 0, tzinfo=UTC)

    sending.send_due_steps(now=saturday)

    enrollment.refresh_from_db()
    assert smtp_sink.messages == []
    assert enrollment.next_due_at == datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


def test_sends_to_one_domain_are_throttled_per_hour(smtp_sink: SmtpSink) -> None:
    track = TrackFactory(per_domain_hourly_limit=2)
    StepFactory(track=track)
    for n in range(3):
        lead = LeadFactory(email=f"p{n}@bigcorp.example")
        EnrollmentFactory(lead=lead, track=track)
    other = LeadFactory(email="x@small.example")
    EnrollmentFactory(lead=other, track=track)

    result = sending.send_due_steps(now=FIXED_NOW)

    assert (result.sent, result.postponed) == (3, 1)
    assert sorted(m["To"].rpartition("@")[2] for m in smtp_sink.messages) == [
        "bigcorp.example",
        "bigcorp.example",
        "small.example",
    ]


def test_an_unreachable_server_gives_the_steps_back_to_try_later(settings: object) -> None:
    from nurture.tests.conftest import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"  # type: ignore[attr-defined]
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # type: ignore[attr-defined]
    enrollment = _enrolled()

    result = sending.send_due_steps(now=FIXED_NOW)

    enrollment.refresh_from_db()
    assert (result.sent, result.given_back) == (0, 1)
    assert Send.objects.count() == 0
    assert (enrollment.status, enrollment.last_position) == (EnrollmentStatus.ACTIVE, 0)
    assert enrollment.next_due_at == FIXED_NOW + sending.RETRY_AFTER


def test_a_recipient_the_server_refuses_is_a_hard_bounce_that_ends_the_enrollment(smtp_sink: SmtpSink) -> None:
    enrollment = _enrolled(email="gone@acme.example")
    StepFactory(track=enrollment.track, delay_days=1)
    smtp_sink.refuse.add("gone@acme.example")

    result = sending.send_due_steps(now=FIXED_NOW)

    enrollment.refresh_from_db()
    send = Send.objects.get()
    assert result.failed == 1
    assert send.status == SendStatus.FAILED and send.bounced_at == FIXED_NOW
    assert (enrollment.status, enrollment.exit_reason) == (EnrollmentStatus.EXITED, ExitReason.BOUNCE)


def test_a_paused_track_sends_nothing(smtp_sink: SmtpSink) -> None:
    enrollment = _enrolled()
    enrollment.track.status = "paused"
    enrollment.track.save()

    assert sending.send_due_steps(now=FIXED_NOW).sent == 0
    assert smtp_sink.messages == []


def test_steps_a_lead_is_already_past_are_not_sent_again_after_an_edit(smtp_sink: SmtpSink) -> None:
    track = TrackFactory()
    for position in (1, 2, 3):
        StepFactory(track=track, position=position, subject=f"Step {position}")
    lead = LeadFactory()
    enrollment = EnrollmentFactory(lead=lead, track=track, last_position=2)
    track.steps.filter(position=1).update(subject="Step 1, edited")

    sending.send_due_steps(now=FIXED_NOW)

    enrollment.refresh_from_db()
    assert [m["Subject"] for m in smtp_sink.messages] == ["Step 3"]
    assert enrollment.status == EnrollmentStatus.COMPLETED


def test_an_enrollment_past_its_recycle_date_ends_without_a_send(smtp_sink: SmtpSink) -> None:
    enrollment = _enrolled()
    Enrollment.objects.filter(pk=enrollment.pk).update(until=FIXED_NOW - timedelta(hours=1))

    sending.send_due_steps(now=FIXED_NOW)

    enrollment.refresh_from_db()
    assert smtp_sink.messages == []
    assert enrollment.exit_reason == ExitReason.UNTIL


def test_non_ascii_merge_values_arrive_decoded_in_both_parts_of_a_7bit_clean_email(smtp_sink: SmtpSink) -> None:
    _enrolled(first_name="Zoë", company_name="Müller & Söhne <GmbH>", email="zoe@mueller.example")

    sending.send_due_steps(now=FIXED_NOW)

    [message], [raw] = smtp_sink.messages, smtp_sink.raw
    html, text = _bodies(message)
    assert message["Subject"] == "Hello Zoë"
    assert "Hi <strong>Zoë</strong> at Müller &amp; Söhne &lt;GmbH&gt;." in html
    assert "Hi **Zoë** at Müller & Söhne <GmbH>." in text
    assert raw.isascii()  # every non-ASCII character encoded: no 8BITMIME needed
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert b"\n" not in raw.replace(b"\r\n", b"")


def test_a_body_line_longer_than_smtp_allows_arrives_whole(smtp_sink: SmtpSink) -> None:
    enrollment = _enrolled()
    paragraph = " ".join(["word"] * 400)  # 1,999 characters on one line
    enrollment.track.steps.update(body=paragraph)

    sending.send_due_steps(now=FIXED_NOW)

    html, text = _bodies(smtp_sink.messages[0])
    assert paragraph in text
    assert f"<p>{paragraph}</p>" in html
    assert max(len(line) for line in smtp_sink.raw[0].split(b"\r\n")) <= 998


def test_each_email_carries_its_sends_message_id_and_the_run_time_as_its_date(smtp_sink: SmtpSink) -> None:
    for name in ("Ada", "Grace"):
        _enrolled(first_name=name)

    sending.send_due_steps(now=FIXED_NOW)

    message_ids = {send.subject: send.message_id for send in Send.objects.all()}
    assert len(set(message_ids.values())) == 2
    for message in smtp_sink.messages:
        assert message["Message-ID"] == message_ids[message["Subject"]]
        assert message["Date"].datetime == FIXED_NOW


def test_a_sender_name_with_a_comma_and_accents_is_one_sender(smtp_sink: SmtpSink) -> None:
    enrollment = _enrolled()
    enrollment.track.from_name, enrollment.track.from_email = "Müller & Söhne, Inc", "news@mueller.example"
    enrollment.track.save()

    sending.send_due_steps(now=FIXED_NOW)

    [address] = smtp_sink.messages[0]["From"].addresses
    assert (address.display_name, address.addr_spec) == ("Müller & Söhne, Inc", "news@mueller.example")


def test_batches_follow_each_other_and_every_email_is_sent_once(smtp_sink: SmtpSink) -> None:
    step = StepFactory()
    for n in range(5):
        lead = LeadFactory(email=f"p{n}@acme.example")
        ConsentFactory(lead=lead)
        EnrollmentFactory(lead=lead, track=step.track)

    result = sending.send_due_steps(now=FIXED_NOW, batch_size=2)

    assert result.sent == 5
    assert sorted(m["To"] for m in smtp_sink.messages) == [f"p{n}@acme.example" for n in range(5)]
    assert set(Send.objects.values_list("status", flat=True)) == {SendStatus.SENT}


def test_an_unreachable_server_ends_the_run_and_leaves_the_later_batches_due(settings: object) -> None:
    from nurture.tests.conftest import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"  # type: ignore[attr-defined]
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # type: ignore[attr-defined]
    step = StepFactory()
    for _ in range(5):
        lead = LeadFactory()
        ConsentFactory(lead=lead)
        EnrollmentFactory(lead=lead, track=step.track)

    result = sending.send_due_steps(now=FIXED_NOW, batch_size=1)

    # The batch that found the server gone, and the one recorded while it was being sent, are given back.
    due_at = list(Enrollment.objects.values_list("next_due_at", flat=True))
    assert result.sent == 0 and result.given_back in (1, 2)
    assert Send.objects.count() == 0
    assert due_at.count(FIXED_NOW + sending.RETRY_AFTER) == result.given_back
    assert due_at.count(FIXED_NOW) == 5 - result.given_back


def test_another_email_backend_gets_djangos_message_with_the_same_headers(mailoutbox: list) -> None:
    _enrolled(first_name="Zoë")

    assert sending.send_due_steps(now=FIXED_NOW).sent == 1

    [message] = mailoutbox
    send = Send.objects.get()
    assert (message.subject, message.to) == ("Hello Zoë", [send.to_email])
    assert message.extra_headers["Message-ID"] == send.message_id
    assert message.extra_headers["List-Unsubscribe"] == f"<{links.unsubscribe_url(send_id=send.pk)}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


@pytest.mark.parametrize("name", ["Acme\nBcc: all@example.com", "Acme\r\nMarketing", "Acme\tTeam"])
def test_a_sender_name_that_cannot_go_into_a_header_is_refused_when_the_track_is_saved(name: str) -> None:
    track = TrackFactory.build(from_name=name)

    with pytest.raises(ValidationError) as refused:
        track.full_clean()

    assert list(refused.value.message_dict) == ["from_name"]


# --- Giving back what the run took, when the mail server cannot be reached -------------------------


def _meanwhile(monkeypatch: pytest.MonkeyPatch, change: Callable[[], object]) -> None:
    """Make ``change`` happen while the first batch's emails are with the senders (before the run settles it)."""
    settle = sending._settle
    pending = [change]

    def settle_after_the_change(delivery: object, *, now: datetime) -> sending.SendResult:
        while pending:
            pending.pop()()
        return settle(delivery, now=now)  # type: ignore[arg-type]

    monkeypatch.setattr(sending, "_settle", settle_after_the_change)


def _server_unreachable(settings: object) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"  # type: ignore[attr-defined]
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # type: ignore[attr-defined]


def _enroll(lead_id: int, track: Track) -> None:
    services.enroll_lead(lead_id=lead_id, track=track, source="routing", reason="", now=FIXED_NOW)


def test_an_enrollment_ended_while_its_email_waited_stays_ended_and_is_sent_nothing_more(
    smtp_sink: SmtpSink, settings: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    enrollment = _enrolled()
    StepFactory(track=enrollment.track, delay_days=0)
    ended = Enrollment.objects.filter(pk=enrollment.pk)
    _meanwhile(monkeypatch, lambda: services.end_enrollments(enrollments=ended, reason="marketer", now=FIXED_NOW))
    sink_port = settings.EMAIL_PORT  # type: ignore[attr-defined]
    _server_unreachable(settings)

    result = sending.send_due_steps(now=FIXED_NOW)
    settings.EMAIL_PORT = sink_port  # type: ignore[attr-defined]
    later = sending.send_due_steps(now=FIXED_NOW + sending.RETRY_AFTER)

    enrollment.refresh_from_db()
    assert (result.given_back, later.sent) == (0, 0)
    assert (enrollment.status, enrollment.exit_reason) == (EnrollmentStatus.EXITED, ExitReason.MARKETER)
    assert smtp_sink.messages == []
    assert Send.objects.count() == 0  # it never went out


def test_a_lead_moved_to_another_track_while_its_email_waited_keeps_its_new_enrollment_and_the_batch_is_given_back(
    settings: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    _server_unreachable(settings)
    moved, stays = _enrolled(), _enrolled()
    StepFactory(track=moved.track, delay_days=2)  # a step to come: the run leaves the enrollment active
    other_track = StepFactory().track
    _meanwhile(monkeypatch, lambda: _enroll(moved.lead_id, other_track))

    result = sending.send_due_steps(now=FIXED_NOW)

    moved.refresh_from_db()
    stays.refresh_from_db()
    assert result.given_back == 1
    assert (moved.status, moved.exit_reason) == (EnrollmentStatus.EXITED, ExitReason.MOVED)
    assert Enrollment.objects.get(lead_id=moved.lead_id, status=EnrollmentStatus.ACTIVE).track == other_track
    assert (stays.status, stays.last_position, stays.next_due_at) == (
        EnrollmentStatus.ACTIVE,
        0,
        FIXED_NOW + sending.RETRY_AFTER,
    )
    assert Send.objects.count() == 0


def test_a_lead_enrolled_again_after_its_last_email_was_recorded_keeps_the_new_enrollment_when_it_is_given_back(
    settings: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    _server_unreachable(settings)
    completed = _enrolled()  # one step: the run completes the enrollment as it records the send
    other_track = StepFactory().track
    _meanwhile(monkeypatch, lambda: _enroll(completed.lead_id, other_track))

    result = sending.send_due_steps(now=FIXED_NOW)

    completed.refresh_from_db()
    assert result.given_back == 0
    assert completed.status == EnrollmentStatus.COMPLETED
    assert Enrollment.objects.get(lead_id=completed.lead_id, status=EnrollmentStatus.ACTIVE).track == other_track


def _three_step_track() -> Track:
    track = TrackFactory()
    for position in (1, 2, 3):
        StepFactory(track=track, position=position, subject=f"Step {position}", delay_days=0)
    return track


def test_a_lead_back_in_a_track_whose_step_is_given_back_is_never_sent_the_steps_it_had_again(
    smtp_sink: SmtpSink, settings: object
) -> None:
    track = _three_step_track()
    lead = LeadFactory()
    ConsentFactory(lead=lead)
    EnrollmentFactory(lead=lead, track=track, last_position=2, status=EnrollmentStatus.EXITED)
    again = services.enroll_lead(lead_id=lead.pk, track=track, source="routing", reason="", now=FIXED_NOW)
    sink_port = settings.EMAIL_PORT  # type: ignore[attr-defined]
    _server_unreachable(settings)

    sending.send_due_steps(now=FIXED_NOW)
    settings.EMAIL_PORT = sink_port  # type: ignore[attr-defined]
    sending.send_due_steps(now=FIXED_NOW + sending.RETRY_AFTER)

    assert again is not None and again.last_position == 2
    assert [m["Subject"] for m in smtp_sink.messages] == ["Step 3"]


def test_a_step_given_back_after_the_lead_left_the_track_is_sent_when_it_comes_back(
    smtp_sink: SmtpSink, settings: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    track = _three_step_track()
    lead = LeadFactory()
    ConsentFactory(lead=lead)
    EnrollmentFactory(lead=lead, track=track)
    _meanwhile(monkeypatch, lambda: services.end_enrollment(lead_id=lead.pk, reason="mql", now=FIXED_NOW))
    sink_port = settings.EMAIL_PORT  # type: ignore[attr-defined]
    _server_unreachable(settings)

    sending.send_due_steps(now=FIXED_NOW)
    settings.EMAIL_PORT = sink_port  # type: ignore[attr-defined]
    _enroll(lead.pk, track)
    sending.send_due_steps(now=FIXED_NOW + sending.RETRY_AFTER)

    assert [m["Subject"] for m in smtp_sink.messages] == ["Step 1"]


def test_a_step_given_back_after_the_lead_was_enrolled_in_the_track_again_is_sent_in_the_new_enrollment(
    smtp_sink: SmtpSink, settings: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    track = _three_step_track()
    lead = LeadFactory()
    ConsentFactory(lead=lead)
    EnrollmentFactory(lead=lead, track=track)

    def leave_and_come_back() -> None:  # an MQL exit, then routing sends the MQL to the same track again
        services.end_enrollment(lead_id=lead.pk, reason="mql", now=FIXED_NOW)
        _enroll(lead.pk, track)

    _meanwhile(monkeypatch, leave_and_come_back)
    sink_port = settings.EMAIL_PORT  # type: ignore[attr-defined]
    _server_unreachable(settings)

    sending.send_due_steps(now=FIXED_NOW)
    settings.EMAIL_PORT = sink_port  # type: ignore[attr-defined]
    sending.send_due_steps(now=FIXED_NOW + sending.RETRY_AFTER)

    assert [m["Subject"] for m in smtp_sink.messages] == ["Step 1"]


def test_a_later_run_never_sends_the_next_step_while_the_step_before_is_with_another_runs_senders(
    smtp_sink: SmtpSink, settings: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    track = _three_step_track()
    lead = LeadFactory()
    ConsentFactory(lead=lead)
    EnrollmentFactory(lead=lead, track=track)
    sink_port = settings.EMAIL_PORT  # type: ignore[attr-defined]

    def a_later_run_with_the_server_back() -> None:  # another worker, a minute later, while "Step 1" waits
        settings.EMAIL_PORT = sink_port  # type: ignore[attr-defined]
        sending.send_due_steps(now=FIXED_NOW + timedelta(minutes=1))

    _meanwhile(monkeypatch, a_later_run_with_the_server_back)
    _server_unreachable(settings)

    sending.send_due_steps(now=FIXED_NOW)  # its sender cannot reach the server: "Step 1" is given back
    for minutes in (0, 1, 2):
        sending.send_due_steps(now=FIXED_NOW + sending.RETRY_AFTER + timedelta(minutes=minutes))

    assert [m["Subject"] for m in smtp_sink.messages] == ["Step 1", "Step 2", "Step 3"]


def test_an_email_a_killed_run_left_sending_holds_the_next_step_back_for_an_hour_at_most(smtp_sink: SmtpSink) -> None:
    track = _three_step_track()
    lead = LeadFactory()
    ConsentFactory(lead=lead)
    enrollment = EnrollmentFactory(lead=lead, track=track, last_position=1, last_sent_at=FIXED_NOW)
    Send.objects.create(enrollment=enrollment, track=track, lead=lead, position=1, created_at=FIXED_NOW)  # "sending"

    held = sending.send_due_steps(now=FIXED_NOW + timedelta(minutes=59))
    released = sending.send_due_steps(now=FIXED_NOW + sending.IN_FLIGHT_AT_MOST + timedelta(minutes=1))

    assert (held.sent, released.sent) == (0, 1)
    assert [m["Subject"] for m in smtp_sink.messages] == ["Step 2"]
