"""The managers' reports at 1,000,000 leads: the report's queries against the same questions in raw SQL.

Fills a fresh database with N synthetic leads (default 1,000,000) carrying their first-touch fields,
one to four touches each (the first one fixed as the first touch, as capture does), stage changes for
the leads that reached MQL or SQL, and a year of monthly spend. Then it measures, best of three:

- each report section as the page computes it (``reports.selectors.Report``: ORM aggregates, and the
  attribution and median queries built on the ORM's compiled lead queryset);
- the floor: the same questions written by hand in raw SQL (GROUP BYs on the lead table, a join with
  the stage changes grouped once, the same window functions), run on a bare cursor;
- the whole page, GET /reports/ through the test client as a manager.

It prints each time, the ratio report / raw SQL (goal <= 1.5x), and, for scale, one bare GROUP BY
over the lead table. Uses its own SQLite file (or BENCH_DATABASE_URL), never db.sqlite3.

    DEBUG=1 .venv/bin/python bench/report_bench.py [--leads 1000000]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
GOAL = 1.5
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
    os.environ.setdefault("DEBUG", "1")
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "leadsite.settings"
    os.environ["LOG_LEVEL"] = "WARNING"


# --- Data -----------------------------------------------------------------------------------------


def fill(total: int, now: datetime) -> tuple[int, int]:
    """N leads with touches and stage changes: a base set of bulk-created rows, then copies of it made
    with INSERT ... SELECT (every column copied, ids and emails shifted), so a million leads take a minute
    or two rather than twenty."""
    from django.db import transaction

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
    _reset_sequences(Lead, Touch, StageChange)
    return Touch.objects.count(), StageChange.objects.count()


def _fill_base(total: int, now: datetime) -> tuple[int, int]:
    """The base set: leads with ids 1..N, touches and stage changes with ids from 1, by bulk_create."""
    from django.db import transaction

    from leads.models import Lead, StageChange, Touch

    rng = random.Random(6)
    choices = [source[:4] for source in SOURCES]
    weights = [source[4] for source in SOURCES]
    leads, touch_rows, change_rows = [], [], []
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
                          created_at=created_at, stage_changed_at=created_at, routing_team=rng.choice(TEAMS),
                          first_touch_id=first_id, first_touch_at=created_at, first_touch_source=source,
                          first_touch_medium=medium, first_touch_campaign=campaign, first_touch_channel=channel,
                          last_touch_at=created_at + timedelta(days=(len(path) - 1) * 3)))  # fmt: skip
    with transaction.atomic():
        Lead.objects.bulk_create(leads, batch_size=BATCH)
        Touch.objects.bulk_create(touch_rows, batch_size=BATCH)
        StageChange.objects.bulk_create(change_rows, batch_size=BATCH)
    return len(touch_rows), len(change_rows)


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
) -> list[object]:
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


# --- Raw SQL: the same questions, by hand ---------------------------------------------------------

RAW_VOLUME_SQLITE = """
    SELECT date(created_at, '-6 days', 'weekday 1') AS week, first_touch_channel, COUNT(*)
    FROM leads_lead GROUP BY week, first_touch_channel
"""
RAW_VOLUME_POSTGRESQL = """
    SELECT date_trunc('week', created_at AT TIME ZONE 'UTC')::date AS week, first_touch_channel, COUNT(*)
    FROM leads_lead GROUP BY week, first_touch_channel
"""
# The unary + keeps SQLite from grouping through an index (see reports.selectors.base.Unindexed).
RAW_OUTCOMES = """
    SELECT {plus}l.first_touch_source, {plus}l.first_touch_campaign, {plus}l.first_touch_channel, COUNT(*),
           SUM(CASE WHEN l.stage IN ('mql', 'sql') THEN 1
                    WHEN EXISTS (SELECT 1 FROM leads_stagechange sc WHERE sc.lead_id = l.id
                                 AND sc.to_stage IN ('mql', 'sql')) THEN 1 ELSE 0 END),
           SUM(CASE WHEN l.stage = 'sql' THEN 1
                    WHEN EXISTS (SELECT 1 FROM leads_stagechange sc WHERE sc.lead_id = l.id
                                 AND sc.to_stage = 'sql') THEN 1 ELSE 0 END)
    FROM leads_lead l
    GROUP BY 1, 2, 3
"""
MILESTONES = """
    SELECT lead_id, MIN(changed_at) AS mql_at, MIN(CASE WHEN to_stage = 'sql' THEN changed_at END) AS sql_at
    FROM leads_stagechange WHERE to_stage IN ('mql', 'sql') GROUP BY lead_id
"""
RAW_MEDIAN_MILESTONES = f"""
    SELECT ms.lead_id, l.created_at, ms.mql_at, ms.sql_at FROM ({MILESTONES}) ms JOIN leads_lead l ON l.id = ms.lead_id
"""
RAW_LEADS = "SELECT id, first_touch_id, first_touch_at, stage FROM leads_lead"
RAW_SPEND = "SELECT source, campaign, currency, SUM(amount) FROM reports_spend GROUP BY source, campaign, currency"
FLOOR = "SELECT first_touch_source, COUNT(*) FROM leads_lead GROUP BY first_touch_source"


def raw_queries() -> dict[str, Callable[[], object]]:
    from django.db import connection

    from reports.selectors.attribution import PATH_CREDIT_SQL
    from reports.selectors.funnel import POSTGRESQL_MEDIANS, SQLITE_MEDIANS

    postgresql = connection.vendor == "postgresql"
    medians = POSTGRESQL_MEDIANS if postgresql else SQLITE_MEDIANS
    sql = {
        "volume by week": RAW_VOLUME_POSTGRESQL if postgresql else RAW_VOLUME_SQLITE,
        "outcomes (quality, cost, funnel)": RAW_OUTCOMES.format(plus="" if postgresql else "+"),
        "funnel medians": medians.format(milestones=RAW_MEDIAN_MILESTONES),
        "attribution (path models)": PATH_CREDIT_SQL.format(
            leads=RAW_LEADS, touch="leads_touch", stage_change="leads_stagechange"
        ),
        "spend": RAW_SPEND,
    }

    def run(text: str) -> Callable[[], object]:
        def execute() -> object:
            with connection.cursor() as cursor:
                cursor.execute(text)
                return cursor.fetchall()

        return execute

    return {name: run(text) for name, text in sql.items()}


def report_queries() -> dict[str, Callable[[], object]]:
    from leads.models import Lead
    from reports.selectors import ReportScope
    from reports.selectors.attribution import path_credits
    from reports.selectors.cost import spend_totals
    from reports.selectors.funnel import stage_medians
    from reports.selectors.outcomes import lead_outcomes
    from reports.selectors.volume import volume_counts

    scope = ReportScope(leads=Lead.objects.all())
    return {
        "volume by week": lambda: volume_counts(scope),
        "outcomes (quality, cost, funnel)": lambda: lead_outcomes(scope),
        "funnel medians": lambda: stage_medians(scope),
        "attribution (path models)": lambda: path_credits(scope),
        "spend": lambda: spend_totals(scope),
    }


def best_of(fn: Callable[[], object], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def best_of_each(first: Callable[[], object], second: Callable[[], object], runs: int = 3) -> tuple[float, float]:
    """The best time of each, run in turns so neither gets a warmer cache than the other."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for fn, spent in zip((first, second), times, strict=True):
            started = time.perf_counter()
            fn()
            spent.append(time.perf_counter() - started)
    return min(times[0]), min(times[1])


def page_time() -> float:
    from django.contrib.auth.models import Group
    from django.test import Client

    from leads.tests.factories import UserFactory

    manager = UserFactory(username="bench-manager", is_staff=True)
    manager.groups.add(Group.objects.get(name="Sales manager"))
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(manager)

    def get() -> None:
        response = client.get("/reports/")
        assert response.status_code == 200, response.status_code

    return best_of(get)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=1_000_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        setup_environment(Path(tmp))
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], check=True, cwd=ROOT)
        subprocess.run([*manage, "createcachetable"], check=True, cwd=ROOT)

        import django

        django.setup()
        from django.db import connection
        from django.utils import timezone

        now = timezone.now()
        started = time.perf_counter()
        touches, changes = fill(args.leads, now)
        fill_spend(now)
        if connection.vendor == "sqlite":
            connection.cursor().execute("ANALYZE")
        else:
            connection.cursor().execute("VACUUM ANALYZE")
        print(f"{connection.vendor}: {args.leads:,} leads, {touches:,} touches, {changes:,} stage changes "
              f"(built in {time.perf_counter() - started:.0f}s)")  # fmt: skip

        report, raw = report_queries(), raw_queries()
        print(f"{'section':34} {'report':>9} {'raw SQL':>9} {'ratio':>7}")
        report_total = raw_total = 0.0
        for name in report:
            ours, floor = best_of_each(report[name], raw[name])
            report_total, raw_total = report_total + ours, raw_total + floor
            print(f"{name:34} {ours:8.2f}s {floor:8.2f}s {ours / floor:6.2f}x")
        ratio = report_total / raw_total
        print(f"{'report queries, total':34} {report_total:8.2f}s {raw_total:8.2f}s {ratio:6.2f}x  (goal <= {GOAL}x)")
        page = page_time()
        print(f"{'whole page GET /reports/':34} {page:8.2f}s {raw_total:8.2f}s {page / raw_total:6.2f}x")
        print(f"for scale, one bare GROUP BY first_touch_source over the lead table: {best_of(raw_floor()):.3f}s")
        print("OK" if ratio <= GOAL else "SLOWER THAN THE GOAL")


def raw_floor() -> Callable[[], object]:
    from django.db import connection

    def execute() -> object:
        with connection.cursor() as cursor:
            cursor.execute(FLOOR)
            return cursor.fetchall()

    return execute


if __name__ == "__main__":
    main()
