"""Every captured lead reaches assigned or parked: capture and pipeline under load (issue 12).

Starts the app as an operator would (gunicorn, 4 sync workers, DEBUG=0, and the default ``manage.py qcluster``)
on a fresh database loaded with ``load_demo``, and sends real HTTP submissions from 127.0.0.1, half through the
API (``POST /api/submissions/`` with a capture-scope key) and half through the public form (``POST /f/<slug>/``
with render tokens made by ``leads.tokens`` a minute in the past, so they pass the time trap). Every
submission is a VP at a directory company whose VPs score as MQLs once enriched (Acme Analytics, Delta
Fintech), so a lead routed without enrichment shows (it scores 5, not 60).

load (default)
    N submissions (--submissions, 2,000) at concurrency C (--concurrency, 16); optionally kills the whole
    worker with SIGKILL halfway and restarts it (--kill-worker), or kills the bench's own redis-server
    halfway and starts it again (--restart-redis); waits for the pipeline to drain, then prints: sent,
    stored, lost, duplicate leads, 5xx, drain time, p50/p95 submit -> assigned-or-parked, the leads
    routed without enrichment while the providers were healthy (must be 0), the leads that ended below the
    MQL threshold (must be 0), readiness, and the broker queue with the assignment notifications sent.
throughput
    (a) capture: submissions stored per second under gunicorn, as fast as possible at concurrency C (wrk,
        fed a file of pre-made submissions), in rounds interleaved with the floor's POST /insert4
        (/work/shared/floor, gunicorn 4 sync workers, 10,000 rows) driven by the same wrk script;
    (b) pipeline: a backlog of --backlog (10,000) due leads inserted in bulk with the worker stopped, then
        the default qcluster started and one run_pipeline queued; leads taken from due to assigned or
        parked per second until drained, and pipeline / capture (goal >= 1.0);
    (c) steady load at half the measured capture rate for --steady-seconds (60) with the worker running:
        p50/p95 submit -> assigned-or-parked (goal p95 <= 60 s);
    (d) in-process, one batch (pipeline.BATCH_SIZE, 200) of due leads: ms and queries per lead (where the time goes).

    .venv/bin/python bench/pipeline_load.py [load] [--submissions 2000] [--concurrency 16] [--kill-worker]
    .venv/bin/python bench/pipeline_load.py load --redis --restart-redis
    .venv/bin/python bench/pipeline_load.py throughput [--rounds 3] [--duration 20] [--backlog 10000]

Database: a temporary SQLite file, or BENCH_DATABASE_URL=postgres://user@host:port/bench_... (the name must
start with "bench": the bench drops and rebuilds its public schema; the floor gets <name>_floor). Redis:
--redis starts a private redis-server (no persistence, the Redis default) on a free port for the cache and
the broker; BENCH_REDIS_URL uses a running one instead (never flushed or purged). Rate limits are raised for the bench
only: the API through API_RATE_PER_KEY, the form's per-address limit by giving every form submission its own
client address (PROXY_COUNT=1 and X-Forwarded-For). Everything the bench starts is stopped when it ends.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import logging
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TypedDict
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
FLOOR = Path(os.environ.get("BENCH_FLOOR_DIR", ROOT.parent / "shared" / "floor"))
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

FORM_SLUG = "b2b-demand-gen-report"  # the demo white paper: opt-in, not double opt-in
# Directory companies whose VPs reach the demo model's MQL threshold once enriched (industry, size, country).
MQL_COMPANIES = (("acme-analytics.example", "Acme Analytics"), ("deltafintech.example", "Delta Fintech"))
TITLES = ("VP Engineering", "VP Sales", "VP Marketing")
MQL_THRESHOLD = 60  # the demo scoring model's (scoring.demo); these leads score exactly 60 when enriched
FINAL_STEPS = ("assigned", "parked")
POLL_SECONDS = 1.0


# --- Setup ------------------------------------------------------------------------------------------


@dataclass
class Bench:
    workdir: Path
    database_url: str
    redis_url: str
    port: int
    env: dict[str, str]
    processes: Processes

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_environment(*, workdir: Path, database_url: str, redis_url: str, port: int) -> dict[str, str]:
    """The environment of gunicorn, the worker and this process: DEBUG=0 over plain http on 127.0.0.1."""
    env = {key: value for key, value in os.environ.items() if key not in {"REDIS_URL", "DATABASE_URL", "Q_SYNC"}}
    env.update(
        DJANGO_SETTINGS_MODULE="leadsite.settings",
        DATABASE_URL=database_url,
        DEBUG="0",
        SECRET_KEY=f"bench-pipeline-load-{secrets.token_hex(24)}",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SITE_URL=f"http://127.0.0.1:{port}",
        # DEBUG=0 turns these on by default; the bench speaks plain http on localhost.
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        SECURE_HSTS_SECONDS="0",
        # Every form submission comes from its own address (X-Forwarded-For), like many visitors behind a proxy:
        # the per-address form limit (leads.spam.RATE_LIMIT, 20 per 10 minutes) has no setting of its own.
        PROXY_COUNT="1",
        API_RATE_PER_KEY="100000000/min",
        API_RATE_ANONYMOUS="100000000/min",
        STATIC_ROOT=str(workdir / "static"),
        MEDIA_ROOT=str(workdir / "media"),  # load_demo writes the forms' PDFs here, not into the repository
        EMAIL_URL="locmem:",
        LOG_LEVEL="WARNING",
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def prepare_database(database_url: str, workdir: Path) -> None:
    if not database_url.startswith(("postgres://", "postgresql://")):
        return  # a new SQLite file in the bench's own directory
    import psycopg
    from psycopg import sql

    name = urlsplit(database_url).path.lstrip("/")
    if not name.startswith("bench"):
        raise SystemExit(
            f"BENCH_DATABASE_URL names {name!r}: the bench rebuilds its database, so its name must start with 'bench'"
        )
    _create_postgres_database(database_url, name)
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("DROP SCHEMA IF EXISTS public CASCADE")
        connection.execute("CREATE SCHEMA public")
        connection.execute(sql.SQL("GRANT ALL ON SCHEMA public TO PUBLIC"))


def _create_postgres_database(database_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    admin_url = urlunsplit(urlsplit(database_url)._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def manage(bench: Bench, *arguments: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *arguments], env=bench.env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip


def build_app_database(bench: Bench, *, demo_leads: int) -> None:
    started = time.monotonic()
    prepare_database(bench.database_url, bench.workdir)
    manage(bench, "migrate", "--noinput", "-v", "0")
    manage(bench, "createcachetable")
    manage(bench, "collectstatic", "--noinput", "-v", "0")  # DEBUG=0 serves hashed static files
    manage(bench, "load_demo", "--demo-leads", str(demo_leads))
    os.environ.update(bench.env)
    import django

    django.setup()
    print(f"database ready (migrate, load_demo, collectstatic) in {time.monotonic() - started:.0f} s", flush=True)


# --- Processes --------------------------------------------------------------------------------------


class Processes:
    """What the bench started, each in its own process group, stopped in reverse order at the end."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, command: list[str], env: dict[str, str], cwd: Path = ROOT) -> subprocess.Popen[bytes]:
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115  (closed with the process)
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
        log.close()
        self.running[name] = process
        return process

    def kill(self, name: str, sig: int = signal.SIGTERM, wait: float = 30.0) -> None:
        process = self.running.pop(name, None)
        if process is None:
            return
        try:
            os.killpg(process.pid, sig)  # the group of the process we started: the cluster's children too
            process.wait(timeout=wait)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        if sig != signal.SIGKILL:
            with contextlib.suppress(ProcessLookupError):  # children that outlived their parent
                os.killpg(process.pid, signal.SIGKILL)

    def stop_all(self) -> None:
        for name in reversed(list(self.running)):
            self.kill(name)


def wait_until_up(url: str, process: subprocess.Popen[bytes], *, timeout: float = 90.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            command = process.args
            assert isinstance(command, list)  # Processes.start takes an argument list
            raise SystemExit(f"{os.fsdecode(command[0])} exited with {process.returncode} before {url} answered")
        try:
            if httpx.get(url, timeout=2, trust_env=False).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s")


def gunicorn_command(app: str, port: int, *extra: str) -> list[str]:
    return [str(BIN / "gunicorn"), app, "-k", "sync", "-w", "4", "-b", f"127.0.0.1:{port}", "--timeout", "120",
            "--backlog", "2048", "--log-level", "warning", *extra]  # fmt: skip


def start_web(bench: Bench) -> None:
    process = bench.processes.start("gunicorn", gunicorn_command("leadsite.wsgi:application", bench.port), bench.env)
    wait_until_up(f"{bench.base_url}/healthz/", process)


def start_worker(bench: Bench) -> None:
    bench.processes.start("worker", [sys.executable, str(ROOT / "manage.py"), "qcluster"], bench.env)


def start_redis(bench: Bench, port: int) -> None:
    import redis

    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
               "--dir", str(bench.workdir)]  # fmt: skip
    process = bench.processes.start("redis", command, bench.env, cwd=bench.workdir)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            redis.Redis(port=port, socket_connect_timeout=0.5).ping()
            return
        except redis.RedisError:
            if process.poll() is not None:
                raise SystemExit("redis-server exited at start") from None
            time.sleep(0.1)
    raise SystemExit("redis-server did not answer")


def log_errors(bench: Bench) -> None:
    """What the servers logged at WARNING and above, by logger and message, so a failure is not silent."""
    import re

    record = re.compile(r"^[\d-]+ [\d:,]+ (WARNING|ERROR|CRITICAL) (\S+) (.*)$")
    for log in sorted(bench.workdir.glob("*.log")):
        kinds: Counter[str] = Counter()
        for line in log.read_text(errors="replace").splitlines():
            if match := record.match(line):
                kinds[f"{match[1]} {match[2]} {re.sub(r'[0-9]+', 'N', match[3])[:110]}"] += 1
        if kinds:
            print(f"  {log.name}: {sum(kinds.values())} log line(s) at WARNING or above")
            for text, count in kinds.most_common(5):
                print(f"    {count} x {text}")


# --- Submissions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    index: int
    channel: str  # "api" or "form"
    path: str
    content_type: str
    body: str
    client_address: str
    email: str


@dataclass(frozen=True)
class Answer:
    index: int
    status: int  # 0: no answer (connection error, timeout)
    sent_at: float  # time.time()
    seconds: float
    error: str = ""


class SubmissionMaker:
    """Valid submissions of the demo white-paper form, alternately through the API and the public form."""

    def __init__(self) -> None:
        from django.utils import timezone

        from integrations import keys
        from integrations.models import ApiKey, ApiKeyScope
        from leads import selectors

        new_key = keys.generate_key()
        ApiKey.objects.create(name="pipeline_load bench", scope=ApiKeyScope.CAPTURE, prefix=new_key.prefix,
                              hashed_key=new_key.hashed, created_at=timezone.now())  # fmt: skip
        self.authorization = f"Api-Key {new_key.plaintext}"
        self.form = selectors.forms_with_fields().get(slug=FORM_SLUG)
        self.consent_text = selectors.current_consent_text(self.form)
        self.fields = selectors.fields_to_show(
            fields=self.form.fields.all(), lead=None, max_new_questions=self.form.progressive_questions
        )

    def make(self, prefix: str, count: int, *, start: int = 0) -> list[Submission]:
        from django.utils import timezone

        from leads import tokens

        rendered_at = timezone.now() - timedelta(minutes=1)  # past the time trap (leads.spam.MIN_FILL_DURATION)
        made = []
        for i in range(start, start + count):
            domain, company = MQL_COMPANIES[i % len(MQL_COMPANIES)]
            email = f"{prefix}{i}@{domain}"
            person = {"first_name": "Bench", "last_name": f"Lead{i}", "email": email, "company_name": company,
                      "job_title": TITLES[i % len(TITLES)]}  # fmt: skip
            address = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
            if i % 2 == 0:
                body = json.dumps({"form": FORM_SLUG, "answers": person, "consent": {"given": True},
                                   "attribution": {"utm_source": "bench", "utm_medium": "api"}})  # fmt: skip
                made.append(Submission(i, "api", "/api/submissions/", "application/json", body, address, email))
            else:
                assert self.consent_text is not None, f"the {FORM_SLUG} form has no consent text"
                token = tokens.issue_render_token(
                    form=self.form, consent_text=self.consent_text, fields=self.fields, now=rendered_at
                )
                fields = {"token": token, **person, "consent": "on", "company_website": "", "utm_source": "bench",
                          "utm_medium": "form"}  # fmt: skip
                made.append(Submission(i, "form", f"/f/{FORM_SLUG}/", "application/x-www-form-urlencoded",
                                       urlencode(fields), address, email))  # fmt: skip
        return made


def send_submissions(
    bench: Bench,
    submissions: list[Submission],
    authorization: str,
    *,
    concurrency: int,
    rate: float = 0.0,
    time_limit: float = 600.0,
    on_sent: Callable[[int], None] | None = None,
) -> list[Answer]:
    """POST each submission once from ``concurrency`` threads; at ``rate`` a second if given. Bounded in time."""
    import httpx

    answers: list[Answer] = []
    lock = threading.Lock()
    order = itertools.count()
    started = time.monotonic()

    def sender() -> None:
        with httpx.Client(base_url=bench.base_url, timeout=60, trust_env=False) as client:
            while (position := next(order)) < len(submissions) and time.monotonic() - started < time_limit:
                if rate:
                    time.sleep(max(0.0, started + position / rate - time.monotonic()))
                answer = _post(client, submissions[position], authorization)
                with lock:
                    answers.append(answer)
                if on_sent:
                    on_sent(position)

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def _post(client: object, submission: Submission, authorization: str) -> Answer:
    import httpx

    headers = {"Content-Type": submission.content_type, "X-Forwarded-For": submission.client_address}
    if submission.channel == "api":
        headers["Authorization"] = authorization
    sent_at, started = time.time(), time.monotonic()
    try:
        response = client.post(submission.path, content=submission.body.encode(), headers=headers)  # type: ignore[attr-defined]
    except httpx.HTTPError as error:
        return Answer(submission.index, 0, sent_at, time.monotonic() - started, error.__class__.__name__)
    return Answer(submission.index, response.status_code, sent_at, time.monotonic() - started)


# --- Watching the pipeline --------------------------------------------------------------------------


def bench_leads(prefix: str):  # a QuerySet of Lead (Django is imported late)
    from leads.models import Lead

    return Lead.objects.filter(email__startswith=prefix)


@dataclass
class Drain:
    """Polls the database until the leads of ``prefix`` are all assigned or parked and nothing is due."""

    prefix: str
    seen_final_at: dict[int, float] = field(default_factory=dict)  # lead id -> time.time() first seen final
    history: list[tuple[float, int]] = field(default_factory=list)  # (time.time(), leads final)

    def poll(self) -> tuple[int, int]:
        """Record newly final leads; returns (bench leads not final, leads of any kind due now)."""
        from django.utils import timezone

        from leads.models import Lead

        now = time.time()
        final = bench_leads(self.prefix).filter(pipeline_step__in=FINAL_STEPS).values_list("pk", flat=True)
        for pk in final:
            self.seen_final_at.setdefault(pk, now)
        self.history.append((now, len(self.seen_final_at)))
        stored = bench_leads(self.prefix).count()
        due = Lead.objects.filter(pipeline_due_at__lte=timezone.now()).count()
        return stored - len(self.seen_final_at), due

    @contextmanager
    def watching(self) -> Iterator[None]:
        """Poll in a thread meanwhile (while submissions are sent), so a lead is seen when it gets done."""
        from django.db import connection

        stop = threading.Event()

        def watch() -> None:
            while not stop.wait(POLL_SECONDS):
                self.poll()
            connection.close()

        thread = threading.Thread(target=watch, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def wait(self, *, timeout: float, report_every: float = 30.0) -> float | None:
        """Seconds until drained (None on timeout); prints progress now and then."""
        started = last_report = time.monotonic()
        while time.monotonic() - started < timeout:
            left, due = self.poll()
            if left <= 0 and due == 0:
                return time.monotonic() - started
            if time.monotonic() - last_report >= report_every:
                last_report = time.monotonic()
                print(f"    ... {time.monotonic() - started:4.0f} s: {len(self.seen_final_at)} done, {left} to go, "
                      f"{due} due now, {self.rate_lately():.1f} leads/s lately", flush=True)  # fmt: skip
            time.sleep(POLL_SECONDS)
        return None

    def rate_lately(self, window: float = 30.0) -> float:
        if len(self.history) < 2:
            return 0.0
        end_time, end_count = self.history[-1]
        earlier = [(t, c) for t, c in self.history if t >= end_time - window] or self.history[:1]
        start_time, start_count = earlier[0]
        return (end_count - start_count) / (end_time - start_time) if end_time > start_time else 0.0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def latencies(prefix: str, seen_final_at: dict[int, float]) -> tuple[list[float], list[float]]:
    """Submit -> assigned-or-parked per lead: as recorded (pipeline_step_at - created_at) and as seen by polling."""
    recorded, observed = [], []
    rows = bench_leads(prefix).filter(pipeline_step__in=FINAL_STEPS).values_list("pk", "created_at", "pipeline_step_at")
    for pk, created_at, step_at in rows:
        recorded.append((step_at - created_at).total_seconds())
        if pk in seen_final_at:
            observed.append(seen_final_at[pk] - created_at.timestamp())
    return recorded, observed


def routed_unenriched(prefix: str) -> int:
    """Routed while enrichment was pending, or marked failed/partial although no provider run failed."""
    from django.db.models import Exists, OuterRef, Q

    from leads.models import EnrichmentStatus, ProviderRun, ProviderRunStatus

    failed_run = ProviderRun.objects.filter(lead=OuterRef("pk"), status=ProviderRunStatus.FAILED)
    unenriched = Q(enrichment_status=EnrichmentStatus.PENDING) | (
        Q(enrichment_status__in=[EnrichmentStatus.FAILED, EnrichmentStatus.PARTIAL]) & ~Exists(failed_run)
    )
    return bench_leads(prefix).filter(routed_at__isnull=False).filter(unenriched).count()


def print_outcomes(prefix: str) -> None:
    from django.db.models import Count, Max, Min

    from leads.models import ProviderRun, ProviderRunStatus, Stage, StageChange

    leads = bench_leads(prefix)
    steps = Counter(
        dict(leads.order_by().values_list("pipeline_step").annotate(n=Count("pk")).values_list("pipeline_step", "n"))
    )
    reasons: Counter[str] = Counter()
    for reason, n in (
        leads.order_by().values_list("pipeline_reason").annotate(n=Count("pk")).values_list("pipeline_reason", "n")
    ):
        reasons[reason.split(":")[0].split(".")[0][:60]] += n
    scores = leads.aggregate(low=Min("score"), high=Max("score"))
    failed_runs = ProviderRun.objects.filter(lead__in=leads, status=ProviderRunStatus.FAILED).count()
    # Every bench lead is a VP at an MQL-grade company: below the threshold means scored without what enrichment found.
    below = leads.filter(score__lt=MQL_THRESHOLD).count()
    through_nurture = StageChange.objects.filter(lead__in=leads, to_stage=Stage.NURTURE).values("lead").distinct()
    print(f"  steps: {dict(steps)}; MQL: {leads.filter(stage=Stage.MQL).count()}, not MQL: "
          f"{leads.exclude(stage=Stage.MQL).count()}; score {scores['low']}..{scores['high']}")  # fmt: skip
    print(f"  ended below the MQL threshold (must be 0): {below}, owned among them: "
          f"{leads.filter(score__lt=MQL_THRESHOLD, owner__isnull=False).count()}; leads moved to nurture at "
          f"some point: {through_nurture.count()}")  # fmt: skip
    print(f"  reasons: {dict(reasons.most_common(4))}")
    print(f"  provider runs failed: {failed_runs}; routed without enrichment while providers were healthy: "
          f"{routed_unenriched(prefix)} (must be 0)")  # fmt: skip


def readiness(bench: Bench) -> str:
    import httpx

    try:
        response = httpx.get(f"{bench.base_url}/healthz/ready/", timeout=10, trust_env=False)
        checks = response.json().get("checks", {})
        return f"{response.status_code} pipeline={checks.get('pipeline')} queue={checks.get('queue', {}).get('queued')}"
    except (httpx.HTTPError, ValueError) as error:
        return f"no answer ({error.__class__.__name__})"


def task_backlog(*, seconds: float) -> str:
    """The broker's queue now and ``seconds`` later, and the assignment notifications sent so far."""
    from django_q.brokers import get_broker

    from handoff.models import Notification, NotificationKind

    broker = get_broker()
    before, started = broker.queue_size() or 0, time.monotonic()
    time.sleep(seconds)
    after, elapsed = broker.queue_size() or 0, time.monotonic() - started
    notifications = Notification.objects.filter(kind=NotificationKind.ASSIGNED)
    return (
        f"broker queue when drained: {before} task(s), {elapsed:.0f} s later {after} ({(before - after) / elapsed:.1f}"
        f" tasks/s); assignment notifications sent {notifications.filter(sent_at__isnull=False).count()} of "
        f"{notifications.count()}"
    )


def count_leased() -> int:
    from django.utils import timezone

    from leads.models import Lead

    return Lead.objects.filter(pipeline_lease_until__gt=timezone.now()).count()


# --- load -------------------------------------------------------------------------------------------


def run_load(bench: Bench, args: argparse.Namespace) -> None:
    from django.db import connection

    from leads.models import Submission as SubmissionRow
    from leads.models import SubmissionStatus

    maker = SubmissionMaker()
    prefix = f"plb-{secrets.token_hex(3)}-"
    submissions = maker.make(prefix, args.submissions)
    start_web(bench)
    start_worker(bench)
    halfway = threading.Event()
    disruption: Disruption = {}
    chaos = threading.Thread(target=_disrupt, args=(bench, args, halfway, disruption), daemon=True)
    chaos.start()

    print(f"sending {len(submissions)} submissions at concurrency {args.concurrency} ...", flush=True)
    drain = Drain(prefix)
    started = time.monotonic()
    with drain.watching():
        answers = send_submissions(bench, submissions, maker.authorization, concurrency=args.concurrency,
                                   time_limit=args.send_timeout,
                                   on_sent=lambda i: halfway.set() if i >= len(submissions) // 2 else None)  # fmt: skip
    send_seconds = time.monotonic() - started
    chaos.join(timeout=120)
    print(
        f"  sent in {send_seconds:.1f} s ({len(answers) / send_seconds:.0f}/s); waiting for the pipeline ...",
        flush=True,
    )
    drained = drain.wait(timeout=args.drain_timeout)

    by_index = {s.index: s for s in submissions}
    stored_emails = Counter(bench_leads(prefix).values_list("email", flat=True))
    accepted = [a for a in answers if 200 <= a.status < 300]
    lost = [a for a in accepted if by_index[a.index].email not in stored_emails]
    statuses = Counter(a.status for a in answers)
    recorded, observed = latencies(prefix, drain.seen_final_at)
    print(f"\nload: {len(submissions)} submissions (API {sum(s.channel == 'api' for s in submissions)}, form "
          f"{sum(s.channel == 'form' for s in submissions)}), concurrency {args.concurrency}, "
          f"{'PostgreSQL' if bench.is_postgres else 'SQLite'}{' + Redis' if bench.redis_url else ''}")  # fmt: skip
    print(f"  sent: {len(answers)}  answers: {dict(sorted(statuses.items()))}  5xx: "
          f"{sum(a.status >= 500 for a in answers)}  no answer: {statuses.get(0, 0)}")  # fmt: skip
    print(f"  stored: {len(stored_emails)} leads  lost (2xx, no lead): {len(lost)}  duplicate leads: "
          f"{sum(n - 1 for n in stored_emails.values() if n > 1)}  held as spam: "
          f"{SubmissionRow.objects.filter(status=SubmissionStatus.SPAM).count()}")  # fmt: skip
    for line in disruption.get("lines", []):
        print(f"  {line}")
    if disruption.get("window"):
        down_from, down_to = disruption["window"]
        during = [a for a in answers if down_from <= a.sent_at <= down_to]
        print(f"  answers to submissions sent while Redis was down: {dict(Counter(a.status for a in during))}")
    drain_text = (
        f"{drained:.1f} s after the last submission"
        if drained is not None
        else f"NOT drained in {args.drain_timeout:.0f} s"
    )
    print(f"  drain: {drain_text}; {send_seconds + (drained or args.drain_timeout):.1f} s from the first")
    _print_latencies(recorded, observed)
    print_outcomes(prefix)
    print(f"  /healthz/ready/: {readiness(bench)}")
    print(f"  {task_backlog(seconds=30)}")
    connection.close()


def _print_latencies(recorded: list[float], observed: list[float]) -> None:
    if not recorded:
        print("  submit -> assigned/parked: no lead finished")
        return
    print(f"  submit -> assigned/parked (pipeline_step_at - created_at, {len(recorded)} leads): {_spread(recorded)}")
    if observed:
        print(f"  submit -> seen assigned/parked by polling every {POLL_SECONDS:.0f} s: {_spread(observed)}")


def _spread(values: list[float]) -> str:
    return f"p50 {percentile(values, 0.5):.1f} s, p95 {percentile(values, 0.95):.1f} s, max {max(values):.1f} s"


class Disruption(TypedDict, total=False):
    """What ``_disrupt`` did: a line for the report per disruption, and when Redis was down (``time.time()``)."""

    lines: list[str]
    window: tuple[float, float]


def _disrupt(bench: Bench, args: argparse.Namespace, halfway: threading.Event, out: Disruption) -> None:
    """Halfway through the sending: kill the worker (SIGKILL, whole cluster) or Redis, then bring it back."""
    from django.db import connection

    if not (args.kill_worker or args.restart_redis):
        return
    halfway.wait(timeout=args.send_timeout)
    lines: list[str] = []
    if args.kill_worker:
        deadline = time.monotonic() + 15  # kill it with a batch in hand, if it gets one
        while count_leased() == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        leased = count_leased()
        bench.processes.kill("worker", signal.SIGKILL)
        lines.append(f"worker killed (SIGKILL, every cluster process) holding leases on {leased} lead(s); "
                     f"restarted {args.down_seconds:.0f} s later")  # fmt: skip
        time.sleep(args.down_seconds)
        start_worker(bench)
    if args.restart_redis:
        down_from = time.time()
        bench.processes.kill("redis", signal.SIGKILL)
        time.sleep(args.down_seconds)
        start_redis(bench, urlsplit(bench.redis_url).port or 6379)
        out["window"] = (down_from, time.time())
        lines.append(
            f"redis-server killed (SIGKILL; no persistence) and started again after {time.time() - down_from:.1f} s"
        )
    out["lines"] = lines
    connection.close()


# --- throughput -------------------------------------------------------------------------------------

WRK_SCRIPT = r"""
-- Sends the pre-made requests of $BENCH_REQUESTS in order, one per request (path, content type, client
-- address, body; tab-separated), and prints a summary line. Written by bench/pipeline_load.py.
local prepared = {}
local position = 0
wrapped = 0
server_errors = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local authorization = os.getenv("BENCH_API_AUTH") or ""
  for line in io.lines(os.getenv("BENCH_REQUESTS")) do
    local path, ctype, address, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    local headers = {["Content-Type"] = ctype}
    if address ~= "" then headers["X-Forwarded-For"] = address end
    if path:sub(1, 5) == "/api/" then headers["Authorization"] = authorization end
    prepared[#prepared + 1] = wrk.format("POST", path, headers, body)
  end
end

function request()
  position = position + 1
  if position > #prepared then
    position = 1
    wrapped = wrapped + 1
  end
  return prepared[position]
end

function response(status, headers, body)
  if status >= 500 then server_errors = server_errors + 1 end
end

function done(summary, latency, requests)
  local wrapped_total, server_total = 0, 0
  for _, thread in ipairs(threads) do
    wrapped_total = wrapped_total + thread:get("wrapped")
    server_total = server_total + thread:get("server_errors")
  end
  local e = summary.errors
  io.write(string.format(
    "WRKSTATS requests=%d duration_us=%d rps=%.1f p50_ms=%.2f p95_ms=%.2f non2xx3xx=%d sockerr=%d"
    .. " status5xx=%d wrapped=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, e.status,
    e.connect + e.read + e.write + e.timeout, server_total, wrapped_total))
end
"""


def run_wrk(
    bench: Bench, url: str, requests_file: Path, *, concurrency: int, seconds: int, authorization: str = ""
) -> dict[str, float]:
    import re

    script = bench.workdir / "requests.lua"
    if not script.exists():
        script.write_text(WRK_SCRIPT)
    env = dict(os.environ, BENCH_REQUESTS=str(requests_file), BENCH_API_AUTH=authorization)
    command = ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script), url]
    output = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 120).stdout
    match = re.search(r"^WRKSTATS (.*)$", output, re.M)
    if not match:
        raise SystemExit(f"wrk printed no summary:\n{output}")
    return {key: float(value) for key, value in (pair.split("=") for pair in match.group(1).split())}


def write_requests(path: Path, submissions: list[Submission]) -> Path:
    with path.open("w") as out:
        for s in submissions:
            out.write(f"{s.path}\t{s.content_type}\t{s.client_address}\t{s.body}\n")
    return path


def start_floor(bench: Bench) -> str:
    """The floor app (run from its own folder, never copied), seeded with 10,000 rows on the same database kind."""
    port = free_port()
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if bench.is_postgres:
        parts = urlsplit(bench.database_url)
        name = f"{parts.path.lstrip('/')}_floor"
        _create_postgres_database(bench.database_url, name)
        env.update(FLOOR_DB="pg", FLOOR_PG_NAME=name, PGHOST=parts.hostname or "127.0.0.1",
                   PGPORT=str(parts.port or 5432), PGUSER=parts.username or "postgres",
                   PGPASSWORD=parts.password or env.get("PGPASSWORD", "postgres"))  # fmt: skip
    else:
        env.update(FLOOR_DB="sqlite", FLOOR_SQLITE_PATH=str(bench.workdir / "floor.sqlite3"))
    kind = "pg" if bench.is_postgres else "sqlite"
    subprocess.run([sys.executable, str(FLOOR / "seed.py"), kind, "--rows", "10000"], env=env, cwd=bench.workdir,
                   check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    process = bench.processes.start("floor", gunicorn_command("app:application", port, "--chdir", str(FLOOR)), env)
    wait_until_up(f"http://127.0.0.1:{port}/ping", process)
    return f"http://127.0.0.1:{port}"


def measure_capture(bench: Bench, args: argparse.Namespace, maker: SubmissionMaker) -> tuple[float, float, str]:
    """(a) Rounds of floor /insert4 and project capture, interleaved; returns (capture/s, floor/s, prefix)."""
    floor_url = start_floor(bench)
    floor_file = bench.workdir / "floor.requests"
    floor_file.write_text("/insert4\tapplication/x-www-form-urlencoded\t\tname=Ada&source=src01\n")
    prefix = f"plc-{secrets.token_hex(3)}-"
    per_round = args.duration * args.max_rate
    made = 0

    def project_file(count: int) -> Path:
        nonlocal made
        submissions = maker.make(prefix, count, start=made)
        made += count
        return write_requests(bench.workdir / "project.requests", submissions)

    print(f"(a) capture throughput: wrk -t1 -c{args.concurrency} -d{args.duration}s, {args.rounds} round(s) each, "
          f"interleaved (worker stopped)", flush=True)  # fmt: skip
    run_wrk(bench, floor_url + "/insert4", floor_file, concurrency=args.concurrency, seconds=2)  # warm-up
    run_wrk(
        bench,
        bench.base_url,
        project_file(2000),
        concurrency=args.concurrency,
        seconds=2,
        authorization=maker.authorization,
    )
    floors, captures = [], []
    for round_number in range(1, args.rounds + 1):
        floor = run_wrk(bench, floor_url + "/insert4", floor_file, concurrency=args.concurrency, seconds=args.duration)
        floor_rate = (floor["requests"] - floor["non2xx3xx"]) / (floor["duration_us"] / 1e6)
        floors.append(floor_rate)
        print(f"  round {round_number} floor   POST /insert4: {floor_rate:7.1f} inserts/s   p50 {floor['p50_ms']:.0f} "
              f"ms p95 {floor['p95_ms']:.0f} ms  non-2xx {floor['non2xx3xx']:.0f}  errors {floor['sockerr']:.0f}",
              flush=True)  # fmt: skip
        before = bench_leads(prefix).count()
        requests_file = project_file(per_round)
        result = run_wrk(bench, bench.base_url, requests_file, concurrency=args.concurrency, seconds=args.duration,
                         authorization=maker.authorization)  # fmt: skip
        time.sleep(0.5)  # the requests wrk left in flight
        stored = bench_leads(prefix).count() - before
        rate = stored / (result["duration_us"] / 1e6)
        captures.append(rate)
        print(f"  round {round_number} project capture:     {rate:7.1f} stored/s   p50 {result['p50_ms']:.0f} ms "
              f"p95 {result['p95_ms']:.0f} ms  answers/s {result['rps']:.1f}  non-2xx {result['non2xx3xx']:.0f}  "
              f"5xx {result['status5xx']:.0f}  errors {result['sockerr']:.0f}"
              f"{'  (REQUEST FILE WRAPPED: raise --max-rate)' if result['wrapped'] else ''}", flush=True)  # fmt: skip
    bench.processes.kill("floor")
    capture, floor_median = statistics.median(captures), statistics.median(floors)
    print(
        f"  capture (median) {capture:.1f} stored/s; floor (median) {floor_median:.1f}/s; "
        f"ratio {capture / floor_median:.2f}"
    )
    return capture, floor_median, prefix


def clear_capture_leftovers(prefix: str, *, purge_queue: bool) -> int:
    """Take the capture rounds' leads and wake-ups out of the way, so (b) measures exactly the backlog.

    The queue is purged only when it is the bench's own (the ORM broker in its database, or its own Redis).
    """
    from django_q.brokers import get_broker

    bench_leads(prefix).update(pipeline_due_at=None)
    broker = get_broker()
    queued = broker.queue_size() or 0
    if purge_queue:
        broker.purge_queue()
    return queued


def fill_backlog(count: int, prefix: str) -> float:
    """``count`` due leads (VPs at MQL-grade directory companies, confirmed consent, one form activity), in bulk."""
    from django.db import transaction
    from django.utils import timezone

    from leads.models import (
        Activity,
        ActivityKind,
        Consent,
        ConsentSource,
        ConsentStatus,
        Lead,
        LegalBasis,
        PipelineStep,
    )

    started, now = time.monotonic(), timezone.now()
    for start in range(0, count, 1000):
        batch = []
        for i in range(start, min(start + 1000, count)):
            domain, company = MQL_COMPANIES[i % len(MQL_COMPANIES)]
            batch.append(Lead(email=f"{prefix}{i}@{domain}", first_name="Backlog", last_name=f"Lead{i}",
                              company_name=company, job_title=TITLES[i % len(TITLES)], created_at=now,
                              stage_changed_at=now, pipeline_step=PipelineStep.WAITING, pipeline_step_at=now,
                              pipeline_due_at=now))  # fmt: skip
        with transaction.atomic():
            leads = Lead.objects.bulk_create(batch)
            consent = {"legal_basis": LegalBasis.OPT_IN, "text": "Bench consent.", "source": ConsentSource.FORM,
                       "given_at": now, "status": ConsentStatus.CONFIRMED, "confirmed_at": now}  # fmt: skip
            Consent.objects.bulk_create(Consent(lead=lead, **consent) for lead in leads)
            Activity.objects.bulk_create(
                Activity(lead=lead, kind=ActivityKind.FORM_SUBMITTED, occurred_at=now, created_at=now) for lead in leads
            )
    return time.monotonic() - started


def measure_pipeline(bench: Bench, args: argparse.Namespace) -> tuple[float, bool]:
    """(b) The default worker against a pre-filled backlog; returns (leads/s, drained)."""
    from django_q.tasks import async_task

    prefix = f"plp-{secrets.token_hex(3)}-"
    seconds = fill_backlog(args.backlog, prefix)
    print(f"\n(b) pipeline throughput: {args.backlog} due leads inserted in {seconds:.1f} s (worker stopped); "
          f"starting qcluster and queueing one handoff.tasks.run_pipeline", flush=True)  # fmt: skip
    drain = Drain(prefix)
    started = time.monotonic()
    start_worker(bench)
    async_task("handoff.tasks.run_pipeline")
    drained = drain.wait(timeout=args.backlog_timeout)
    elapsed = drained if drained is not None else time.monotonic() - started
    done = len(drain.seen_final_at)
    rate = done / elapsed
    first = next((t for t, n in drain.history if n > 0), None)
    steady = ""
    if first is not None and drain.history[-1][0] > first:
        steady = f" (from the first lead done: {done / (drain.history[-1][0] - first):.1f}/s)"
    state = f"drained in {elapsed:.0f} s" if drained is not None else f"NOT drained: {done} done in {elapsed:.0f} s"
    print(f"  {state}: {rate:.1f} leads/s from worker start{steady}")
    print_outcomes(prefix)
    if drained is None:
        bench_leads(prefix).exclude(pipeline_step__in=FINAL_STEPS).update(pipeline_due_at=None)
        print("  the rest was taken out of the queue (pipeline_due_at cleared) so that (c) starts without a backlog")
    return rate, drained is not None


def measure_steady(bench: Bench, args: argparse.Namespace, maker: SubmissionMaker, capture_rate: float) -> list[float]:
    """(c) Half the capture rate for --steady-seconds with the worker running; returns the recorded latencies."""
    rate = capture_rate / 2
    count = int(rate * args.steady_seconds)
    prefix = f"pls-{secrets.token_hex(3)}-"
    submissions = maker.make(prefix, count)
    print(
        f"\n(c) steady load: {rate:.1f} submissions/s for {args.steady_seconds} s ({count}), worker running", flush=True
    )
    drain = Drain(prefix)
    with drain.watching():
        answers = send_submissions(bench, submissions, maker.authorization, concurrency=args.concurrency, rate=rate,
                                   time_limit=args.steady_seconds * 3)  # fmt: skip
    drained = drain.wait(timeout=args.drain_timeout)
    recorded, observed = latencies(prefix, drain.seen_final_at)
    statuses = Counter(a.status for a in answers)
    drain_text = f"drained {drained:.0f} s" if drained is not None else f"NOT drained {args.drain_timeout:.0f} s"
    stored = bench_leads(prefix).count()
    print(f"  answers: {dict(sorted(statuses.items()))}; stored {stored}; {drain_text} after the last submission")
    _print_latencies(recorded, observed)
    print_outcomes(prefix)
    print(f"  {task_backlog(seconds=30)}")
    return recorded


def measure_batch_in_process() -> None:
    """(d) One batch (``pipeline.BATCH_SIZE``) of due leads through ``process_due_leads`` here: time, queries a lead."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from handoff import pipeline

    prefix = f"pld-{secrets.token_hex(3)}-"
    fill_backlog(pipeline.BATCH_SIZE, prefix)
    logging.disable(logging.CRITICAL)  # a failing step is counted below, not printed 50 times
    try:
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            taken = pipeline.process_due_leads(now=timezone.now(), worker="bench-in-process")
            seconds = time.perf_counter() - started
    finally:
        logging.disable(logging.NOTSET)
    failed = bench_leads(prefix).filter(pipeline_reason__startswith="Pipeline error")
    if failed.exists():
        print(f"\n(d) {failed.count()} of {taken} leads FAILED in process ({failed.first().pipeline_reason}); "
              "the figures below are not the pipeline's")  # fmt: skip
    kinds = Counter(q["sql"].split()[0].upper() for q in queries.captured_queries)
    print(f"\n(d) in-process, one batch: {taken} leads in {seconds:.2f} s = {seconds / max(taken, 1) * 1000:.0f} ms "
          f"and {len(queries) / max(taken, 1):.0f} queries per lead ({dict(kinds.most_common())})")  # fmt: skip
    tables: Counter[str] = Counter()
    for query in queries.captured_queries:
        sql = query["sql"]
        for keyword in (" FROM ", "UPDATE ", "INSERT INTO "):
            if keyword in sql:
                tables[sql.split(keyword, 1)[1].split()[0].strip('"')] += 1
                break
    print(f"  queries per table in the batch: {dict(tables.most_common(10))}")


def run_throughput(bench: Bench, args: argparse.Namespace) -> None:
    maker = SubmissionMaker()
    start_web(bench)
    capture, floor, capture_prefix = measure_capture(bench, args, maker)
    own_queue = not bench.redis_url or args.redis
    queued = clear_capture_leftovers(capture_prefix, purge_queue=own_queue)
    print(f"  wake-up tasks the capture rounds left queued ({'cleared' if own_queue else 'left, a shared Redis'}"
          f" before (b)): {queued}")  # fmt: skip
    pipeline_rate, drained = measure_pipeline(bench, args)
    recorded = measure_steady(bench, args, maker, capture)
    ready = readiness(bench)
    bench.processes.kill("worker")
    measure_batch_in_process()
    p95 = percentile(recorded, 0.95) if recorded else float("inf")
    kind = f"{'PostgreSQL' if bench.is_postgres else 'SQLite'}{' + Redis' if bench.redis_url else ''}"
    print(f"\nthroughput summary ({kind}):")
    print(f"  capture {capture:.1f} stored/s; floor POST /insert4 {floor:.1f}/s; capture / floor {capture / floor:.2f}")
    goal = "met" if pipeline_rate >= capture else "NOT met"
    print(f"  pipeline {pipeline_rate:.1f} leads/s{'' if drained else ' (backlog NOT drained)'}; pipeline / capture "
          f"{pipeline_rate / capture:.2f} (goal >= 1.0: {goal})")  # fmt: skip
    print(f"  steady load at {capture / 2:.1f}/s: p95 submit -> assigned/parked {p95:.1f} s "
          f"(goal <= 60 s: {'met' if p95 <= 60 else 'NOT met'})")  # fmt: skip
    print(f"  /healthz/ready/ after (c): {ready}")


# --- main -------------------------------------------------------------------------------------------


@contextmanager
def bench_setup(args: argparse.Namespace) -> Iterator[Bench]:
    workdir = Path(tempfile.mkdtemp(prefix="pipeline_load-"))
    processes = Processes(workdir)
    database_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir / 'bench.sqlite3'}"
    redis_url = os.environ.get("BENCH_REDIS_URL", "")
    if args.redis or args.restart_redis:
        redis_url = f"redis://127.0.0.1:{free_port()}/0"
    port = free_port()
    bench = Bench(workdir, database_url, redis_url, port,
                  app_environment(workdir=workdir, database_url=database_url, redis_url=redis_url, port=port),
                  processes)  # fmt: skip
    try:
        if args.redis or args.restart_redis:
            start_redis(bench, urlsplit(redis_url).port)  # type: ignore[arg-type]
        yield bench
    finally:
        processes.stop_all()
        log_errors(bench)
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", nargs="?", choices=["load", "throughput"], default="load")
    parser.add_argument("--submissions", type=int, default=2000, help="load: how many submissions (default 2,000)")
    parser.add_argument("--concurrency", type=int, default=16, help="parallel clients (default 16)")
    parser.add_argument("--kill-worker", action="store_true", help="load: SIGKILL the worker halfway, then restart it")
    parser.add_argument(
        "--restart-redis", action="store_true", help="load: kill the bench's redis-server halfway, restart it"
    )
    parser.add_argument("--redis", action="store_true", help="start a private redis-server for the cache and broker")
    parser.add_argument("--down-seconds", type=float, default=5.0, help="how long the worker or Redis stays down")
    parser.add_argument("--send-timeout", type=float, default=900.0, help="stop sending after this many seconds")
    parser.add_argument(
        "--drain-timeout", type=float, default=900.0, help="give up waiting for the pipeline after this"
    )
    parser.add_argument("--demo-leads", type=int, default=0, help="load_demo --demo-leads (default 0)")
    parser.add_argument("--rounds", type=int, default=3, help="throughput: rounds of floor and project (default 3)")
    parser.add_argument("--duration", type=int, default=20, help="throughput: seconds per wrk round (default 20)")
    parser.add_argument("--max-rate", type=int, default=400, help="throughput: submissions made per second of a round")
    parser.add_argument("--backlog", type=int, default=10_000, help="throughput: due leads for (b) (default 10,000)")
    parser.add_argument("--backlog-timeout", type=float, default=1800.0, help="throughput: give up on (b) after this")
    parser.add_argument("--steady-seconds", type=int, default=60, help="throughput: length of (c) (default 60)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (database, logs)")
    args = parser.parse_args()
    if args.kill_worker and args.restart_redis:
        parser.error("choose one of --kill-worker and --restart-redis")
    if shutil.which("wrk") is None and args.mode == "throughput":
        parser.error("throughput needs wrk (apt-get install wrk)")

    print(f"pipeline_load {args.mode}: load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}, "
          f"{os.cpu_count()} CPUs", flush=True)  # fmt: skip
    with bench_setup(args) as bench:
        build_app_database(bench, demo_leads=args.demo_leads)
        if args.mode == "load":
            run_load(bench, args)
        else:
            run_throughput(bench, args)
    print(f"load average at the end: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")


if __name__ == "__main__":
    main()
