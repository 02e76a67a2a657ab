"""The managers' reports page against the floor's ``GET /report``, in the same run, interleaved.

Fills a fresh database with N synthetic leads (default 1,000,000) carrying their first-touch fields,
one to four touches each (the first one fixed as the first touch, as capture does), stage changes for
the leads that reached MQL or SQL, an assignment with its SLA clock (met, breached, running or stopped)
for each lead sales got (MQL, SQL, rejected: about 330,000), and a year of monthly spend; builds the report rollups with
``reports.rollups.rebuild_rollups`` (what ``manage.py rebuild_report_rollups`` runs) and times that. It
seeds the shared floor (``../shared/floor/seed.py``, run from its folder, never copied) with the same
number of rows, serves both with gunicorn (sync, one worker each, ``DEBUG=0``) on 127.0.0.1, and then,
round after round, requests in turn:

- the floor's ``GET /report`` (``SELECT source, COUNT(*) FROM lead GROUP BY source`` over every row);
- ``GET /reports/`` as a manager: the last 90 days, read from the rollups (what the page opens on);
- ``GET /reports/?range=all``: all time, from the rollups.

Each round is printed with its ratios. Then, for the before figure, the rollups are switched off (their
state row removed: the page falls back to the live queries, as it ran before the rollups) and a few more
rounds time the 90-day and all-time pages live against the floor. Goal: the page <= 5x the floor's /report.
Uses its own SQLite file (or BENCH_DATABASE_URL; the floor then needs FLOOR_DB=pg and its PG variables).

    .venv/bin/python bench/report_bench.py [--leads 1000000] [--rounds 5] [--live-rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from handoff.models import Assignment, SLARecord, Team
    from leads.models import StageChange

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
GOAL = 5.0
FLOOR_DIR = ROOT.parent / "shared" / "floor"
BATCH = 10_000
BASE = 20_000  # leads built one by one; the rest are copies of these

# (source, medium, campaign, channel, weight) of a first touch; follow-ups draw from the same list.
SOURCES = (
    ("google", "cpc", "brand-search", "paid_search", 5),
    ("google", "cpc", "competitor-terms", "paid_search", 2),
    ("linkedin", "paid_social", "q3-whitepaper", "paid_social", 4),
    ("newsletter", "email", "monthly-digest", "email", 3),
    ("b2b-growth-podcast", "podcast", "episode-42", "podcast", 2),
    ("partner-webinar", "webinar", "partner-cloud-summit", "webinar", 2),
    ("saastr-2026", "event", "booth-scan", "event", 2),
    ("google.com", "", "", "organic_search", 3),
)
STAGES = ("new",) * 3 + ("nurture",) * 10 + ("mql",) * 4 + ("sql",) * 2 + ("rejected", "disqualified")
TEAMS = ("enterprise", "mid-market", "smb")


def setup_environment(workdir: Path) -> None:
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
    os.environ["SECURE_SSL_REDIRECT"] = "0"
    os.environ["SESSION_COOKIE_SECURE"] = "0"
    os.environ["CSRF_COOKIE_SECURE"] = "0"
    os.environ["STATIC_ROOT"] = str(workdir / "static")  # DEBUG=0 serves the hashed files collectstatic writes
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "leadsite.settings"
    os.environ["LOG_LEVEL"] = "WARNING"


# --- Data -----------------------------------------------------------------------------------------


def fill(total: int, now: datetime) -> tuple[int, int]:
    """N leads with touches and stage changes: a base set of bulk-created rows, then copies of it made
    with INSERT ... SELECT (every column copied, ids and emails shifted), so a million leads take a minute
    or two rather than twenty."""
    from django.db import transaction

    from handoff.models import Assignment, RoutingDecision, SLARecord
    from leads.models import Lead, StageChange, Touch

    base = min(total, BASE)
    touches, changes = _fill_base(base, now)
    with transaction.atomic():
        for copy in range(1, -(-total // base)):
            count = min(base, total - copy * base)
            _copy(Lead, where=f"id <= {count}", shift={"id": copy * base, "first_touch_id": copy * touches},
                  prefix={"email": f"c{copy}-"})  # fmt: skip
            _copy(Touch, where=f"lead_id <= {count}", shift={"id": copy * touches, "lead_id": copy * base})
            _copy(StageChange, where=f"lead_id <= {count}", shift={"id": copy * changes, "lead_id": copy * base})
            _copy(RoutingDecision, where=f"lead_id <= {count}", shift={"lead_id": copy * base})
            _copy(
                Assignment,
                where=f"lead_id <= {count}",
                shift={"id": copy * base, "lead_id": copy * base, "turn": copy * base},
            )
            _copy(SLARecord, where=f"assignment_id <= {count}", shift={"id": copy * base, "assignment_id": copy * base})
    _reset_sequences(Lead, Touch, StageChange, Assignment, SLARecord)
    return Touch.objects.count(), StageChange.objects.count()


def _fill_base(total: int, now: datetime) -> tuple[int, int]:
    """The base set: leads with ids 1..N, touches and stage changes with ids from 1, by bulk_create."""
    from django.contrib.auth.models import User
    from django.db import transaction

    from handoff.models import Assignment, RoutingDecision, SLARecord, Team
    from leads.models import Lead, StageChange, Touch

    rng = random.Random(6)
    teams = [Team.objects.get_or_create(slug=slug, defaults={"name": slug})[0] for slug in TEAMS]
    reps = {team.pk: [User.objects.create(username=f"{team.slug}-rep{i}", first_name=f"Rep {i}") for i in range(4)]
            for team in teams}  # fmt: skip
    decisions = []
    assignments: list[Assignment] = []
    clocks: list[SLARecord] = []
    choices = [source[:4] for source in SOURCES]
    weights = [source[4] for source in SOURCES]
    leads: list[Lead] = []
    touch_rows: list[Touch] = []
    change_rows: list[StageChange] = []
    for lead_id in range(1, total + 1):
        created_at = now - timedelta(seconds=rng.randrange(365 * 24 * 3600))
        path = rng.choices(choices, weights=weights, k=rng.choice((1, 1, 2, 2, 3, 4)))
        first_id = len(touch_rows) + 1
        for step, (source, medium, campaign, channel) in enumerate(path):
            touch_rows.append(Touch(id=len(touch_rows) + 1, lead_id=lead_id, source=source, medium=medium,
                                    campaign=campaign, channel=channel,
                                    occurred_at=created_at + timedelta(days=step * 3)))  # fmt: skip
        stage = rng.choice(STAGES)
        change_rows += _stage_changes(lead_id, stage, created_at, rng, first_id=len(change_rows) + 1)
        source, medium, campaign, channel = path[0]
        leads.append(Lead(id=lead_id, email=f"bench{lead_id}@company{lead_id % 500}.example", stage=stage,
                          created_at=created_at, stage_changed_at=created_at, routed_at=created_at,
                          first_touch_id=first_id, first_touch_at=created_at, first_touch_source=source,
                          first_touch_medium=medium, first_touch_campaign=campaign, first_touch_channel=channel,
                          last_touch_at=created_at + timedelta(days=(len(path) - 1) * 3)))  # fmt: skip
        team = rng.choice(teams)
        decisions.append(RoutingDecision(lead_id=lead_id, destination="team", team=team,
                                         decided_at=created_at))  # fmt: skip
        if stage in ("mql", "sql", "rejected"):
            # The assignment's id is the lead's, so a copy shifts both by the same amount.
            assignments.append(_assignment(lead_id, team, rng.choice(reps[team.pk]), created_at, stage))
            clocks.append(_clock(lead_id, created_at, rng, ended=assignments[-1].ended_at is not None))
    with transaction.atomic():
        Lead.objects.bulk_create(leads, batch_size=BATCH)
        Touch.objects.bulk_create(touch_rows, batch_size=BATCH)
        StageChange.objects.bulk_create(change_rows, batch_size=BATCH)
        RoutingDecision.objects.bulk_create(decisions, batch_size=BATCH)
        Assignment.objects.bulk_create(assignments, batch_size=BATCH)
        SLARecord.objects.bulk_create(clocks, batch_size=BATCH)
    return len(touch_rows), len(change_rows)


def _assignment(lead_id: int, team: Team, rep: User, created_at: datetime, stage: str) -> Assignment:
    """The lead's assignment: open while it is an MQL, ended once sales qualified or rejected it."""
    from handoff.models import Assignment

    assigned_at = created_at + timedelta(hours=2)
    ended = stage != "mql"
    return Assignment(id=lead_id, lead_id=lead_id, rep=rep, team=team, turn=lead_id, assigned_at=assigned_at,
                      sla_due_at=assigned_at + timedelta(hours=24), ended_at=assigned_at + timedelta(days=2) if ended
                      else None, outcome={"sql": "qualified", "rejected": "rejected"}.get(stage, ""))  # fmt: skip


def _clock(lead_id: int, created_at: datetime, rng: random.Random, *, ended: bool) -> SLARecord:
    """The assignment's SLA clock: met in time or late, breached, stopped, or (while open) still running."""
    from handoff.models import BreachAction, SLARecord

    started = created_at + timedelta(hours=2)
    due = started + timedelta(hours=24)
    state = rng.choice(("met", "met", "met", "late", "breached", "stopped" if ended else "running"))
    return SLARecord(
        id=lead_id, assignment_id=lead_id, target_duration=timedelta(hours=24),
        on_breach=BreachAction.NOTIFY_MANAGER, started_at=started, due_at=due, remind_at=started + timedelta(hours=18),
        met_at={"met": started + timedelta(hours=3), "late": due + timedelta(hours=5)}.get(state),
        breached_at=due + timedelta(minutes=1) if state in ("late", "breached") else None,
        stopped_at=started + timedelta(days=2) if state == "stopped" else None,
    )  # fmt: skip


def _copy(model: type, *, where: str, shift: dict[str, int], prefix: dict[str, str] | None = None) -> None:
    """Copy the base rows of ``model`` once: every column as is, except ``shift``ed ids and ``prefix``ed text."""
    from django.db import connection

    quote = connection.ops.quote_name
    columns = [field.column for field in model._meta.concrete_fields]  # type: ignore[attr-defined]
    values = []
    for column in columns:
        if column in shift:
            values.append(f"{quote(column)} + {shift[column]}")
        elif prefix and column in prefix:
            values.append(f"'{prefix[column]}' || {quote(column)}")
        else:
            values.append(quote(column))
    table = quote(model._meta.db_table)  # type: ignore[attr-defined]
    names = ", ".join(map(quote, columns))
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({names}) SELECT {', '.join(values)} FROM {table} WHERE {where}")


def _reset_sequences(*models: type) -> None:
    """PostgreSQL: move the id sequences past the ids given by hand (SQLite needs nothing)."""
    from django.core.management.color import no_style
    from django.db import connection

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), list(models)):
            cursor.execute(sql)


def _stage_changes(
    lead_id: int, stage: str, created_at: datetime, rng: random.Random, *, first_id: int
) -> list[StageChange]:
    from leads.models import StageChange

    path = {"mql": ["mql"], "sql": ["mql", "sql"], "rejected": ["mql", "rejected"]}.get(stage, [])
    rows, previous, at = [], "new", created_at
    for i, to_stage in enumerate(path):
        at += timedelta(hours=rng.randint(1, 24 * 14))
        rows.append(
            StageChange(id=first_id + i, lead_id=lead_id, from_stage=previous, to_stage=to_stage, changed_at=at)
        )
        previous = to_stage
    return rows


def fill_spend(now: datetime) -> None:
    from reports.models import Spend

    month = now.date().replace(day=1)
    rows = []
    for back in range(13):
        index = month.year * 12 + month.month - 1 - back
        first = date(index // 12, index % 12 + 1, 1)
        rows += [
            Spend(source=s, campaign=c, month=first, amount=Decimal(1000 + 100 * back)) for s, _, c, _, _ in SOURCES
        ]
    Spend.objects.bulk_create(rows)


# --- Serving and timing -----------------------------------------------------------------------------


def seed_floor(rows: int, workdir: Path) -> dict[str, str]:
    """The floor's own database with ``rows`` leads, by its own seed script; returns the floor's environment."""
    env = {**os.environ, "FLOOR_SQLITE_PATH": str(workdir / "floor.sqlite3"), "TMPDIR": str(workdir)}
    kind = os.environ.get("FLOOR_DB", "sqlite")
    subprocess.run([sys.executable, "seed.py", kind, "--rows", str(rows)], check=True, cwd=FLOOR_DIR, env=env,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    return env


def serve(app: str, *, port: int, chdir: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    command = [gunicorn, "--chdir", str(chdir), "-w", "1", "-k", "sync", "-b", f"127.0.0.1:{port}", "--timeout", "600",
               "--log-level", "warning", app]  # fmt: skip
    server = subprocess.Popen(command, env=env)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
            break
        except urllib.error.HTTPError:
            break  # it answers (a 404 or a redirect is an answer)
        except OSError:
            time.sleep(0.2)
    return server


def timed_get(url: str, cookie: str = "") -> float:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as response:
        response.read()
        assert response.status == 200, response.status
    return time.perf_counter() - started


def manager_cookie() -> str:
    """A signed-in manager's session cookie, made in the database the project's server reads."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.db import SessionStore

    from leads.tests.factories import UserFactory

    manager = UserFactory(username="bench-manager", is_staff=True)
    manager.groups.add(Group.objects.get(name="Sales manager"))
    session = SessionStore()
    session[SESSION_KEY] = str(manager.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = manager.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def rounds(count: int, floor: str, pages: dict[str, str], cookie: str) -> dict[str, list[tuple[float, float]]]:
    """``count`` rounds of the floor then each page, printed as they go; each round's floor and page times (s)."""
    ratios: dict[str, list[tuple[float, float]]] = {name: [] for name in pages}
    for number in range(1, count + 1):
        floor_time = timed_get(floor)
        parts = [f"round {number}: floor /report {floor_time * 1000:8.1f} ms"]
        for name, url in pages.items():
            page_time = timed_get(url, cookie)
            ratios[name].append((floor_time, page_time))
            parts.append(f"{name} {page_time * 1000:8.1f} ms ({page_time / floor_time:5.1f}x)")
        print(" | ".join(parts), flush=True)
    return ratios


def summary(turns: dict[str, list[tuple[float, float]]]) -> list[dict[str, object]]:
    """Prints each page's ratio (the median over the rounds) and returns the rows ``run_all.py`` prints."""
    rows: list[dict[str, object]] = []
    for name, pairs in turns.items():
        ordered = sorted(page / floor for floor, page in pairs)
        if not ordered:  # --live-rounds 0
            continue
        median = statistics.median(ordered)
        met = "met" if median <= GOAL else "NOT met"
        print(f"{name:28} ratio median {median:6.1f}x, range {ordered[0]:.1f}-{ordered[-1]:.1f}x "
              f"(goal <= {GOAL:.0f}x: {met})")  # fmt: skip
        rows.append({"work": f"{name} ms", "floor": 1000 * statistics.median(floor for floor, _ in pairs),
                     "project": 1000 * statistics.median(page for _, page in pairs), "ratio": median,
                     "goal": f"≤ {GOAL:.0f}x", "met": median <= GOAL})  # fmt: skip
    return rows


def fresh_postgresql(*, project: str, floor: str) -> None:
    """``--db pg``: the project on a fresh PostgreSQL database (unless BENCH_DATABASE_URL names one), the floor on
    PostgreSQL too (unless FLOOR_DB says otherwise)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import psycopg
    from inbox_bench import create_pg_database, use_postgresql
    from psycopg import sql

    if "BENCH_DATABASE_URL" not in os.environ:
        with psycopg.connect(host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True) as db:
            db.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(project)))
    use_postgresql(project=project, floor=floor)
    create_pg_database(project, host="127.0.0.1", port=5432, user="postgres", password="")
    if os.environ["FLOOR_DB"] == "pg":
        create_pg_database(floor, host=os.environ["PGHOST"], port=int(os.environ.get("PGPORT", "5432")),
                           user=os.environ["PGUSER"], password=os.environ.get("PGPASSWORD", "postgres"))  # fmt: skip


def build_in_steps() -> None:
    """Drop the rollups and build them again the way the scheduled task does on a site that never built them:
    refreshes, each within the task budget (``PIPELINE_TASK_BUDGET``), until the build is done. Prints each."""
    from django.conf import settings
    from django.utils import timezone

    from reports.models import RollupDirtyDay, RollupState
    from reports.rollups import ROLLUPS, refresh_rollups

    for model in (RollupState, RollupDirtyDay, *ROLLUPS):
        model.objects.all().delete()
    budget = settings.PIPELINE_TASK_BUDGET
    print(f"the first build in steps: budget {budget.total_seconds():.0f}s a step, task timeout "
          f"{settings.Q_CLUSTER['timeout']}s")  # fmt: skip
    total, step = time.perf_counter(), 0
    while True:
        step += 1
        started = time.perf_counter()
        days = refresh_rollups(now=timezone.now(), clock=timezone.now, budget=budget)
        built = RollupState.objects.get().rebuilt_at is not None
        left = RollupDirtyDay.objects.values("day").distinct().count()
        print(f"  step {step}: {days} days in {time.perf_counter() - started:.1f}s, {left} days left"
              f"{', built' if built else ''}")  # fmt: skip
        if built:
            break
    print(f"  built in {step} steps, {time.perf_counter() - total:.1f}s in all")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--live-rounds", type=int, default=2, help="rounds of the live (pre-rollup) page")
    parser.add_argument("--port", type=int, default=8731)
    parser.add_argument(
        "--db",
        choices=["sqlite", "pg"],
        default="sqlite",
        help="pg: the project and the floor on PostgreSQL (127.0.0.1:5432, user postgres), fresh",
    )
    parser.add_argument("--json", help="also write the summary rows to this file (run_all.py reads them)")
    parser.add_argument(
        "--build-in-steps", action="store_true",
        help="also time the first build as the scheduled task runs it: rollups dropped, then refreshes until built",
    )  # fmt: skip
    args = parser.parse_args()
    if args.db == "pg":
        fresh_postgresql(project="report_bench", floor="floor_report_bench")

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        setup_environment(workdir)
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], check=True, cwd=ROOT)
        subprocess.run([*manage, "createcachetable"], check=True, cwd=ROOT)
        subprocess.run([*manage, "collectstatic", "--noinput", "-v", "0"], check=True, cwd=ROOT)

        import django

        django.setup()
        from django.db import connection
        from django.utils import timezone

        from reports.models import RollupState
        from reports.rollups import rebuild_rollups

        now = timezone.now()
        started = time.perf_counter()
        touches, changes = fill(args.leads, now)
        fill_spend(now)
        connection.cursor().execute("ANALYZE" if connection.vendor == "sqlite" else "VACUUM ANALYZE")
        print(f"{connection.vendor}: {args.leads:,} leads, {touches:,} touches, {changes:,} stage changes "
              f"(built in {time.perf_counter() - started:.0f}s)")  # fmt: skip
        started = time.perf_counter()
        days = rebuild_rollups(now=timezone.now())
        print(f"rebuild_report_rollups: {days} days in {time.perf_counter() - started:.1f}s")
        if args.build_in_steps:
            build_in_steps()
        started = time.perf_counter()
        floor_env = seed_floor(args.leads, workdir)
        print(f"floor seeded with {args.leads:,} rows in {time.perf_counter() - started:.0f}s")
        cookie = manager_cookie()
        connection.close()

        project_port, floor_port = args.port, args.port + 1
        servers = [
            serve("app:application", port=floor_port, chdir=FLOOR_DIR, env=floor_env),
            serve("leadsite.wsgi:application", port=project_port, chdir=ROOT, env=dict(os.environ)),
        ]
        try:
            floor = f"http://127.0.0.1:{floor_port}/report"
            page = f"http://127.0.0.1:{project_port}/reports/"
            for url in (floor, page):  # warm both: the first request imports and connects
                timed_get(url, cookie)
            print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
            pages = {"/reports/ (90 days)": page, "/reports/?range=all": f"{page}?range=all"}
            after = rounds(args.rounds, floor, pages, cookie)
            RollupState.objects.all().delete()  # the page now falls back to the live queries: the before figure
            connection.close()
            print("before: the rollups switched off, the page computes every number live from the leads")
            live = {"live /reports/ (90 days)": page, "live /reports/?range=all": f"{page}?range=all"}
            before = rounds(args.live_rounds, floor, live, cookie)
            print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
            rows = summary({**after, **before})
            if args.json:  # the pages as they run now; the live rows are the before figure, not a goal
                kept = {f"{name} ms" for name in after}
                Path(args.json).write_text(json.dumps([row for row in rows if row["work"] in kept], indent=2))
        finally:
            for server in servers:
                server.terminate()
                server.wait()


if __name__ == "__main__":
    main()
