"""The admin lists of the tables that grow with the leads, at 1,000,000 leads, against the shared floor's ``GET /list``.

Uses the inbox bench's data (``inbox_bench.py``: N leads with their stage changes, an open assignment and SLA clock for
every owned MQL, one London team of four reps and its manager; built or topped up here the same way, and kept in the
temp directory between runs) and adds what the admin lists show beyond it: the default scoring model, active (so
"why not an MQL" explains each waiting lead as it does on a live site), the demo forms, and one submission for each
bulk lead through one of them (1 % held as spam). It seeds the shared floor with the same number of rows and serves
both the same way: gunicorn sync with 4 workers, ``DEBUG=0``, on 127.0.0.1. Each round then runs wrk (one thread, 16
connections) in turns, floor then page, for every page, as the person each page is for:

    /admin/leads/lead/                    marketer   every lead, newest first
    /admin/leads/lead/?stage__exact=mql   marketer   filtered by stage (a filter of the sidebar)
    /admin/leads/stagechange/             marketer   every stage change, newest first
    /admin/leads/submission/              marketer   every submission, newest first (marketing's alone)
    /admin/handoff/assignment/            manager    the assignments of their team's leads (managers' alone)
    /admin/leads/lead/ (manager)          manager    their team's leads

and prints each page's p95 over the floor's p95 of the same turn (issue 13's goal: at most 2x), then the median and
range over the rounds. The queries each page makes are counted in process, on its first and second page. A search
(``?q=``) is not among them: it reads every lead (``icontains`` on four columns), 0.4 s on SQLite at a million
(bench/README, "Admin searches and filters").

    .venv/bin/python bench/admin_bench.py [--leads 1000000] [--rounds 3] [--duration 10] [--fresh]
                                          [--pages leads "stage changes" ...]

BENCH_DATABASE_URL runs the project on PostgreSQL instead (the floor then stays on SQLite unless FLOOR_DB=pg). Needs
wrk (apt-get install wrk) and gunicorn. ``page_cpu.py <path> --user marketer`` times one of these pages in process.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent))

from inbox_bench import (
    analyse,
    build_data,
    check_served,
    run_rounds,
    seed_floor,
    session_cookie,
    setup_environment,
    start_servers,
    stop,
    summary,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.test import Client

BATCH = 5000
SPAM_EVERY = 100  # one submission in a hundred is held as spam, without a lead


def build_admin_data(*, submissions: int, now: datetime) -> None:
    """The active scoring model, the demo forms, and submissions of the bulk leads up to ``submissions``. Idempotent."""
    from leads import demo
    from scoring.demo import install_default_model

    install_default_model(now=now)
    demo.ensure_demo_forms(now=now)
    started = time.monotonic()
    added = top_up_submissions(submissions)
    print(f"submissions: {added:,} added in {time.monotonic() - started:.0f}s (total {submissions:,})", flush=True)


def top_up_submissions(total: int) -> int:
    """One submission for each lead that has none, oldest lead first, until there are ``total``, sent when the lead
    was created; every ``SPAM_EVERY``-th is held as spam (no lead, as a spam submission keeps none)."""
    from django.db import transaction

    from leads.models import CaptureForm, Lead, SpamReason, Submission, SubmissionStatus

    missing = total - Submission.objects.count()
    if missing <= 0:
        return 0
    forms = [(form, form.consent_texts.order_by("-version").first()) for form in CaptureForm.objects.order_by("pk")]
    # Past the last lead an earlier run reached: the leads it held as spam have no submission either.
    key = Submission.objects.filter(user_agent="admin-bench").order_by("-pk").values_list("idempotency_key").first()
    reached = int(key[0].rpartition("-")[2]) if key else 0
    leads = (
        Lead.objects.filter(submissions__isnull=True, pk__gt=reached)
        .order_by("pk")
        .values_list("pk", "email", "first_name", "last_name", "company_name", "created_at")[:missing]
    )
    rows = []
    for pk, email, first, last, company, created_at in leads.iterator(chunk_size=BATCH):
        form, consent_text = forms[pk % len(forms)]
        spam = pk % SPAM_EVERY == 0
        rows.append(
            Submission(form=form, consent_text=consent_text, idempotency_key=f"admin-bench-{pk}",
                       payload={"email": email, "first_name": first, "last_name": last, "company": company},
                       attribution={"utm_source": "bench"}, ip_address=f"203.0.113.{pk % 250 + 1}",
                       user_agent="admin-bench", rendered_at=created_at - timedelta(seconds=40),
                       submitted_at=created_at, lead_id=None if spam else pk,
                       status=SubmissionStatus.SPAM if spam else SubmissionStatus.CAPTURED,
                       spam_reason=SpamReason.TOO_FAST if spam else "")
        )  # fmt: skip
        if len(rows) == BATCH * 10:
            with transaction.atomic():
                Submission.objects.bulk_create(rows, batch_size=BATCH)
            rows = []
    with transaction.atomic():
        Submission.objects.bulk_create(rows, batch_size=BATCH)
    return missing


# --- The pages ---------------------------------------------------------------------------------------


def pages_to_time() -> dict[str, tuple[str, str]]:
    """The pages, by name: each path with its query string, and who opens it."""
    return {
        "leads": ("/admin/leads/lead/", "marketer"),
        "leads, filtered by stage": ("/admin/leads/lead/?stage__exact=mql", "marketer"),
        "stage changes": ("/admin/leads/stagechange/", "marketer"),
        "submissions": ("/admin/leads/submission/", "marketer"),
        "assignments (manager)": ("/admin/handoff/assignment/", "manager"),
        "leads (manager)": ("/admin/leads/lead/", "manager"),
    }


def count_queries(client: Client, path: str) -> tuple[int, int]:
    """Queries of the list's first page and of its second (they must be equal: no query per row)."""
    second = f"{path}{'&' if '?' in path else '?'}p=2"
    return _queries(client, path), _queries(client, second)


def _queries(client: Client, path: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(path)  # per-process caches (permissions, the scoring model's rules) are read once, then kept
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--submissions", type=int, default=None, help="default: one for each lead")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per page and turn (issue 13: 20)")
    parser.add_argument("--conc", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=8761, help="the project's; the floor's is the next one")
    parser.add_argument("--fresh", action="store_true", help="delete the bench databases first")
    parser.add_argument("--pages", nargs="+", metavar="NAME", help="only these pages, by name (as printed)")
    args = parser.parse_args()
    url = setup_environment(fresh=args.fresh)

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    print(f"database: {url}", flush=True)
    call_command("migrate", verbosity=0)
    now = timezone.now()
    build_data(args.leads, now)
    build_admin_data(submissions=args.leads if args.submissions is None else args.submissions, now=now)
    analyse()
    floor_env = seed_floor(args.leads)
    pages = {name: page for name, page in pages_to_time().items() if not args.pages or name in args.pages}
    users: dict[str, User] = {name: get_user_model().objects.get(username=name) for name in ("marketer", "manager")}
    cookies = {name: session_cookie(user) for name, user in users.items()}
    queries: dict[str, tuple[int, int | None]] = {}
    for name, (path, username) in pages.items():
        client = Client()
        client.force_login(users[username])
        queries[name] = count_queries(client, path)
    connection.close()

    servers, project_base, floor_base = start_servers(url, floor_env, port=args.port, workers=args.workers)
    try:
        timed = {name: (path, cookies[username]) for name, (path, username) in pages.items()}
        for path, cookie in timed.values():
            check_served(project_base, path, cookie)
        print(f"{args.leads:,} leads on both sides; marketer and manager signed in")
        print(f"wrk -t1 -c{args.conc} -d{args.duration}s after a 2 s warm-up; gunicorn sync x{args.workers}; DEBUG=0")
        ratios = run_rounds(args, floor_base, project_base, timed)
    finally:
        for server in servers:
            stop(server)
    summary(ratios, queries)


if __name__ == "__main__":
    main()
