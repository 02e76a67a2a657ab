"""The task worker's health: readiness for monitors (/healthz/ready/) and the staff status page.

Tests run django-q2 in sync mode, so no cluster is running: a heartbeat is saved the way a qcluster saves
one (to the shared cache or Redis) and tasks are put on the configured broker's own queue.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import Schedule, Task
from django_q.signing import SignedPackage
from django_q.status import Stat, Status
from pytest_django import Settings

from core import health
from leads.tests.factories import LeadFactory, UserFactory
from tests.personas import client_for

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
QUEUE_MAX_AGE = timedelta(minutes=10)
GRACE = timedelta(minutes=2)


@pytest.fixture(autouse=True)
def _empty_broker(settings: Settings) -> Iterator[None]:
    """No heartbeat, no queued task, and every schedule in the future: the state of a healthy idle worker."""
    settings.HEALTH_QUEUE_MAX_AGE = QUEUE_MAX_AGE
    settings.HEALTH_SCHEDULE_GRACE = GRACE
    cache.clear()
    get_broker().purge_queue()
    Schedule.objects.update(next_run=NOW + timedelta(minutes=1))
    yield
    get_broker().purge_queue()


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _heartbeat(*, at: datetime, status: str = Conf.IDLE) -> None:
    """Save a cluster's status as a running qcluster does every half second (it expires after 3 s there)."""
    cluster_id = uuid4()
    stat = Status(pid=1, cluster_id=cluster_id)
    stat.status = status
    stat.timestamp = at
    get_broker().set_stat(Stat.get_key(cluster_id), SignedPackage.dumps(stat, True), 60)


def _enqueue(*, at: datetime) -> None:
    """Put a task on the broker's queue as ``async_task`` would have at ``at``."""
    task = {"id": uuid4().hex, "name": "secret-name", "func": "math.floor", "args": (1,), "kwargs": {}, "started": at}
    with time_machine.travel(at, tick=False):  # the ORM broker stamps the row with the clock
        get_broker().enqueue(SignedPackage.dumps(task))


def _finished_task(*, stopped_at: datetime, success: bool) -> Task:
    return Task.objects.create(
        id=uuid4().hex, name=uuid4().hex, func="math.floor", started=stopped_at, stopped=stopped_at, success=success
    )


def _schedule(*, minutes: int, next_run: datetime) -> Schedule:
    return Schedule.objects.create(
        name="secret.schedule", func="math.floor", schedule_type=Schedule.MINUTES, minutes=minutes, next_run=next_run
    )


# --- Readiness ----------------------------------------------------------------------------------------


def test_ready_is_200_with_a_fresh_heartbeat_and_an_empty_queue(client: Client, clock: time_machine.Traveller) -> None:
    _heartbeat(at=NOW - timedelta(seconds=1))

    response = client.get("/healthz/ready/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["worker"] == {
        "ok": True,
        "clusters": 1,
        "seconds_since_heartbeat": 1.0,
        "last_task_at": None,
    }
    assert body["checks"]["queue"]["queued"] == 0


def test_ready_is_503_when_no_cluster_is_alive(client: Client, clock: time_machine.Traveller) -> None:
    response = client.get("/healthz/ready/")

    assert response.status_code == 503
    assert response.json()["checks"]["worker"]["ok"] is False


@pytest.mark.parametrize(("heartbeat_age", "status"), [(timedelta(seconds=1), 200), (None, 503)])
def test_ready_answers_a_monitor_asking_with_head(
    client: Client, clock: time_machine.Traveller, heartbeat_age: timedelta | None, status: int
) -> None:
    if heartbeat_age is not None:
        _heartbeat(at=NOW - heartbeat_age)

    response = client.head("/healthz/ready/")

    assert response.status_code == status


def test_a_cluster_that_reported_stopped_is_not_alive() -> None:
    _heartbeat(at=NOW, status=Conf.STOPPED)

    worker = health.worker_state()

    assert not worker.is_alive


def test_ready_is_503_when_the_oldest_queued_task_is_older_than_the_threshold(
    client: Client, clock: time_machine.Traveller
) -> None:
    _heartbeat(at=NOW)
    _enqueue(at=NOW - QUEUE_MAX_AGE - timedelta(seconds=1))
    _enqueue(at=NOW - timedelta(seconds=5))

    response = client.get("/healthz/ready/")

    assert response.status_code == 503
    queue = response.json()["checks"]["queue"]
    assert queue["ok"] is False
    assert queue["queued"] == 2
    assert queue["oldest_age_seconds"] == 601


def test_a_task_queued_within_the_threshold_keeps_ready(client: Client, clock: time_machine.Traveller) -> None:
    _heartbeat(at=NOW)
    _enqueue(at=NOW - QUEUE_MAX_AGE)

    response = client.get("/healthz/ready/")

    assert response.status_code == 200


def test_ready_is_503_with_an_overdue_schedule(client: Client, clock: time_machine.Traveller) -> None:
    _heartbeat(at=NOW)
    _schedule(minutes=1, next_run=NOW - timedelta(hours=1))

    response = client.get("/healthz/ready/")

    assert response.status_code == 503
    assert response.json()["checks"]["schedules"] == {"ok": False, "overdue": 1}


def test_failed_tasks_of_the_last_day_are_shown_but_keep_ready(client: Client, clock: time_machine.Traveller) -> None:
    _heartbeat(at=NOW)
    _finished_task(stopped_at=NOW - timedelta(hours=2), success=False)

    response = client.get("/healthz/ready/")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["checks"]["failures"] == {"ok": True, "last_hour": 0, "last_24h": 1}


def test_a_task_failed_in_the_last_hour_makes_ready_degraded_not_down(
    client: Client, clock: time_machine.Traveller
) -> None:
    _heartbeat(at=NOW)
    _finished_task(stopped_at=NOW - timedelta(minutes=30), success=False)

    response = client.get("/healthz/ready/")

    assert (response.status_code, response.json()["status"]) == (200, "degraded")
    assert response.json()["checks"]["failures"] == {"ok": False, "last_hour": 1, "last_24h": 1}


def test_ready_is_503_when_the_oldest_lead_waiting_for_the_pipeline_is_past_the_limit(
    client: Client, clock: time_machine.Traveller, settings: Settings
) -> None:
    settings.HEALTH_PIPELINE_MAX_WAIT = timedelta(minutes=5)
    _heartbeat(at=NOW)
    LeadFactory(pipeline_due_at=NOW - timedelta(minutes=6))
    LeadFactory(pipeline_due_at=NOW - timedelta(minutes=1))

    response = client.get("/healthz/ready/")

    assert response.status_code == 503
    assert response.json()["checks"]["pipeline"] == {
        "ok": False, "waiting": 2, "oldest_age_seconds": 360, "max_age_seconds": 300,
    }  # fmt: skip


def test_ready_is_200_while_the_oldest_waiting_lead_is_within_the_limit_even_with_an_empty_broker(
    client: Client, clock: time_machine.Traveller, settings: Settings
) -> None:
    settings.HEALTH_PIPELINE_MAX_WAIT = timedelta(minutes=5)
    _heartbeat(at=NOW)
    LeadFactory(pipeline_due_at=NOW - timedelta(minutes=4))

    response = client.get("/healthz/ready/")

    assert response.status_code == 200
    assert response.json()["checks"]["pipeline"]["waiting"] == 1
    assert response.json()["checks"]["queue"]["queued"] == 0


def test_ready_names_no_task_and_no_schedule(client: Client, clock: time_machine.Traveller) -> None:
    _enqueue(at=NOW - timedelta(hours=1))
    _schedule(minutes=1, next_run=NOW - timedelta(hours=1))

    response = client.get("/healthz/ready/")

    assert response.status_code == 503  # the overdue schedule and the stale task are what it reports, unnamed
    assert b"secret" not in response.content
    assert b"math.floor" not in response.content


def test_ready_is_503_when_the_broker_does_not_answer(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable() -> list[Stat]:
        raise ConnectionError("redis://user:password@10.0.0.5:6379")

    monkeypatch.setattr(Stat, "get_all", unreachable)

    response = client.get("/healthz/ready/")

    assert response.status_code == 503
    assert response.json() == {"status": "fail", "error": "checks could not run"}


def test_ready_rejects_post(client: Client) -> None:
    response = client.post("/healthz/ready/")

    assert response.status_code == 405


# --- The checks -----------------------------------------------------------------------------------------


def test_a_schedule_more_than_two_intervals_and_the_grace_late_is_overdue() -> None:
    _schedule(minutes=5, next_run=NOW - timedelta(minutes=10) - GRACE - timedelta(seconds=1))

    overdue = health.overdue_schedules(now=NOW, grace=GRACE)

    assert [item.name for item in overdue] == ["secret.schedule"]


def test_a_schedule_less_late_than_two_intervals_and_the_grace_is_not_overdue() -> None:
    _schedule(minutes=5, next_run=NOW - timedelta(minutes=10) - GRACE)

    overdue = health.overdue_schedules(now=NOW, grace=GRACE)

    assert overdue == ()


def test_a_finished_schedule_is_never_overdue() -> None:
    schedule = _schedule(minutes=5, next_run=NOW - timedelta(days=3))
    Schedule.objects.filter(pk=schedule.pk).update(repeats=0)

    overdue = health.overdue_schedules(now=NOW, grace=GRACE)

    assert overdue == ()


def test_only_failures_of_the_last_24_hours_are_counted() -> None:
    _finished_task(stopped_at=NOW - timedelta(hours=23), success=False)
    _finished_task(stopped_at=NOW - timedelta(hours=25), success=False)
    _finished_task(stopped_at=NOW - timedelta(hours=1), success=True)

    count = health.failed_task_count(now=NOW)

    assert count == 1


def test_describe_says_when_the_last_task_finished_once_no_cluster_reports() -> None:
    report = health.HealthReport(
        checked_at=NOW,
        worker=health.WorkerState(cluster_count=0, last_heartbeat_at=None, last_task_at=NOW - timedelta(minutes=14)),
        queue=health.QueueState(broker="orm", queued_count=0, oldest_queued_at=None),
        overdue_schedules=(),
        failed_task_count=0,
        recent_failure_count=0,
        queue_max_age=QUEUE_MAX_AGE,
        backlog=health.BacklogState(waiting=0, oldest_due_at=None),
        backlog_max_wait=timedelta(minutes=5),
    )

    worker_line = health.describe(report)[0]

    assert not worker_line.is_ok
    assert worker_line.text.endswith("last task finished 14 min ago")


# --- The staff status page ------------------------------------------------------------------------------


def test_status_page_sends_anonymous_people_to_the_admin_sign_in(client: Client) -> None:
    response = client.get("/admin/status/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_status_page_is_not_for_reps(rep: User) -> None:
    response = client_for(rep).get("/admin/status/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("role", ["manager", "marketer"])
def test_status_page_shows_the_checks_in_words(
    role: str, request: pytest.FixtureRequest, clock: time_machine.Traveller
) -> None:
    _heartbeat(at=NOW - timedelta(seconds=12))
    _enqueue(at=NOW - timedelta(seconds=3))
    _finished_task(stopped_at=NOW - timedelta(minutes=50), success=False)
    _finished_task(stopped_at=NOW - timedelta(hours=2), success=False)
    LeadFactory(pipeline_due_at=NOW - timedelta(seconds=40))

    response = client_for(request.getfixturevalue(role)).get("/admin/status/")

    assert response.status_code == 200
    text = " ".join(response.content.decode().split())
    assert "Task worker </th> <td> running — last seen 12 s ago (1 cluster)" in text
    assert "Oldest queued task </th> <td> 3 s (1 waiting" in text
    assert "Overdue schedules </th> <td> none" in text
    assert "Oldest lead waiting for the pipeline </th> <td> 40 s (1 waiting" in text
    assert "Failed tasks in the last hour (24 h) </th> <td> 1 (2)" in text


def test_status_page_links_failed_tasks_for_those_who_may_see_them(clock: time_machine.Traveller) -> None:
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    _finished_task(stopped_at=NOW - timedelta(hours=1), success=False)

    response = client_for(superuser).get("/admin/status/")

    assert 'href="/admin/django_q/failure/"' in response.content.decode()


def test_status_page_names_an_overdue_schedule(manager: User, clock: time_machine.Traveller) -> None:
    _schedule(minutes=1, next_run=NOW - timedelta(minutes=30))

    response = client_for(manager).get("/admin/status/")

    assert "secret.schedule (due 30 min ago)" in response.content.decode()


def test_admin_index_links_the_status_page(marketer: User) -> None:
    response = client_for(marketer).get("/admin/")

    assert 'href="/admin/status/"' in response.content.decode()
