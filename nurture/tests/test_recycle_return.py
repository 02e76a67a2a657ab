"""A lead a rep recycled that is not an MQL again on its date stays in nurture: in the track routing gives it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine

from handoff import services as handoff_services
from handoff.models import Assignment, RoutingDestination, RoutingRule
from handoff.tests.factories import MQLFactory, TeamFactory
from leads import events
from leads import services as lead_services
from leads.models import Lead, Stage
from leads.tests.factories import FIXED_NOW, ConsentFactory
from nurture import sending
from nurture.models import Enrollment, EnrollmentStatus, ExitReason, Track
from nurture.tests.conftest import SmtpSink
from nurture.tests.factories import StepFactory, TrackFactory
from scoring.tests.factories import ScoringModelFactory

pytestmark = pytest.mark.django_db

RECYCLE_ON = date(2026, 3, 4)  # a Wednesday; London is on GMT, so the day starts at midnight UTC
RETURN_AT = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)  # the return sweep's run that day, in sending hours
A_WEEK_LATER = datetime(2026, 3, 11, 10, 0, tzinfo=UTC)


@pytest.fixture
def recycle_track(db: None) -> Track:
    return StepFactory(track=TrackFactory(key="not-now", is_default_recycle=True), subject="Still thinking?").track


@pytest.fixture
def routing_track(db: None) -> Track:
    """The track routing sends every lead of the score the recycled lead has (no MQL scores)."""
    track = StepFactory(track=TrackFactory(key="slow-burn"), subject="Slow burn 1").track
    StepFactory(track=track, delay_days=5, subject="Slow burn 2")
    RoutingRule.objects.create(
        name="Cold → slow burn", score_max=59, destination=RoutingDestination.NURTURE, nurture_track=track.key
    )
    return track


@pytest.fixture
def recycled(rep: Any, recycle_track: Track, django_capture_on_commit_callbacks: Callable[..., Any]) -> Lead:
    """An MQL ``rep`` recycled until 4 March that scores 0 by then (no rule of the active model matches it)."""
    ScoringModelFactory()
    lead = MQLFactory()
    ConsentFactory(lead=lead)
    with django_capture_on_commit_callbacks(execute=True):
        assignment = handoff_services.assign_lead(lead=lead, team=TeamFactory(members=[rep]), now=FIXED_NOW)
    # The nurture app's receiver reads the clock when it enrolls the lead, after commit.
    with time_machine.travel(FIXED_NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        handoff_services.recycle_lead(
            assignment=assignment, rep=rep, recycle_on=RECYCLE_ON, reason="Budget in Q3", now=FIXED_NOW
        )
    return lead


def _return(django_capture_on_commit_callbacks: Callable[..., Any]) -> None:
    with time_machine.travel(RETURN_AT, tick=False), django_capture_on_commit_callbacks(execute=True):
        handoff_services.return_recycled_leads(now=RETURN_AT)


def test_a_recycled_lead_not_an_mql_on_its_date_is_enrolled_in_the_track_routing_gives_it(
    recycled: Lead, routing_track: Track, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    _return(django_capture_on_commit_callbacks)

    enrollment = Enrollment.objects.get(lead=recycled, status=EnrollmentStatus.ACTIVE)
    assert (enrollment.track, enrollment.source, enrollment.until) == (
        routing_track,
        events.NURTURE_FROM_ROUTING,
        None,
    )
    assert Lead.objects.get(pk=recycled.pk).stage == Stage.NURTURE


def test_a_recycled_lead_back_in_nurture_receives_its_tracks_emails(
    recycled: Lead, routing_track: Track, smtp_sink: SmtpSink, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    sending.send_due_steps(now=RETURN_AT)  # the sender's run that day comes first: the recycle enrollment ends
    _return(django_capture_on_commit_callbacks)

    sending.send_due_steps(now=RETURN_AT)

    assert [message["Subject"] for message in smtp_sink.messages] == ["Slow burn 1"]


def test_a_recycled_lead_routing_gives_its_recycle_track_goes_on_in_it_past_the_date(
    recycled: Lead, recycle_track: Track, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    RoutingRule.objects.create(name="All → not now", destination=RoutingDestination.NURTURE, nurture_track="not-now")

    _return(django_capture_on_commit_callbacks)

    enrolled = Enrollment.objects.get(lead=recycled, status=EnrollmentStatus.ACTIVE)
    assert (enrolled.track, enrolled.source, enrolled.until) == (recycle_track, events.NURTURE_FROM_ROUTING, None)


@pytest.mark.parametrize("sender_first", [True, False], ids=["sender-first", "return-first"])
def test_a_lead_back_in_its_recycle_track_gets_each_email_of_it_once_whichever_job_runs_first_on_its_date(
    sender_first: bool,
    recycled: Lead,
    recycle_track: Track,
    smtp_sink: SmtpSink,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    """The sender ends the recycle enrollment on the date if it gets there first; the return job ends it if it does.
    Either way the lead goes on in the same track after the email it had, and its enrollments read the same."""
    # Due on 4 March at 09:00, after the date has begun and before the return sweep runs.
    StepFactory(track=recycle_track, delay_days=2, subject="Still thinking, part 2?")
    RoutingRule.objects.create(name="All → not now", destination=RoutingDestination.NURTURE, nurture_track="not-now")
    sending.send_due_steps(now=FIXED_NOW)  # "Still thinking?", before the date

    if sender_first:
        sending.send_due_steps(now=RETURN_AT)
        _return(django_capture_on_commit_callbacks)
    else:
        _return(django_capture_on_commit_callbacks)
        sending.send_due_steps(now=RETURN_AT)
    sending.send_due_steps(now=A_WEEK_LATER)

    assert [message["Subject"] for message in smtp_sink.messages] == ["Still thinking?", "Still thinking, part 2?"]
    enrollments = Enrollment.objects.filter(lead=recycled).order_by("started_at", "id")
    assert [(row.source, row.status, row.exit_reason, row.ended_at) for row in enrollments] == [
        (events.NURTURE_FROM_RECYCLE, EnrollmentStatus.EXITED, ExitReason.UNTIL, RETURN_AT),
        (events.NURTURE_FROM_ROUTING, EnrollmentStatus.COMPLETED, "", A_WEEK_LATER),
    ]


def test_a_recycled_lead_routing_sends_to_a_team_goes_to_the_default_nurture_track(
    recycled: Lead, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    default = TrackFactory(is_default_below_threshold=True)
    RoutingRule.objects.create(name="All → sales", team=Assignment.objects.get(lead=recycled).team)

    _return(django_capture_on_commit_callbacks)

    enrollment = Enrollment.objects.get(lead=recycled, status=EnrollmentStatus.ACTIVE)
    assert (enrollment.track, enrollment.source) == (default, events.NURTURE_BELOW_THRESHOLD)
    assert enrollment.reason.startswith("Recycle date reached")


def test_a_recycled_lead_without_a_usable_consent_is_sent_nothing_after_its_date(
    recycled: Lead, routing_track: Track, smtp_sink: SmtpSink, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        lead_services.withdraw_consents(lead=recycled, now=FIXED_NOW, source="admin")
    _return(django_capture_on_commit_callbacks)

    sending.send_due_steps(now=RETURN_AT)

    assert smtp_sink.messages == []
