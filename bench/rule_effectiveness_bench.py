"""The scoring-rule effectiveness page against the floor's ``GET /report``, in the same run, interleaved.

Builds the same database as ``report_bench.py`` (its ``fill``: N leads over the last year with touches and
stage changes), then gives every lead a stored score and breakdown from 20 patterns of five rules of an
active model (one ``UPDATE`` from a small pattern table, keyed on the lead id), builds the rule-effectiveness
rollups with ``scoring.effectiveness_rollups.rebuild_rollups`` (what ``manage.py rebuild_rule_effectiveness``
runs) and times that and one every-minute refresh (the recent days, and the days a rescore of every lead
marked, bounded per run). It seeds the shared floor with the same number of rows, serves both with gunicorn
(sync, one worker each, ``DEBUG=0``) and requests, round after round, the floor's ``GET /report`` (a GROUP BY
over every row), then as a marketer ``/admin/scoring/rule-effectiveness/`` (the last 90 days: what the page
opens on) and the same page over the whole year, both read from the rollups. Then, for the before figure, the
rollups are switched off (the page counts every lead of the period live, as it does before the first build)
and ``--live-rounds`` more rounds time the year live. Goal: the page <= 5x the floor's /report (the reports
page's goal).

    .venv/bin/python bench/rule_effectiveness_bench.py [--leads 1000000] [--rounds 5] [--live-rounds 1]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import report_bench
from report_bench import ROOT, seed_floor, serve, setup_environment, timed_get

PATTERNS = 20
RULES = (("ICP industry", 20), ("Company size", 15), ("Seniority", 10), ("Pricing page", 5), ("Webinar", 8))


def give_breakdowns() -> int:
    """Every lead a score and breakdown: lead id % 20 picks one of 20 patterns of the five rules."""
    from django.db import connection

    from scoring.models import ScoringModel, ScoringRule

    model = ScoringModel.objects.create(
        name="Bench model", is_active=True, mql_threshold=40, nurture_threshold=10, engagement_half_life_days=30
    )
    rules = [
        ScoringRule.objects.create(
            scoring_model=model,
            order=i,
            name=name,
            kind="attribute_in",
            points=points,
            params={"field": "industry", "values": ["Software"]},
        )
        for i, (name, points) in enumerate(RULES)
    ]
    patterns = []
    for k in range(PATTERNS):
        fired = [rule for bit, rule in enumerate(rules) if (k >> bit) & 1 or (k + bit) % 3 == 0]
        breakdown = [{"rule_id": r.pk, "name": r.name, "kind": r.kind, "dimension": "fit", "points": r.points,
                      "reason": ""} for r in fired]  # fmt: skip
        patterns.append((k, json.dumps(breakdown), sum(r.points for r in fired)))
    cast = "::jsonb" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE bench_pattern (k integer PRIMARY KEY, bd text, score integer)")
        cursor.executemany("INSERT INTO bench_pattern VALUES (%s, %s, %s)", patterns)
        cursor.execute(
            f"UPDATE leads_lead SET score_breakdown = (SELECT bd{cast} FROM bench_pattern p WHERE p.k = leads_lead.id % {PATTERNS}), "  # noqa: E501
            f"score = (SELECT score FROM bench_pattern p WHERE p.k = leads_lead.id % {PATTERNS})"
        )
        cursor.execute("DROP TABLE bench_pattern")
    return len(rules)


def build_rollups(now: datetime) -> None:
    """Build the rollups from scratch, then time one refresh after a rescore of every lead marked every day."""
    from scoring.effectiveness_rollups import DAYS_PER_REFRESH, mark_days_changed, rebuild_rollups, refresh_rollups
    from scoring.models import EffectivenessDirtyDay

    started = time.perf_counter()
    days = rebuild_rollups(now=now)
    print(f"rebuild_rollups: {days} days in {time.perf_counter() - started:.1f}s")
    started = time.perf_counter()
    refreshed = refresh_rollups(now=now)
    print(f"refresh_rollups, nothing marked: {refreshed} recent days in {time.perf_counter() - started:.2f}s")
    mark_days_changed(created=[now - timedelta(days=n) for n in range(2, 367)], now=now)  # what a full rescore marks
    started = time.perf_counter()
    refreshed = refresh_rollups(now=now)
    left = EffectivenessDirtyDay.objects.count()
    print(f"refresh_rollups, every day marked: {refreshed} days (at most {DAYS_PER_REFRESH} older ones) in "
          f"{time.perf_counter() - started:.1f}s; {left} marks left for the next runs")  # fmt: skip
    EffectivenessDirtyDay.objects.all().delete()


def marketer_cookie() -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.db import SessionStore

    from leads.tests.factories import UserFactory

    marketer = UserFactory(username="bench-marketer", is_staff=True)
    marketer.groups.add(Group.objects.get(name="Marketing"))
    session = SessionStore()
    session[SESSION_KEY] = str(marketer.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = marketer.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--live-rounds", type=int, default=1, help="rounds of the page counted live (no rollups)")
    parser.add_argument("--port", type=int, default=8741)
    args = parser.parse_args()

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

        now = timezone.now()
        started = time.perf_counter()
        report_bench.fill(args.leads, now)
        rules = give_breakdowns()
        connection.cursor().execute("ANALYZE" if connection.vendor == "sqlite" else "VACUUM ANALYZE")
        print(f"{connection.vendor}: {args.leads:,} leads with breakdowns of {rules} rules "
              f"(built in {time.perf_counter() - started:.0f}s)")  # fmt: skip
        build_rollups(now)
        floor_env = seed_floor(args.leads, workdir)
        cookie = marketer_cookie()
        connection.close()

        project_port, floor_port = args.port, args.port + 1
        servers = [
            serve("app:application", port=floor_port, chdir=report_bench.FLOOR_DIR, env=floor_env),
            serve("leadsite.wsgi:application", port=project_port, chdir=ROOT, env=dict(os.environ)),
        ]
        try:
            floor = f"http://127.0.0.1:{floor_port}/report"
            page = f"http://127.0.0.1:{project_port}/admin/scoring/rule-effectiveness/"
            year = f"{page}?start={(now - timedelta(days=366)).date():%Y-%m-%d}"
            for url in (floor, page):
                timed_get(url, cookie)
            print(f"load: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
            ratios = report_bench.rounds(args.rounds, floor, {"page (90 days)": page, "page (a year)": year}, cookie)
            print(f"load: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
            report_bench.summary(ratios)
            if args.live_rounds:
                from scoring.models import EffectivenessState

                EffectivenessState.objects.update(rebuilt_at=None)  # the page now counts live: the before figure
                connection.close()
                print("before: the rollups switched off, the page counts every lead of the period live")
                live = report_bench.rounds(args.live_rounds, floor, {"live page (a year)": year}, cookie)
                print(f"load: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
                report_bench.summary(live)
        finally:
            for server in servers:
                server.terminate()
                server.wait()


if __name__ == "__main__":
    main()
