"""Is the task worker doing its job? Readiness for monitors and a status page for staff.

``/healthz/`` only says the web process and the database answer. Everything after capture (enrichment,
scoring, routing, assignment, SLA sweeps, webhooks) runs in the django-q2 cluster, which can die
without anyone noticing. The checks here read what django-q2 itself records:

- heartbeats: every cluster saves its ``Stat`` to the cache (the database or Redis, both shared) every
  half second with a 3-second expiry, so a cluster listed by ``Stat.get_all()`` was alive just now;
- the queue: the ORM broker's ``OrmQ`` rows, or the Redis list;
- the schedules' ``next_run``, which the scheduler moves forward about every 30 seconds;
- ``Failure`` rows;
- the work itself: how many leads wait for the pipeline and since when (``handoff.pipeline.backlog``,
  registered by handoff with ``register_backlog``, since this module imports no app). The broker is only
  a wake-up: an empty queue says nothing when Redis has just lost every task, the leads still say it.

No check reads task arguments or lead data: the readiness answer is public.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.db.models import Count, Max, Min
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_safe
from django_q.brokers import Broker, get_broker
from django_q.brokers.orm import ORM
from django_q.brokers.redis_broker import Redis
from django_q.conf import Conf
from django_q.models import Failure, OrmQ, Schedule, Task
from django_q.signing import BadSignature, SignedPackage
from django_q.status import Stat

logger = logging.getLogger(__name__)

FAILURE_WINDOW = timedelta(hours=24)
# Failed tasks this recent make the answer "degraded" (still 200: the worker runs, something in it fails).
RECENT_FAILURE_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class BacklogState:
    waiting: int
    oldest_due_at: datetime | None


BacklogProbe = Callable[..., BacklogState]
_backlog_probe: BacklogProbe | None = None


def register_backlog(probe: BacklogProbe) -> None:
    """Called by the app that owns the pipeline: ``probe(now=...)`` says how much work waits and since when."""
    global _backlog_probe
    _backlog_probe = probe


@dataclass(frozen=True)
class WorkerState:
    cluster_count: int
    last_heartbeat_at: datetime | None
    last_task_at: datetime | None  # the last sign of life once no cluster reports any more

    @property
    def is_alive(self) -> bool:
        return self.cluster_count > 0


@dataclass(frozen=True)
class QueueState:
    broker: str
    queued_count: int
    oldest_queued_at: datetime | None


@dataclass(frozen=True)
class OverdueSchedule:
    name: str
    due_at: datetime


@dataclass(frozen=True)
class HealthReport:
    checked_at: datetime
    worker: WorkerState
    queue: QueueState
    overdue_schedules: tuple[OverdueSchedule, ...]
    failed_task_count: int  # in the last FAILURE_WINDOW; shown, but a failing task is no reason to be unready
    recent_failure_count: int  # in the last RECENT_FAILURE_WINDOW: degraded
    queue_max_age: timedelta
    backlog: BacklogState
    backlog_max_wait: timedelta

    @property
    def oldest_waiting_age(self) -> timedelta | None:
        if self.backlog.oldest_due_at is None:
            return None
        return max(self.checked_at - self.backlog.oldest_due_at, timedelta(0))

    @property
    def is_backlog_stale(self) -> bool:
        age = self.oldest_waiting_age
        return age is not None and age > self.backlog_max_wait

    @property
    def oldest_queued_age(self) -> timedelta | None:
        if self.queue.oldest_queued_at is None:
            return None
        return max(self.checked_at - self.queue.oldest_queued_at, timedelta(0))

    @property
    def is_queue_stale(self) -> bool:
        age = self.oldest_queued_age
        return age is not None and age > self.queue_max_age

    @property
    def is_ready(self) -> bool:
        return (
            self.worker.is_alive
            and not self.is_queue_stale
            and not self.is_backlog_stale
            and not self.overdue_schedules
        )

    @property
    def status(self) -> str:
        if not self.is_ready:
            return "fail"
        return "degraded" if self.recent_failure_count else "ok"


# --- Checks -----------------------------------------------------------------------------------------


def worker_state() -> WorkerState:
    """The clusters that saved a heartbeat in the last few seconds, and when a task last finished."""
    # A cluster saves a final "Stopped" heartbeat on its way out; it no longer serves the queue.
    running = [stat for stat in Stat.get_all() if str(stat.status) != str(Conf.STOPPED)]
    last_task_at = Task.objects.aggregate(last=Max("stopped"))["last"]
    return WorkerState(
        cluster_count=len(running),
        last_heartbeat_at=max((stat.timestamp for stat in running), default=None),
        last_task_at=last_task_at,
    )


def queue_state(*, now: datetime, broker: Broker | None = None) -> QueueState:
    """How many tasks wait for a worker, and since when the oldest one waits."""
    broker = broker or get_broker()
    if isinstance(broker, ORM):
        # The ORM broker stores the enqueue time in `lock` (for a task whose worker died: when its retry fell
        # due); a task a worker holds now is locked into the future.
        waiting = OrmQ.objects.using(Conf.ORM).filter(key=broker.list_key, lock__lte=now)
        row = waiting.aggregate(count=Count("pk"), oldest=Min("lock"))
        return QueueState(broker="orm", queued_count=row["count"], oldest_queued_at=row["oldest"])
    oldest_at = _redis_oldest_enqueued_at(broker) if isinstance(broker, Redis) else None
    return QueueState(
        broker=type(broker).__name__.lower(), queued_count=broker.queue_size(), oldest_queued_at=oldest_at
    )


def _redis_oldest_enqueued_at(broker: Redis) -> datetime | None:
    # The list's head is the next task out; its package carries the time `async_task` made it.
    package = broker.connection.lindex(broker.list_key, 0)
    if package is None:
        return None
    try:
        return SignedPackage.loads(package).get("started")
    except BadSignature:
        return None


def overdue_schedules(*, now: datetime, grace: timedelta) -> tuple[OverdueSchedule, ...]:
    """Schedules whose next run is more than two of their intervals plus ``grace`` in the past.

    A running scheduler moves ``next_run`` forward about every 30 seconds, so one that falls this far behind
    means no scheduler serves it (no cluster, or one whose scheduler is off or failing).
    """
    late = Schedule.objects.exclude(repeats=0).filter(next_run__lt=now - grace).order_by("next_run")
    return tuple(
        OverdueSchedule(name=schedule.name or schedule.func, due_at=schedule.next_run)
        for schedule in late
        if schedule.next_run < now - 2 * _interval(schedule) - grace
    )


def _interval(schedule: Schedule) -> timedelta:
    if schedule.schedule_type == Schedule.ONCE:
        return timedelta(0)
    if schedule.schedule_type == Schedule.CRON:
        # A cron expression has no fixed interval (and needs croniter, which we do not install).
        return timedelta(days=1)
    return schedule.calculate_next_run(schedule.next_run) - schedule.next_run


def failed_task_count(*, now: datetime, window: timedelta = FAILURE_WINDOW) -> int:
    return Failure.objects.filter(stopped__gte=now - window).count()


def backlog_state(*, now: datetime) -> BacklogState:
    return BacklogState(0, None) if _backlog_probe is None else _backlog_probe(now=now)


def check_health(*, now: datetime) -> HealthReport:
    """Every check, with the thresholds from settings."""
    return HealthReport(
        checked_at=now,
        worker=worker_state(),
        queue=queue_state(now=now),
        overdue_schedules=overdue_schedules(now=now, grace=settings.HEALTH_SCHEDULE_GRACE),
        failed_task_count=failed_task_count(now=now),
        recent_failure_count=failed_task_count(now=now, window=RECENT_FAILURE_WINDOW),
        queue_max_age=settings.HEALTH_QUEUE_MAX_AGE,
        backlog=backlog_state(now=now),
        backlog_max_wait=settings.HEALTH_PIPELINE_MAX_WAIT,
    )


# --- Presentation -----------------------------------------------------------------------------------


def report_as_json(report: HealthReport) -> dict[str, Any]:
    """The public readiness answer: states, times and counts; no task names, arguments or hosts."""
    age = report.oldest_queued_age
    waiting_age = report.oldest_waiting_age
    heartbeat_age = _age_seconds(report.checked_at, report.worker.last_heartbeat_at)
    return {
        "status": report.status,
        "checked_at": report.checked_at.isoformat(),
        "checks": {
            "worker": {
                "ok": report.worker.is_alive,
                "clusters": report.worker.cluster_count,
                "seconds_since_heartbeat": heartbeat_age,
                "last_task_at": _iso(report.worker.last_task_at),
            },
            "queue": {
                "ok": not report.is_queue_stale,
                "broker": report.queue.broker,
                "queued": report.queue.queued_count,
                "oldest_age_seconds": None if age is None else round(age.total_seconds()),
                "max_age_seconds": round(report.queue_max_age.total_seconds()),
            },
            "pipeline": {
                "ok": not report.is_backlog_stale,
                "waiting": report.backlog.waiting,
                "oldest_age_seconds": None if waiting_age is None else round(waiting_age.total_seconds()),
                "max_age_seconds": round(report.backlog_max_wait.total_seconds()),
            },
            "schedules": {"ok": not report.overdue_schedules, "overdue": len(report.overdue_schedules)},
            "failures": {
                "ok": report.recent_failure_count == 0,
                "last_hour": report.recent_failure_count,
                "last_24h": report.failed_task_count,
            },
        },
    }


@dataclass(frozen=True)
class StatusLine:
    key: str
    label: str
    is_ok: bool
    text: str


def describe(report: HealthReport) -> list[StatusLine]:
    """The report in words, for the staff status page."""
    worker, now = report.worker, report.checked_at
    if worker.is_alive:
        assert worker.last_heartbeat_at is not None  # a cluster counts once it has saved a heartbeat
        clusters = "1 cluster" if worker.cluster_count == 1 else f"{worker.cluster_count} clusters"
        worker_text = f"running — last seen {_words(now - worker.last_heartbeat_at)} ago ({clusters})"
    else:
        last_task = f"; last task finished {_words(now - worker.last_task_at)} ago" if worker.last_task_at else ""
        worker_text = f"not running — no cluster has reported in the last few seconds{last_task}"
    age = report.oldest_queued_age
    if age is None:
        queue_text = "none waiting"
    else:
        queue_text = (
            f"{_words(age)} ({report.queue.queued_count} waiting; more than {_words(report.queue_max_age)} is stale)"
        )
    overdue = ", ".join(f"{item.name} (due {_words(now - item.due_at)} ago)" for item in report.overdue_schedules)
    waiting_age = report.oldest_waiting_age
    if waiting_age is None:
        backlog_text = "none waiting"
    else:
        backlog_text = (
            f"{_words(waiting_age)} ({report.backlog.waiting} waiting; "
            f"more than {_words(report.backlog_max_wait)} is stale)"
        )
    return [
        StatusLine("worker", "Task worker", worker.is_alive, worker_text),
        StatusLine("pipeline", "Oldest lead waiting for the pipeline", not report.is_backlog_stale, backlog_text),
        StatusLine("queue", "Oldest queued task", not report.is_queue_stale, queue_text),
        StatusLine("schedules", "Overdue schedules", not report.overdue_schedules, overdue or "none"),
        StatusLine(
            "failures",
            "Failed tasks in the last hour (24 h)",
            report.recent_failure_count == 0,
            f"{report.recent_failure_count} ({report.failed_task_count})",
        ),
    ]


def _words(duration: timedelta) -> str:
    seconds = max(int(duration.total_seconds()), 0)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def _age_seconds(now: datetime, at: datetime | None) -> float | None:
    return None if at is None else round(max((now - at).total_seconds(), 0.0), 1)


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


# --- Views ------------------------------------------------------------------------------------------


@require_safe  # uptime monitors often ask with HEAD
@never_cache
def ready(request: HttpRequest) -> HttpResponse:
    """Readiness for uptime monitors: 200 when the worker keeps up, 503 when it is down or behind."""
    try:
        report = check_health(now=timezone.now())
    except Exception:
        # A broker or cache that does not answer is itself "not ready"; the reason goes to the log only.
        logger.exception("Health checks could not run")
        return JsonResponse({"status": "fail", "error": "checks could not run"}, status=503)
    return JsonResponse(report_as_json(report), status=200 if report.is_ready else 503)


@require_GET
def status_page(request: HttpRequest) -> HttpResponse:
    """The same checks in words, in admin (wrapped in ``admin_view``: staff only, never cached)."""
    report = check_health(now=timezone.now())
    context = {
        **admin.site.each_context(request),
        "title": "Task worker status",
        "report": report,
        "lines": describe(report),
        "can_view_failures": request.user.has_perm("django_q.view_failure"),
        "task_queue_label": Conf.LABEL,  # django-q2's admin section is named after Q_CLUSTER["label"]
    }
    return render(request, "admin/status.html", context)
