"""Who enters a track and why, and what ends an enrollment."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine

from integrations import privacy
from leads import events
from leads import services as lead_services
from leads.models import Lead, Stage
from leads.tests.factories import FIXED_NOW, ConsentFactory, LeadFactory
from nurture import sending, services
from nurture.models import Enrollment, EnrollmentStatus, ExitReason, Send, Track
from nurture.tests.conftest import SmtpSink
from nurture.tests.factories import EnrollmentFactory, StepFactory, TrackFactory
from scoring.services import score_lead
from scoring.tests.factories import ScoringModelFactory

pytestmark = pytest.mark.django_db


def test_a_routing_request_enrolls_the_lead_in_the_named_track_with_the_reason(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    track = StepFactory(delay_days=2).track
    lead = LeadFactory()

    with django_capture_on_commit_callbacks(execute=True):
        events.request_nurture(lead_id=lead.pk, source=events.NURTURE_FROM_ROUTING, reason="Start-ups", track=track.key)

    enrollment = Enrollment.objects.get(lead=lead)
    assert (enrollment.track, enrollment.source, enrollment.reason) == (track, "routing", "Start-ups")
    assert enrollment.status == EnrollmentStatus.ACTIVE


def test_the_first_step_is_due_after_its_business_days_in_the_leads_calendar() -> None:
    track = StepFactory(delay_days=2).track
    lead = LeadFactory(country="DE")

    enrollment = services.enroll_lead(lead_id=lead.pk, track=track, source="routing", reason="", now=FIXED_NOW)

    # Monday 10:00 UTC + 2 business days = Wednesday, 9:00 in Berlin (8:00 UTC).
    assert enrollment is not None
    assert enrollment.next_due_at == datetime(2026, 3, 4, 8, 0, tzinfo=UTC)


def test_a_request_for_a_track_that_is_not_live_enrolls_nobody(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    track = TrackFactory(status="draft")
    lead = LeadFactory()

    with django_capture_on_commit_callbacks(execute=True):
        events.request_nurture(lead_id=lead.pk, source=events.NURTURE_FROM_ROUTING, reason="", track=track.key)

    assert not Enrollment.objects.exists()


def test_falling_below_the_nurture_threshold_enrolls_the_lead_in_the_default_track(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    default = TrackFactory(is_default_below_threshold=True)
    ScoringModelFactory(nurture_threshold=20)
    lead = LeadFactory()

    with django_capture_on_commit_callbacks(execute=True):
        score_lead(lead_id=lead.pk, now=FIXED_NOW)

    enrollment = Enrollment.objects.get(lead=lead)
    assert (enrollment.track, enrollment.source) == (default, events.NURTURE_BELOW_THRESHOLD)
    assert "below the nurture threshold" in enrollment.reason


def test_a_rep_recycling_a_lead_enrolls_it_until_their_date(
    rep: Any, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    from handoff import services as handoff_services
    from handoff.tests.factories import MQLFactory, TeamFactory

    default = TrackFactory(is_default_recycle=True)
    team = TeamFactory(members=[rep])
    with django_capture_on_commit_callbacks(execute=True):
        assignment = handoff_services.assign_lead(lead=MQLFactory(), team=team, now=FIXED_NOW)

    with django_capture_on_commit_callbacks(execute=True):
        handoff_services.recycle_lead(
            assignment=assignment, rep=rep, recycle_on=date(2026, 6, 1), reason="Budget next quarter", now=FIXED_NOW
        )

    enrollment = Enrollment.objects.get(lead=assignment.lead)
    assert (enrollment.track, enrollment.source) == (default, events.NURTURE_FROM_RECYCLE)
    assert enrollment.until == datetime(2026, 5, 31, 23, 0, tzinfo=UTC)  # 1 June starts in London (BST)
    assert "Budget next quarter" in enrollment.reason


def test_a_lead_has_one_active_enrollment_and_a_new_track_replaces_the_old_one() -> None:
    first, second = TrackFactory(), TrackFactory()
    lead = LeadFactory()

    services.enroll_lead(lead_id=lead.pk, track=first, source="routing", reason="", now=FIXED_NOW)
    services.enroll_lead(lead_id=lead.pk, track=second, source="routing", reason="", now=FIXED_NOW)
    services.enroll_lead(lead_id=lead.pk, track=second, source="routing", reason="", now=FIXED_NOW)

    assert Enrollment.objects.filter(lead=lead, status=EnrollmentStatus.ACTIVE).get().track == second
    assert Enrollment.objects.get(lead=lead, track=first).exit_reason == ExitReason.MOVED
    assert Enrollment.objects.filter(lead=lead).count() == 2


def test_becoming_an_mql_ends_the_enrollment_at_once(django_capture_on_commit_callbacks: Callable[..., Any]) -> None:
    enrollment = EnrollmentFactory()

    with django_capture_on_commit_callbacks(execute=True):
        lead_services.change_stage(lead=enrollment.lead, to_stage=Stage.MQL, now=FIXED_NOW)

    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.exit_reason) == (EnrollmentStatus.EXITED, ExitReason.MQL)


def test_a_disqualified_lead_is_sent_nothing_more(smtp_sink: SmtpSink) -> None:
    enrollment = EnrollmentFactory(track=StepFactory().track)
    lead_services.change_stage(lead=enrollment.lead, to_stage=Stage.DISQUALIFIED, now=FIXED_NOW)

    sending.send_due_steps(now=FIXED_NOW)

    enrollment.refresh_from_db()
    assert smtp_sink.messages == []
    assert enrollment.exit_reason == ExitReason.DISQUALIFIED


def test_withdrawing_consent_ends_the_enrollment(django_capture_on_commit_callbacks: Callable[..., Any]) -> None:
    enrollment = EnrollmentFactory()
    ConsentFactory(lead=enrollment.lead)

    with django_capture_on_commit_callbacks(execute=True):
        lead_services.withdraw_consents(lead=enrollment.lead, now=FIXED_NOW, source="admin")

    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.exit_reason) == (EnrollmentStatus.EXITED, ExitReason.CONSENT)


def test_erasure_ends_the_enrollment_and_blanks_the_sends(smtp_sink: SmtpSink) -> None:
    step = StepFactory()
    enrollment = EnrollmentFactory(track=step.track, reason="Recycled until 2026-06-01: talked to Ada")
    StepFactory(track=step.track, delay_days=3)
    sending.send_due_steps(now=FIXED_NOW)

    privacy.erase_lead(lead=enrollment.lead, now=FIXED_NOW, by=None, reason="Request by email, 2 March")

    enrollment.refresh_from_db()
    send = Send.objects.get()
    assert (enrollment.status, enrollment.exit_reason, enrollment.reason) == (
        EnrollmentStatus.EXITED,
        ExitReason.ERASURE,
        "",
    )
    assert (send.to_email, send.subject) == ("", "")


def test_the_personal_data_export_includes_the_nurture_emails(smtp_sink: SmtpSink) -> None:
    enrollment = EnrollmentFactory(track=StepFactory().track)
    sending.send_due_steps(now=FIXED_NOW)

    data = privacy.export_lead_data(lead=enrollment.lead)

    assert [row["subject"] for row in data["nurture_sends"]] == ["Hello Ada"]
    assert data["nurture_enrollments"][0]["track"] == enrollment.track.name


def test_routing_offers_the_live_tracks() -> None:
    TrackFactory(key="startup", name="Start-up nurture")
    TrackFactory(key="draft-one", status="draft")

    assert events.nurture_track_choices() == [("startup", "Start-up nurture")]


def test_a_routing_rule_whose_destination_is_a_track_enrolls_the_lead_there(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    from handoff.models import RoutingDestination, RoutingRule
    from handoff.services import routing as routing_services

    track = StepFactory(track=TrackFactory(key="start-up-nurture")).track
    RoutingRule.objects.create(
        name="Start-ups → nurture", order=20, size_bands=["Start-up"], destination=RoutingDestination.NURTURE,
        nurture_track=track.key,
    )  # fmt: skip
    lead = LeadFactory(size_band="Start-up")

    with django_capture_on_commit_callbacks(execute=True):
        routing_services.route_lead(lead_id=lead.pk, now=FIXED_NOW)

    enrollment = Enrollment.objects.get(lead=lead)
    assert (enrollment.track, enrollment.source) == (track, events.NURTURE_FROM_ROUTING)
    assert enrollment.reason.startswith("Rule “Start-ups → nurture” matched")


# --- Enrolled again in a track it went through: never the same email twice ---------------------------------------

A_WEEK_LATER = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)


def _two_step_track(django_capture_on_commit_callbacks: Callable[..., Any]) -> tuple[Track, Lead]:
    """A track of two emails a day apart whose first one a lead had before leaving it as an MQL."""
    track = StepFactory(subject="One").track
    StepFactory(track=track, delay_days=1, subject="Two")
    lead = ConsentFactory().lead
    services.enroll_lead(lead_id=lead.pk, track=track, source="routing", reason="", now=FIXED_NOW)
    sending.send_due_steps(now=FIXED_NOW)
    with django_capture_on_commit_callbacks(execute=True):
        lead_services.change_stage(lead=lead, to_stage=Stage.MQL, now=FIXED_NOW)
    return track, lead


def test_a_lead_enrolled_again_in_a_track_it_left_is_sent_only_the_emails_after_the_last_one_it_had(
    smtp_sink: SmtpSink, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    track, lead = _two_step_track(django_capture_on_commit_callbacks)

    services.enroll_lead(lead_id=lead.pk, track=track, source="routing", reason="", now=A_WEEK_LATER)
    sending.send_due_steps(now=A_WEEK_LATER)
    sending.send_due_steps(now=A_WEEK_LATER + timedelta(days=7))

    assert [message["Subject"] for message in smtp_sink.messages] == ["One", "Two"]


def test_the_next_email_of_a_track_a_lead_is_enrolled_in_again_waits_its_delay_from_then(
    smtp_sink: SmtpSink, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    track, lead = _two_step_track(django_capture_on_commit_callbacks)

    again = services.enroll_lead(lead_id=lead.pk, track=track, source="routing", reason="", now=A_WEEK_LATER)

    assert again is not None
    # Monday 10:00 + 1 business day = Tuesday, 9:00 in London.
    assert (again.last_position, again.next_due_at) == (
        track.steps.get(subject="One").position,
        datetime(2026, 3, 10, 9, 0, tzinfo=UTC),
    )


def test_a_lead_moved_to_another_track_and_back_picks_up_where_it_left_the_first(
    smtp_sink: SmtpSink, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    track, lead = _two_step_track(django_capture_on_commit_callbacks)
    lead_services.change_stage(lead=lead, to_stage=Stage.NURTURE, now=A_WEEK_LATER)
    services.enroll_lead(lead_id=lead.pk, track=TrackFactory(), source="routing", reason="", now=A_WEEK_LATER)

    services.enroll_lead(lead_id=lead.pk, track=track, source="routing", reason="", now=A_WEEK_LATER)
    sending.send_due_steps(now=A_WEEK_LATER + timedelta(days=7))

    assert [message["Subject"] for message in smtp_sink.messages] == ["One", "Two"]


def test_a_lead_enrolled_again_in_a_track_it_had_every_email_of_is_sent_nothing_more(smtp_sink: SmtpSink) -> None:
    track = StepFactory(subject="One").track
    StepFactory(track=track, delay_days=1, subject="Two")
    lead = ConsentFactory().lead
    services.enroll_lead(lead_id=lead.pk, track=track, source="routing", reason="", now=FIXED_NOW)
    sending.send_due_steps(now=FIXED_NOW)
    sending.send_due_steps(now=FIXED_NOW + timedelta(days=1))

    again = services.enroll_lead(lead_id=lead.pk, track=track, source="routing", reason="", now=A_WEEK_LATER)
    sending.send_due_steps(now=A_WEEK_LATER)

    assert again is not None
    again.refresh_from_db()
    assert [message["Subject"] for message in smtp_sink.messages] == ["One", "Two"]
    assert again.status == EnrollmentStatus.COMPLETED


def test_a_lead_that_left_its_track_as_an_mql_and_is_routed_back_to_it_gets_the_emails_it_had_not_yet(
    smtp_sink: SmtpSink, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    from handoff.models import RoutingDestination, RoutingRule
    from handoff.services import routing as routing_services

    track = StepFactory(track=TrackFactory(key="start-up-nurture"), subject="One").track
    StepFactory(track=track, delay_days=1, subject="Two")
    RoutingRule.objects.create(
        name="Start-ups → nurture", size_bands=["Start-up"], destination=RoutingDestination.NURTURE,
        nurture_track=track.key,
    )  # fmt: skip
    lead = ConsentFactory(lead=LeadFactory(size_band="Start-up")).lead
    with time_machine.travel(FIXED_NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        routing_services.route_lead(lead_id=lead.pk, now=FIXED_NOW)
    sending.send_due_steps(now=FIXED_NOW)
    with django_capture_on_commit_callbacks(execute=True):  # a click made it an MQL: it left the track
        lead_services.change_stage(lead=lead, to_stage=Stage.MQL, now=FIXED_NOW)

    # Its score dropped below the threshold again, and the pipeline routes it.
    lead_services.change_stage(lead=lead, to_stage=Stage.NURTURE, now=A_WEEK_LATER)
    with time_machine.travel(A_WEEK_LATER, tick=False), django_capture_on_commit_callbacks(execute=True):
        routing_services.route_lead(lead_id=lead.pk, now=A_WEEK_LATER)
    sending.send_due_steps(now=A_WEEK_LATER + timedelta(days=7))

    enrollments = Enrollment.objects.filter(lead=lead).order_by("started_at", "id")
    assert [(row.track, row.status, row.exit_reason) for row in enrollments] == [
        (track, EnrollmentStatus.EXITED, ExitReason.MQL),
        (track, EnrollmentStatus.COMPLETED, ""),
    ]
    assert [message["Subject"] for message in smtp_sink.messages] == ["One", "Two"]


def test_a_lead_that_withdrew_consent_and_gave_it_again_is_routed_back_to_its_track_after_the_emails_it_had(
    smtp_sink: SmtpSink, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    from handoff.models import RoutingDestination, RoutingRule
    from handoff.services import routing as routing_services

    track = StepFactory(track=TrackFactory(key="start-up-nurture"), subject="One").track
    StepFactory(track=track, delay_days=1, subject="Two")
    RoutingRule.objects.create(
        name="Start-ups → nurture", size_bands=["Start-up"], destination=RoutingDestination.NURTURE,
        nurture_track=track.key,
    )  # fmt: skip
    lead = ConsentFactory(lead=LeadFactory(size_band="Start-up")).lead
    with time_machine.travel(FIXED_NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        routing_services.route_lead(lead_id=lead.pk, now=FIXED_NOW)
    sending.send_due_steps(now=FIXED_NOW)
    with django_capture_on_commit_callbacks(execute=True):  # it left the track
        lead_services.withdraw_consents(lead=lead, now=FIXED_NOW + timedelta(hours=1), source="admin")

    ConsentFactory(lead=lead, given_at=A_WEEK_LATER)  # it opted in again, and the pipeline routes it
    with time_machine.travel(A_WEEK_LATER, tick=False), django_capture_on_commit_callbacks(execute=True):
        routing_services.route_lead(lead_id=lead.pk, now=A_WEEK_LATER)
    sending.send_due_steps(now=A_WEEK_LATER + timedelta(days=7))

    enrollments = Enrollment.objects.filter(lead=lead).order_by("started_at", "id")
    assert [(row.track, row.status, row.exit_reason) for row in enrollments] == [
        (track, EnrollmentStatus.EXITED, ExitReason.CONSENT),
        (track, EnrollmentStatus.COMPLETED, ""),
    ]
    assert [message["Subject"] for message in smtp_sink.messages] == ["One", "Two"]
