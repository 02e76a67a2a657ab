"""The reps' inbox, the team queue and the lead page at 1,000,000 leads, against the shared floor's ``GET /list``.

Builds (or tops up) N leads (default 1,000,000) with set-based inserts, gives every owned MQL an open
assignment and SLA record in bulk (one London team, four reps: the team holds about 190,000 open
assignments, rep1 about 48,000), and seeds the shared floor (``../shared/floor``, its own ``seed.py``) with
the same number of rows. Both are served the same way: gunicorn sync with 4 workers, ``DEBUG=0``, on
127.0.0.1. Each round then runs wrk (one thread, 16 connections) in turns, floor then page, for every page:

    /inbox/                   rep1's inbox, default sort (most urgent first)
    /inbox/?sort=-score       sorted by the lead's score (the lead index drives it)
    /inbox/?source=…&sort=…   filtered by a source and sorted by company
    /inbox/team/              the manager's queue (breached, the default tab), the whole 190,000-row team
    /inbox/lead/<id>/         rep1's lead page
    /inbox/team/pulse/        (a reference, not a goal) what the queue polls: the least a signed-in page costs

and prints each page's p95 over the floor's p95 of the same turn (goal: at most 2x), then the median and
range over the rounds. The queries each page makes are counted in process, on the first and a later page
(they must be equal: keyset pagination, no COUNT, no query per row).

    .venv/bin/python bench/inbox_bench.py [--leads 1000000] [--rounds 3] [--duration 10] [--fresh]

The project's SQLite file and the floor's are kept in the temp directory between runs (a second run skips
building them; --fresh starts over). BENCH_DATABASE_URL runs the project on PostgreSQL instead (the floor
then stays on SQLite unless FLOOR_DB=pg). Needs wrk (apt-get install wrk) and gunicorn.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.test import Client

    from handoff.models import Team

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FLOOR = ROOT.parent / "shared" / "floor"
WORKDIR = Path(tempfile.gettempdir())
DEFAULT_DB = WORKDIR / "leadsite-inbox-bench.sqlite3"
FLOOR_DB = WORKDIR / "leadsite-inbox-bench-floor.sqlite3"
STATIC_ROOT = WORKDIR / "leadsite-inbox-bench-static"
SERVER_LOG = WORKDIR / "leadsite-inbox-bench-servers.log"
SECRET_KEY = "inbox-bench-secret-key-not-for-production-0123456789"
BATCH = 5000
GOAL = 2.0


def setup_environment(*, fresh: bool) -> str:
    url = os.environ.get("BENCH_DATABASE_URL", "")
    if not url:
        if fresh:
            for path in (DEFAULT_DB, FLOOR_DB):
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{DEFAULT_DB}"
    else:
        parts = urlsplit(url)
        create_pg_database(parts.path.lstrip("/"), host=parts.hostname or "127.0.0.1", port=parts.port or 5432,
                           user=parts.username or "postgres", password=parts.password or "")  # fmt: skip
    os.environ["DATABASE_URL"] = url
    # In this process only (data and query counts); the servers run with DEBUG=0 (``server_env``).
    os.environ["DEBUG"] = "1"
    os.environ["SECRET_KEY"] = SECRET_KEY  # the servers read the sessions this process signs
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1"
    os.environ["DJANGO_SETTINGS_MODULE"] = "leadsite.settings"
    return url


def build_data(total: int, now: datetime) -> tuple[User, User]:
    """Users, a team with an office calendar, N leads, and an open assignment for every owned MQL. Idempotent.

    Returns rep1 and the team's manager.
    """
    from handoff.models import Membership, Team, TeamHours
    from leads import demo

    users = demo.ensure_demo_users(password="bench-only")
    reps = [users[f"rep{i}"] for i in range(1, 5)]
    team, created = Team.objects.get_or_create(
        slug="bench", defaults={"name": "Bench", "timezone": "Europe/London", "holiday_country": "GB"}
    )
    if created:
        TeamHours.objects.bulk_create(
            TeamHours(team=team, weekday=day, opens_at=opens, closes_at=closes)
            for day in range(5)
            for opens, closes in (("09:00", "12:30"), ("13:30", "17:30"))
        )
        Membership.objects.bulk_create(Membership(team=team, user=rep) for rep in reps)
    team.managers.add(users["manager"])
    started = time.monotonic()
    added = demo.bulk_create_leads(total=total, reps=reps, now=now)
    print(f"leads: {added:,} added in {time.monotonic() - started:.0f}s (total {total:,})", flush=True)
    started = time.monotonic()
    assigned = bulk_assign(team, now)
    print(f"assignments: {assigned:,} added in {time.monotonic() - started:.0f}s", flush=True)
    return users["rep1"], users["manager"]


def bulk_assign(team: Team, now: datetime) -> int:
    """An open assignment and SLA clock for every owned MQL without one, assigned over the last ten days."""
    from django.db import transaction

    from handoff.models import Assignment, SLARecord, Team
    from handoff.selectors import team_calendar
    from leads.models import Lead, Stage

    calendar = team_calendar(team)
    target = timedelta(hours=24)
    rng = random.Random(7)
    pending = Lead.objects.filter(stage=Stage.MQL, owner__isnull=False, assignments__isnull=True)
    ids = list(pending.order_by("pk").values_list("pk", "owner_id"))
    turn = Team.objects.get(pk=team.pk).turns_taken
    for start in range(0, len(ids), BATCH):
        assignments, clocks = [], []
        for lead_id, owner_id in ids[start : start + BATCH]:
            turn += 1
            assigned_at = now - timedelta(seconds=rng.randrange(10 * 24 * 3600))
            due_at = calendar.add_business_time(assigned_at, target)
            remind_at = calendar.add_business_time(assigned_at, target * 3 / 4)
            contacted_at = assigned_at + timedelta(hours=1) if rng.random() < 0.1 else None
            assignments.append(
                Assignment(lead_id=lead_id, rep_id=owner_id, team=team, turn=turn, assigned_at=assigned_at,
                           sla_due_at=due_at, contacted_at=contacted_at,
                           state="contacted" if contacted_at else "assigned")
            )  # fmt: skip
            clocks.append((target, assigned_at, due_at, remind_at, contacted_at))
        with transaction.atomic():
            created = Assignment.objects.bulk_create(assignments)
            SLARecord.objects.bulk_create(
                SLARecord(assignment=assignment, target_duration=target, on_breach="notify_manager",
                          started_at=start_at, due_at=due_at, remind_at=remind_at, met_at=met_at)
                for assignment, (target, start_at, due_at, remind_at, met_at) in zip(created, clocks, strict=True)
            )  # fmt: skip
    Team.objects.filter(pk=team.pk).update(turns_taken=turn)
    return len(ids)


def analyse() -> None:
    """The planner's statistics, gathered as a site's daily task gathers them (``core.tasks.analyze_database``).

    On PostgreSQL, ``VACUUM ANALYZE`` instead: what autovacuum does on a site after a bulk load. This machine's
    PostgreSQL runs with autovacuum off, and without a vacuum the bulk-loaded tables have no visibility map, so
    every index-only scan also reads the table and the planner keeps re-planning (bench/README.md).
    """
    from django.db import connection

    from core.tasks import analyze_database

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        return
    analyze_database(every_database=True)


# --- The floor, the servers and wrk ----------------------------------------------------------------


def seed_floor(rows: int) -> dict[str, str]:
    """The floor's SQLite file with ``rows`` leads by its own seed script (kept when it has them already)."""
    env = {**os.environ, "FLOOR_DB": os.environ.get("FLOOR_DB", "sqlite"), "FLOOR_SQLITE_PATH": str(FLOOR_DB)}
    for key in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DEBUG", "SECRET_KEY"):
        env.pop(key, None)
    if env["FLOOR_DB"] == "sqlite" and _floor_rows() == rows:
        return env
    if env["FLOOR_DB"] == "pg":  # the names and defaults of the floor's seed.py
        create_pg_database(env.get("FLOOR_PG_NAME", "floor"), host=env.get("PGHOST", "127.0.0.1"),
                           port=int(env.get("PGPORT", "5432")), user=env.get("PGUSER", "postgres"),
                           password=env.get("PGPASSWORD", "postgres"))  # fmt: skip
    started = time.monotonic()
    subprocess.run([sys.executable, "seed.py", env["FLOOR_DB"], "--rows", str(rows)], check=True, cwd=FLOOR, env=env,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    print(f"floor: seeded with {rows:,} rows in {time.monotonic() - started:.0f}s", flush=True)
    return env


def create_pg_database(name: str, *, host: str, port: int, user: str, password: str) -> None:
    """Create the PostgreSQL database ``name`` unless it exists: a fresh machine has neither the project's nor the
    floor's."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(host=host, port=port, user=user, password=password, dbname="postgres", autocommit=True) as db:
        if not db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _floor_rows() -> int:
    if not FLOOR_DB.exists():
        return -1
    try:
        with sqlite3.connect(FLOOR_DB) as connection:
            return int(connection.execute("SELECT COUNT(*) FROM lead").fetchone()[0])
    except sqlite3.Error:
        return -1


def server_env(database_url: str) -> dict[str, str]:
    """The project as deployed: DEBUG=0, manifest static files, plain HTTP on 127.0.0.1."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=SECRET_KEY,
        DEBUG="0",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        STATIC_ROOT=str(STATIC_ROOT),
    )
    return env


def start(
    app: str, *, chdir: Path, env: dict[str, str], port: int, workers: int, ready: str
) -> subprocess.Popen[bytes]:
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    command = [gunicorn, "--chdir", str(chdir), "-k", "sync", "-w", str(workers), "-b", f"127.0.0.1:{port}",
               "--timeout", "120", "--backlog", "2048", "--log-level", "warning", app]  # fmt: skip
    with open(SERVER_LOG, "a") as log:
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{ready}", timeout=2).read()
            return server
        except urllib.error.HTTPError:
            return server  # it answers (a redirect to sign in is an answer)
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"{app} exited ({server.returncode}); see {SERVER_LOG}") from None
            time.sleep(0.1)
    raise SystemExit(f"{app} did not start; see {SERVER_LOG}")


def start_servers(
    url: str, floor_env: dict[str, str], *, port: int, workers: int
) -> tuple[list[subprocess.Popen[bytes]], str, str]:
    """The project's static files collected, then the floor (on ``port`` + 1) and the project (on ``port``) served
    the same way: the servers, and the project's and the floor's base URLs."""
    env = server_env(url)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], check=True, cwd=ROOT, env=env
    )
    servers = [
        start("app:application", chdir=FLOOR, env=floor_env, port=port + 1, workers=workers, ready="/ping"),
        start("leadsite.wsgi:application", chdir=ROOT, env=env, port=port, workers=workers, ready="/"),
    ]
    return servers, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}"


def stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def wrk(url: str, *, cookie: str, conc: int, duration: int) -> dict[str, float]:
    command = ["wrk", "-t1", f"-c{conc}", f"-d{duration}s", "--timeout", "10s", "-s", str(FLOOR / "wrk_stats.lua")]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run([*command, url], env=dict(os.environ, WRK_METHOD="GET"), capture_output=True, text=True).stdout
    match = re.search(r"^WRKSTATS (.*)$", out, re.M)
    if not match:
        raise SystemExit(f"wrk gave no stats:\n{out}")
    return {key: float(value) for key, value in (pair.split("=") for pair in match.group(1).split())}


def load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


# --- The pages ---------------------------------------------------------------------------------------


def session_cookie(user: User) -> str:
    """A signed-in session of ``user`` in the database the servers read."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def pages_to_time(rep: User) -> dict[str, str]:
    """The pages, by name: each URL path with its query string."""
    from handoff.models import Assignment

    first = Assignment.objects.open().filter(rep=rep).order_by("sla_due_at", "pk").select_related("lead").first()
    assert first is not None, "rep1 has no open assignment"
    source = first.lead.first_touch_source
    return {
        "/inbox/": "/inbox/",
        "/inbox/?sort=-score": "/inbox/?sort=-score",
        "/inbox/?source&sort=company": f"/inbox/?source={source}&sort=company",
        "/inbox/team/": "/inbox/team/",
        "/inbox/lead/<id>/": f"/inbox/lead/{first.lead_id}/",
        # Not a goal: the least a signed-in page costs here (the middleware, session and permission checks,
        # two small queries, a JSON body), to tell the framework's share of each page from the page's own.
        "/inbox/team/pulse/ (reference)": "/inbox/team/pulse/",
    }


def count_queries(client: Client, path: str) -> tuple[int, int | None]:
    """Queries of the page, and of its next page when it has one (keyset: they must be equal)."""
    first, html = _queries(client, path)
    found = re.search(r'href="\?([^"]*after=[^"]+)"', html)
    if found is None:
        return first, None
    later, _ = _queries(client, f"{path.split('?')[0]}?{found.group(1).replace('&amp;', '&')}")
    return first, later


def _queries(client: Client, path: str) -> tuple[int, str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(path)  # per-process pick lists and calendars are read once, then kept
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(queries), response.content.decode()


def check_served(base: str, path: str, cookie: str) -> None:
    """The page answers 200 to the session (not a redirect to sign in), or the timings would mean nothing."""
    request = urllib.request.Request(f"{base}{path}", headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200 and response.url == f"{base}{path}", (path, response.status, response.url)


def run_rounds(
    args: argparse.Namespace, floor_base: str, project_base: str, pages: dict[str, tuple[str, str]]
) -> dict[str, list[tuple[float, float]]]:
    """In turns, floor then page, for every page, ``args.rounds`` times: each turn's floor p95 and page p95."""
    ratios: dict[str, list[tuple[float, float]]] = {name: [] for name in pages}
    for number in range(1, args.rounds + 1):
        print(f"round {number} (load {load()})", flush=True)
        for name, (path, cookie) in pages.items():
            wrk(f"{floor_base}/list", cookie="", conc=args.conc, duration=2)  # warm-up
            floor = wrk(f"{floor_base}/list", cookie="", conc=args.conc, duration=args.duration)
            wrk(f"{project_base}{path}", cookie=cookie, conc=args.conc, duration=2)
            page = wrk(f"{project_base}{path}", cookie=cookie, conc=args.conc, duration=args.duration)
            ratio = page["p95_ms"] / floor["p95_ms"]
            ratios[name].append((floor["p95_ms"], page["p95_ms"]))
            errors = int(page["non2xx3xx"] + page["sockerr"])
            print(f"  floor /list p95 {floor['p95_ms']:7.1f} ms {floor['rps']:6.0f} req/s | {name:28} p95 "
                  f"{page['p95_ms']:7.1f} ms {page['rps']:6.0f} req/s{f' ({errors} errors)' if errors else ''} | "
                  f"{ratio:5.2f}x", flush=True)  # fmt: skip
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per page and turn (issue 13: 20)")
    parser.add_argument("--conc", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=8751, help="the project's; the floor's is the next one")
    parser.add_argument("--fresh", action="store_true", help="delete the bench databases first")
    parser.add_argument(
        "--db",
        choices=["sqlite", "pg"],
        default="sqlite",
        help="pg: the project and the floor on PostgreSQL (127.0.0.1:5432, user postgres)",
    )
    parser.add_argument("--json", help="also write the summary rows to this file (run_all.py reads them)")
    args = parser.parse_args()
    if args.db == "pg":
        use_postgresql(project="leadbench", floor="floor_inbox_bench")
    url = setup_environment(fresh=args.fresh)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    print(f"database: {url}", flush=True)
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    rep, manager = build_data(args.leads, timezone.now())
    analyse()
    floor_env = seed_floor(args.leads)
    pages = pages_to_time(rep)
    rep_cookie, manager_cookie = session_cookie(rep), session_cookie(manager)
    cookies = {name: manager_cookie if name.startswith("/inbox/team/") else rep_cookie for name in pages}
    queries = {}
    for name, path in pages.items():
        client = Client()
        client.force_login(manager if name.startswith("/inbox/team/") else rep)
        queries[name] = count_queries(client, path)
    open_count = rep.assignments.filter(ended_at__isnull=True).count()
    team_open = manager_team_open_count(manager)
    connection.close()

    servers, project_base, floor_base = start_servers(url, floor_env, port=args.port, workers=args.workers)
    try:
        for name, path in pages.items():
            check_served(project_base, path, cookies[name])
        print(f"rep1: {open_count:,} open assignments; the team: {team_open:,}; {args.leads:,} leads on both sides")
        print(f"wrk -t1 -c{args.conc} -d{args.duration}s after a 2 s warm-up; gunicorn sync x{args.workers}; DEBUG=0")
        ratios = run_rounds(
            args, floor_base, project_base, {name: (path, cookies[name]) for name, path in pages.items()}
        )
    finally:
        for server in servers:
            stop(server)
    rows = summary(ratios, queries)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


def use_postgresql(*, project: str, floor: str) -> None:
    """``--db pg``: both sides on the local PostgreSQL, unless BENCH_DATABASE_URL and FLOOR_DB say otherwise."""
    os.environ.setdefault("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{project}")
    os.environ.setdefault("FLOOR_DB", "pg")
    os.environ.setdefault("PGHOST", "127.0.0.1")
    os.environ.setdefault("PGUSER", "postgres")
    os.environ.setdefault("FLOOR_PG_NAME", floor)


def manager_team_open_count(manager: User) -> int:
    from handoff.models import Assignment

    return Assignment.objects.open().filter(team__managers=manager).count()


def summary(
    turns: dict[str, list[tuple[float, float]]], queries: dict[str, tuple[int, int | None]]
) -> list[dict[str, object]]:
    """Prints each page's ratio (the median over the rounds) and returns the rows ``run_all.py`` prints."""
    print(f"\nload {load()}")
    print(f"{'page':30} {'p95 / floor p95':>26} {'goal':>6} {'met':>4}  queries (first, later page)")
    rows: list[dict[str, object]] = []
    for name, pairs in turns.items():
        values = [page / floor for floor, page in pairs]
        median = statistics.median(values)
        rows.append({"work": f"{name} p95 ms", "floor": statistics.median(floor for floor, _ in pairs),
                     "project": statistics.median(page for _, page in pairs), "ratio": median, "goal": "≤ 2x",
                     "met": median <= GOAL})  # fmt: skip
        spread = f"{median:.2f}x ({min(values):.2f}-{max(values):.2f})"
        first, later = queries[name]
        counted = f"{first}, {later}" if later is not None else f"{first} (one page)"
        print(f"{name:30} {spread:>26} {'2x':>6} {'yes' if median <= GOAL else 'no':>4}  {counted}")
    return rows


if __name__ == "__main__":
    main()
