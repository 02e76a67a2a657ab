"""The SLA sweep. Services take ``now``; only the task reads the clock, so only its tests freeze time."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django_q.models import Schedule

from handoff import services, tasks
from handoff.models import (
    Assignment,
    AssignmentOutcome,
    BreachAction,
    ContactKind,
    Notification,
    NotificationKind,
    SLARecord,
    Team,
)
from handoff.services import sla as sla_service
from handoff.tests.factories import MembershipFactory, MQLFactory, SLAPolicyFactory
from leads.models import Lead
from leads.services import withdraw_consents
from leads.tests.factories import ConsentFactory

pytestmark = pytest.mark.django_db

OnCommit = Callable[..., AbstractContextManager[object]]


def sla_of(assignment: Assignment) -> SLARecord:
    return SLARecord.objects.get(assignment=assignment)


def sla_state(assignment: Assignment) -> dict[str, object]:
    return SLARecord.objects.filter(assignment=assignment).values().get()


def test_the_reminder_is_due_at_75_percent_and_the_breach_at_the_target(assignment: Assignment, now: datetime) -> None:
    sla = sla_of(assignment)

    # From Monday 10:00, 18 business hours (75 %) is Wednesday 12:00 and 24 is Thursday 10:00.
    assert sla.remind_at == now + timedelta(days=2, hours=2)
    assert sla.due_at == now + timedelta(days=3)


def test_sweep_before_the_reminder_point_does_nothing(assignment: Assignment) -> None:
    sla = sla_of(assignment)

    result = services.flag_sla_events(now=sla.remind_at - timedelta(seconds=1))

    assert result == services.SweepResult()
    assert sla_of(assignment).reminded_at is None


def test_sweep_flags_the_reminder_and_emails_the_rep(
    assignment: Assignment, django_capture_on_commit_callbacks: OnCommit
) -> None:
    remind_at = sla_of(assignment).remind_at

    with django_capture_on_commit_callbacks(execute=True):
        result = services.flag_sla_events(now=remind_at)

    assert result.reminded == 1
    assert sla_of(assignment).reminded_at == remind_at
    assert [(message.to, message.subject.split(":")[0]) for message in mail.outbox] == [
        ([assignment.rep.email], "Reminder")
    ]


def test_no_reminder_asks_the_rep_to_contact_a_person_who_withdrew_consent(
    assignment: Assignment, now: datetime
) -> None:
    ConsentFactory(lead=assignment.lead)
    withdraw_consents(lead=assignment.lead, now=now, source="link")

    result = services.flag_sla_events(now=sla_of(assignment).remind_at)

    assert result.reminded == 0
    assert not Notification.objects.filter(kind=NotificationKind.REMINDER).exists()


def test_the_reminder_fires_once_however_often_the_sweep_runs(
    assignment: Assignment, django_capture_on_commit_callbacks: OnCommit
) -> None:
    remind_at = sla_of(assignment).remind_at

    with django_capture_on_commit_callbacks(execute=True):
        for minute in range(3):
            services.flag_sla_events(now=remind_at + timedelta(minutes=minute))

    assert Notification.objects.filter(kind=NotificationKind.REMINDER).count() == 1
    assert len(mail.outbox) == 1


def test_sweep_flags_the_breach_and_notifies_rep_and_managers(
    assignment: Assignment, manager: object, django_capture_on_commit_callbacks: OnCommit
) -> None:
    due_at = sla_of(assignment).due_at

    with django_capture_on_commit_callbacks(execute=True):
        result = services.flag_sla_events(now=due_at)

    sla = sla_of(assignment)
    assert (result.breached, sla.breached_at, sla.escalated_at) == (1, due_at, due_at)
    assert sorted(mail.outbox[0].to) == sorted([assignment.rep.email, manager.email])  # type: ignore[attr-defined]
    assert mail.outbox[0].subject.startswith("SLA breached")


def test_the_breach_fires_once_however_often_the_sweep_runs(
    assignment: Assignment, django_capture_on_commit_callbacks: OnCommit
) -> None:
    due_at = sla_of(assignment).due_at

    with django_capture_on_commit_callbacks(execute=True):
        for minute in range(3):
            services.flag_sla_events(now=due_at + timedelta(minutes=minute))

    assert Notification.objects.filter(kind=NotificationKind.BREACH).count() == 1
    assert len(mail.outbox) == 1


def test_a_second_sweep_at_the_same_instant_changes_nothing(
    assignment: Assignment, django_capture_on_commit_callbacks: OnCommit
) -> None:
    due_at = sla_of(assignment).due_at
    with django_capture_on_commit_callbacks(execute=True):
        services.flag_sla_events(now=due_at)
    before = (sla_state(assignment), list(Notification.objects.values()), len(mail.outbox))

    with django_capture_on_commit_callbacks(execute=True):
        result = services.flag_sla_events(now=due_at)

    assert result == services.SweepResult()
    assert (sla_state(assignment), list(Notification.objects.values()), len(mail.outbox)) == before


def test_a_sweep_after_downtime_sends_the_breach_but_not_the_stale_reminder(assignment: Assignment) -> None:
    due_at = sla_of(assignment).due_at

    result = services.flag_sla_events(now=due_at + timedelta(hours=5))

    assert (result.breached, result.reminded) == (1, 0)
    assert list(Notification.objects.values_list("kind", flat=True).order_by("kind")) == [
        NotificationKind.ASSIGNED,
        NotificationKind.BREACH,
    ]


def test_a_clock_past_its_deadline_left_for_the_next_run_by_a_backlog_gets_no_reminder(
    team: Team, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sla_service, "BATCH_SIZE", 1)  # a backlog of breaches larger than one run takes
    first, second = (services.assign_lead(lead=MQLFactory(), team=team, now=now) for _ in range(2))

    result = services.flag_sla_events(now=sla_of(second).due_at + timedelta(hours=5))

    assert (result.breached, result.reminded) == (1, 0)
    assert [sla_of(first).reminded_at, sla_of(second).reminded_at] == [None, None]


def test_a_contact_before_the_due_time_marks_the_sla_met(assignment: Assignment, rep: object) -> None:
    sla = sla_of(assignment)
    contacted_at = sla.due_at - timedelta(minutes=1)

    services.log_contact(assignment=assignment, rep=rep, kind=ContactKind.CALL, note="", now=contacted_at)

    assert sla_of(assignment).met_at == contacted_at


def test_a_met_sla_is_never_flagged(assignment: Assignment, rep: object) -> None:
    sla = sla_of(assignment)
    services.log_contact(
        assignment=assignment, rep=rep, kind=ContactKind.EMAIL, note="", now=sla.remind_at - timedelta(hours=1)
    )

    result = services.flag_sla_events(now=sla.due_at + timedelta(days=1))

    assert result == services.SweepResult()
    assert (sla_of(assignment).reminded_at, sla_of(assignment).breached_at) == (None, None)


def test_a_contact_after_the_breach_is_recorded_as_met_late(assignment: Assignment, rep: object) -> None:
    sla = sla_of(assignment)
    services.flag_sla_events(now=sla.due_at)
    late = sla.due_at + timedelta(hours=1)

    services.log_contact(assignment=assignment, rep=rep, kind=ContactKind.CALL, note="", now=late)

    assert (sla_of(assignment).breached_at, sla_of(assignment).met_at) == (sla.due_at, late)


def test_a_breach_under_a_reassign_policy_moves_the_lead_to_the_next_rep_once(
    team: Team, other_rep: object, now: datetime
) -> None:
    SLAPolicyFactory(on_breach=BreachAction.REASSIGN)
    MembershipFactory(team=team, user=other_rep)
    first = services.assign_lead(lead=MQLFactory(), team=team, now=now)
    due_at = sla_of(first).due_at

    results = [services.flag_sla_events(now=due_at) for _ in range(2)]

    open_assignment = Assignment.objects.open().get(lead=first.lead)
    assert [result.reassigned for result in results] == [1, 0]
    assert Assignment.objects.get(pk=first.pk).outcome == AssignmentOutcome.REASSIGNED
    assert open_assignment.rep != first.rep
    assert Lead.objects.get(pk=first.lead_id).owner == open_assignment.rep


def test_a_reassign_policy_with_nobody_else_available_notifies_the_managers(
    assignment: Assignment, manager: object
) -> None:
    SLARecord.objects.filter(assignment=assignment).update(on_breach=BreachAction.REASSIGN)

    result = services.flag_sla_events(now=sla_of(assignment).due_at)

    notification = Notification.objects.get(kind=NotificationKind.BREACH)
    assert result.reassigned == 0
    assert manager.email in notification.recipients  # type: ignore[attr-defined]
    assert Assignment.objects.get(pk=assignment.pk).is_open


def test_a_reassign_policy_leaves_a_lead_whose_person_withdrew_consent_and_tells_the_managers(
    assignment: Assignment, team: Team, other_rep: object, manager: object, now: datetime
) -> None:
    MembershipFactory(team=team, user=other_rep)
    SLARecord.objects.filter(assignment=assignment).update(on_breach=BreachAction.REASSIGN)
    ConsentFactory(lead=assignment.lead)
    withdraw_consents(lead=assignment.lead, now=now, source="link")

    result = services.flag_sla_events(now=sla_of(assignment).due_at)

    notification = Notification.objects.get(kind=NotificationKind.BREACH)
    assert (result.breached, result.reassigned) == (1, 0)
    assert Assignment.objects.open().get(lead=assignment.lead).pk == assignment.pk
    assert manager.email in notification.recipients  # type: ignore[attr-defined]


def test_a_breach_that_fails_leaves_the_others_flagged_and_itself_due_again(
    team: Team, other_rep: object, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    SLAPolicyFactory(on_breach=BreachAction.REASSIGN)
    MembershipFactory(team=team, user=other_rep)
    broken, fine = (services.assign_lead(lead=MQLFactory(), team=team, now=now) for _ in range(2))
    real_reassign = sla_service.reassign_lead

    def reassign_failing_once_for_broken(**kwargs: Any) -> Assignment:
        if kwargs["assignment"].pk == broken.pk:
            raise RuntimeError("a bug in one lead's reassignment")
        return real_reassign(**kwargs)

    monkeypatch.setattr(sla_service, "reassign_lead", reassign_failing_once_for_broken)

    result = services.flag_sla_events(now=sla_of(fine).due_at)

    assert (result.breached, result.reassigned) == (1, 1)
    assert sla_of(broken).breached_at is None
    assert Assignment.objects.get(pk=fine.pk).outcome == AssignmentOutcome.REASSIGNED


def test_a_closed_assignment_is_never_flagged(assignment: Assignment, rep: object, now: datetime) -> None:
    services.reject_lead(assignment=assignment, rep=rep, reason="Student, not a buyer", now=now)

    result = services.flag_sla_events(now=now + timedelta(days=30))

    assert result == services.SweepResult()


# --- Notifications -------------------------------------------------------------------------------


def queue_reminder(assignment: Assignment) -> Notification:
    notification = services.queue_notification(
        kind=NotificationKind.REMINDER, assignment=assignment, recipients=[assignment.rep], now=assignment.assigned_at
    )
    assert notification is not None
    return notification


def test_a_notification_is_recorded_once_per_kind(assignment: Assignment) -> None:
    queue_reminder(assignment)

    again = services.queue_notification(
        kind=NotificationKind.REMINDER, assignment=assignment, recipients=[assignment.rep], now=assignment.assigned_at
    )

    assert again is None
    assert Notification.objects.filter(kind=NotificationKind.REMINDER).count() == 1


def test_a_notification_is_sent_at_most_once(assignment: Assignment) -> None:
    notification = queue_reminder(assignment)

    sent = [
        services.deliver_notification(notification_id=notification.pk, now=assignment.assigned_at) for _ in range(2)
    ]

    assert sent == [True, False]
    assert len(mail.outbox) == 1


def test_a_failed_send_is_retried_by_a_later_sweep(assignment: Assignment, settings: object) -> None:
    notification = queue_reminder(assignment)
    settings.EMAIL_BACKEND = "handoff.tests.test_sla.FailingBackend"  # type: ignore[attr-defined]
    services.deliver_notification(notification_id=notification.pk, now=assignment.assigned_at)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # type: ignore[attr-defined]

    result = services.flag_sla_events(now=assignment.assigned_at + timedelta(minutes=10))

    notification.refresh_from_db()
    assert result.notifications_retried == 1
    assert (notification.attempts, len(mail.outbox)) == (2, 1)
    assert "SMTP is down" in notification.last_error


class FailingBackend:
    def __init__(self, **kwargs: object) -> None:
        pass

    def send_messages(self, messages: object) -> int:
        raise OSError("SMTP is down")


# --- The scheduled task reads the clock ----------------------------------------------------------


def test_the_scheduled_task_flags_what_is_due_now(assignment: Assignment) -> None:
    due_at = sla_of(assignment).due_at

    with time_machine.travel(due_at + timedelta(seconds=30), tick=False):
        tasks.check_sla()

    assert sla_of(assignment).breached_at == due_at + timedelta(seconds=30)


def test_the_scheduled_task_with_frozen_time_reminds_then_breaches_once_each(assignment: Assignment) -> None:
    sla = sla_of(assignment)

    for at in (sla.remind_at, sla.remind_at + timedelta(minutes=1), sla.due_at, sla.due_at + timedelta(minutes=1)):
        with time_machine.travel(at, tick=False):
            tasks.check_sla()

    sla = sla_of(assignment)
    kinds = Notification.objects.filter(assignment=assignment).values_list("kind", flat=True)
    assert (sla.reminded_at, sla.breached_at) == (sla.remind_at, sla.due_at)
    assert sorted(kinds) == sorted([NotificationKind.ASSIGNED, NotificationKind.REMINDER, NotificationKind.BREACH])


@pytest.mark.parametrize("func", ["handoff.tasks.check_sla", "handoff.tasks.assign_waiting_leads"])
def test_the_sweeps_are_scheduled_every_minute(func: str) -> None:
    schedule = Schedule.objects.get(func=func)

    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (Schedule.MINUTES, 1, -1)
