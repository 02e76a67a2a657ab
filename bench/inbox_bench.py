"""The reps' inbox at scale: page p95 against the raw 50-row SQL query measured in the same run.

Builds (or tops up) N leads (default 1,000,000) with set-based inserts, gives every owned MQL an open
assignment and SLA record in bulk, then renders the inbox's first page for one rep through Django's test
client and times it against the page's own data query run raw (the same SQL, fetching the same rows).
Prints both p95s, their ratio (goal: at most 2x) and the number of queries per page, which must not
grow with the data (a later page is measured too).

A second floor is timed in the same run: the least a Django page showing those rows can cost here, a
signed-in view behind the same middleware that runs the same raw SQL and returns the rows as plain text
(no ORM, no template). The page's ratio to it tells the page's own cost from the framework's.

    DEBUG=1 .venv/bin/python bench/inbox_bench.py [--leads 1000000] [--requests 200] [--fresh]

Uses its own SQLite file in the temp directory (kept between runs, so a second run skips the data
build; --fresh starts over), or BENCH_DATABASE_URL if set. Never db.sqlite3.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DB = Path(tempfile.gettempdir()) / "leadsite-inbox-bench.sqlite3"
BATCH = 5000


def setup_environment(*, fresh: bool) -> str:
    url = os.environ.get("BENCH_DATABASE_URL", "")
    if not url:
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{DEFAULT_DB}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{DEFAULT_DB}"
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["DJANGO_SETTINGS_MODULE"] = "leadsite.settings"
    return url


def build_data(total: int, now: datetime) -> object:
    """Users, a team with an office calendar, N leads, and an open assignment for every owned MQL. Idempotent."""
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
    started = time.monotonic()
    added = demo.bulk_create_leads(total=total, reps=reps, now=now)
    print(f"leads: {added:,} added in {time.monotonic() - started:.0f}s (total {total:,})", flush=True)
    started = time.monotonic()
    assigned = bulk_assign(team, now)
    print(f"assignments: {assigned:,} added in {time.monotonic() - started:.0f}s", flush=True)
    return users["rep1"]


def bulk_assign(team: object, now: datetime) -> int:
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
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def timed(call: Callable[[], object], repeat: int) -> list[float]:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def p95(timings: list[float]) -> float:
    return statistics.quantiles(timings, n=100)[94]


def page_queries(client: object, url: str) -> list[str]:
    """The SQL statements a page runs."""
    from django.db import connection

    queries: list[str] = []

    def record(execute: Callable[..., object], sql: str, params: object, many: bool, context: object) -> object:
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        response = client.get(url)  # type: ignore[attr-defined]
    assert response.status_code == 200, response.status_code
    return queries


def page_data_query(client: object, url: str) -> tuple[str, object]:
    """The page's own 50-row data query (SQL and parameters), to run raw."""
    from django.db import connection

    found: list[tuple[str, object]] = []

    def keep(execute: Callable[..., object], sql: str, params: object, many: bool, context: object) -> object:
        if 'FROM "handoff_assignment"' in sql and "LIMIT 51" in sql:
            found.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        client.get(url)  # type: ignore[attr-defined]
    return found[0]


def floor_urlconf(data_sql: str, data_params: object) -> str:
    """A URLconf with the project's URLs plus ``/bench-floor/``: the same rows, raw, as plain text."""
    import types

    from django.contrib.auth.decorators import login_required
    from django.db import connection
    from django.http import HttpRequest, HttpResponse
    from django.urls import include, path

    @login_required
    def floor(request: HttpRequest) -> HttpResponse:
        with connection.cursor() as cursor:
            cursor.execute(data_sql, data_params)
            rows = cursor.fetchall()
        return HttpResponse("\n".join(map(str, rows)), content_type="text/plain")

    module = types.ModuleType("inbox_bench_urls")
    module.urlpatterns = [path("bench-floor/", floor), path("", include("leadsite.urls"))]  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    return module.__name__


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200, help="timed requests of each kind")
    parser.add_argument("--fresh", action="store_true", help="delete the bench database first")
    args = parser.parse_args()
    url = setup_environment(fresh=args.fresh)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client, override_settings
    from django.utils import timezone

    print(f"database: {url}", flush=True)
    call_command("migrate", verbosity=0)
    rep = build_data(args.leads, timezone.now())
    analyse()

    client = Client()
    client.force_login(rep)
    first_page = "/inbox/"
    queries = page_queries(client, first_page)
    data_sql, data_params = page_data_query(client, first_page)
    next_cursor = client.get(first_page).content.decode().split("after=", 1)[1].split('"', 1)[0]
    later_queries = page_queries(client, f"{first_page}?after={next_cursor}")

    def raw_query() -> None:
        with connection.cursor() as cursor:
            cursor.execute(data_sql, data_params)
            cursor.fetchall()

    def floor_page() -> None:
        assert client.get("/bench-floor/").status_code == 200

    with override_settings(ROOT_URLCONF=floor_urlconf(data_sql, data_params)):
        for call in (lambda: client.get(first_page), raw_query, floor_page):
            timed(call, 20)  # warm caches and the connection
        # In turns, so a slow patch of the machine hits all three alike.
        page_ms, raw_ms, floor_ms = [], [], []
        for _ in range(10):
            page_ms += timed(lambda: client.get(first_page), args.requests // 10)
            raw_ms += timed(raw_query, args.requests // 10)
            floor_ms += timed(floor_page, args.requests // 10)
    open_count = rep.assignments.filter(ended_at__isnull=True).count()  # type: ignore[attr-defined]
    report(page_ms, raw_ms, floor_ms, queries, later_queries, leads=args.leads, open_count=open_count)


def report(
    page_ms: list[float],
    raw_ms: list[float],
    floor_ms: list[float],
    queries: list[str],
    later: list[str],
    *,
    leads: int,
    open_count: int,
) -> None:
    ratio = p95(page_ms) / p95(raw_ms)
    print()
    print(f"inbox of rep1: {open_count:,} open assignments among {leads:,} leads; {len(page_ms)} requests each")
    print(f"inbox page     p50 {statistics.median(page_ms):7.2f} ms   p95 {p95(page_ms):7.2f} ms")
    print(f"raw 50-row SQL p50 {statistics.median(raw_ms):7.2f} ms   p95 {p95(raw_ms):7.2f} ms")
    print(f"framework floor p50 {statistics.median(floor_ms):6.2f} ms   p95 {p95(floor_ms):7.2f} ms"
          "   (signed-in view, same middleware, same raw SQL, plain text)")  # fmt: skip
    print(f"ratio (page p95 / raw SQL p95): {ratio:.1f}x   goal <= 2x: {'met' if ratio <= 2 else 'NOT met'}")
    print(f"ratio at p50: {statistics.median(page_ms) / statistics.median(raw_ms):.1f}x")
    print(f"framework floor / raw SQL p95: {p95(floor_ms) / p95(raw_ms):.1f}x   (the least any page here costs)")
    print(f"page / framework floor p95:   {p95(page_ms) / p95(floor_ms):.1f}x")
    print(f"queries per page: {len(queries)} (first page), {len(later)} (a later page)")


if __name__ == "__main__":
    main()
