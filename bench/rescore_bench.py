"""Rescoring every lead after a rule change: the batch loop vs a per-row save() loop.

Fills a fresh database with N synthetic leads (default 1,000,000; ``leads.demo.bulk_create_leads``),
their firmographics, and about one activity per lead, installs the default scoring model and scores
everything once. Then it changes a rule, as a marketer would in admin, and measures:

- the floor: each lead of a sample spread over the table loaded, evaluated by the pure evaluator
  (``rules.score``) and saved with ``save(update_fields=...)``; as in earlier runs, the loop passes the
  rule list, which ``rules.score`` checks on every call. A second loop passes a ``rules.RuleSet`` (the
  rules checked once, as the batches do) and gives a stricter floor, printed beside it;
- ``scoring.services.rescore_all``: batches of id ranges over all N leads, each loading only the columns
  scoring reads with the batch's consents and activities in one query each, evaluated by the same
  ``rules.score``, the changed rows written with ``bulk_update``, plus the stage service for the leads the
  change moves across a threshold.

It prints leads/s for both and the ratio. Goal: at least 20x. Uses its own SQLite file (or
BENCH_DATABASE_URL), never db.sqlite3.

    DEBUG=1 .venv/bin/python bench/rescore_bench.py [--leads 1000000] [--sample 2000] [--batch-size 5000]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scoring.services import RescoreResult

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
GOAL = 20.0


def setup_environment(workdir: Path) -> None:
    os.environ.setdefault("DEBUG", "1")
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "leadsite.settings"
    os.environ["LOG_LEVEL"] = "WARNING"


def fill(leads: int, now: datetime) -> int:
    """N bulk leads with an industry and size per company, and activities for two leads in three."""
    from django.db import transaction

    from leads import demo
    from leads.models import Activity, ActivityKind, Lead

    reps = [user for name, user in demo.ensure_demo_users().items() if name.startswith("rep")]
    demo.bulk_create_leads(total=leads, reps=reps, now=now)
    industries = ["Software", "Logistics", "Healthcare", "Fintech", "Retail", "Software", "Manufacturing", "Media"]
    for i, company in enumerate(demo.COMPANIES):
        Lead.objects.filter(company_domain=company.domain).update(
            industry=industries[i % len(industries)], employee_count=(50, 400, 1200, 8000)[i % 4]
        )
    rng = random.Random(1)
    kinds = [ActivityKind.WEBINAR_ATTENDED, ActivityKind.PRICING_PAGE_VIEW, ActivityKind.EMAIL_CLICKED]
    ids = list(Lead.objects.order_by("id").values_list("id", flat=True))
    added = 0
    for start in range(0, len(ids), 20_000):
        rows = [
            Activity(
                lead_id=lead_id,
                kind=rng.choice(kinds),
                occurred_at=now - timedelta(days=rng.uniform(0, 120)),
                created_at=now,
            )
            for lead_id in ids[start : start + 20_000]
            for _ in range(rng.choice((0, 1, 1, 2)))
        ]
        with transaction.atomic():
            Activity.objects.bulk_create(rows, batch_size=5000)
        added += len(rows)
    return added


def change_a_rule() -> str:
    """What a marketer might do: pricing-page visits count more, and Retail joins the ICP."""
    from scoring.models import ScoringRule

    ScoringRule.objects.filter(name="Pricing-page visits").update(points=12, cap=36)
    icp = ScoringRule.objects.get(name="ICP industry")
    icp.params = {**icp.params, "values": [*icp.params["values"], "Retail"]}
    icp.save(update_fields=["params"])
    return "pricing-page visits 8 -> 12 points (cap 36), Retail added to the ICP industries"


def per_row(sample: int, now: datetime, *, checked_once: bool = False) -> tuple[int, float, float]:
    """The floor: each lead loaded, evaluated in Python and saved on its own (rules loaded once, no stage moves)."""
    from leads.models import Lead
    from scoring import rules, selectors
    from scoring.services.lead_scoring import SCORE_FIELDS, breakdown_json

    total = Lead.objects.count()
    step = max(1, total // sample)
    ids = list(Lead.objects.order_by("id").values_list("id", flat=True)[::step][:sample])
    scoring = selectors.active_scoring()
    assert scoring is not None, "no active scoring model"
    rule_list = scoring.rule_set if checked_once else scoring.rule_specs
    started, cpu_started = time.perf_counter(), time.process_time()
    for lead_id in ids:
        lead = Lead.objects.get(pk=lead_id)
        facts = selectors.lead_facts(lead)
        activities = selectors.activity_facts(lead_id=lead_id, lookback_days=scoring.lookback_days, now=now)
        result = rules.score(facts, activities, rule_list, scoring.spec, now)
        lead.score, lead.fit_score, lead.engagement_score = result.total, result.fit, result.engagement
        lead.score_breakdown, lead.scored_at = breakdown_json(result.breakdown), now
        lead.save(update_fields=SCORE_FIELDS)
    return len(ids), time.perf_counter() - started, time.process_time() - cpu_started


def _rates(leads: int, seconds: float, cpu: float) -> str:
    return f"{leads:,} leads in {seconds:.1f}s = {leads / seconds:,.0f} leads/s ({leads / cpu:,.0f} per CPU second)"


def _moves(result: RescoreResult) -> str:
    return f"{result.to_mql:,} to MQL, {result.to_nurture:,} to nurture, {result.disqualified:,} disqualified"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=2000, help="leads in the per-row save() loop")
    parser.add_argument("--batch-size", type=int, default=5000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        setup_environment(Path(tmp))
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.utils import timezone

        from scoring.demo import install_default_model
        from scoring.services import rescore_all

        call_command("migrate", verbosity=0)
        now = timezone.now()
        started = time.perf_counter()
        activities = fill(args.leads, now)
        filled = time.perf_counter() - started
        print(f"{args.leads:,} leads, {activities:,} activities on {connection.vendor} (filled in {filled:.0f}s)")

        install_default_model(now=now)
        started = time.perf_counter()
        first = rescore_all(now=now, batch_size=args.batch_size)
        print(f"initial scoring: {first.scored:,} leads in {time.perf_counter() - started:.1f}s ({_moves(first)})")

        print(f"rule change: {change_a_rule()}")
        sampled, loop_seconds, loop_cpu = per_row(args.sample, now)
        print(f"per-row save() loop: {_rates(sampled, loop_seconds, loop_cpu)}")
        _, strict_seconds, strict_cpu = per_row(args.sample, now, checked_once=True)
        print(f"per-row save() loop, rules checked once: {_rates(sampled, strict_seconds, strict_cpu)}")

        started, cpu_started = time.perf_counter(), time.process_time()
        result = rescore_all(now=now, batch_size=args.batch_size)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        print(f"batch rescore: {_rates(result.scored, seconds, cpu)}")
        print(f"  {result.changed:,} scores changed; {_moves(result)}")
        ratio = (result.scored / seconds) / (sampled / loop_seconds)
        verdict = "OK" if ratio >= GOAL else "BELOW GOAL"
        print(f"ratio: {ratio:.1f}x faster than the per-row loop (goal >= {GOAL:.0f}x) {verdict}")
        strict = (result.scored / seconds) / (sampled / strict_seconds)
        print(f"ratio to the loop with the rules checked once: {strict:.1f}x")
        if connection.vendor == "sqlite":  # in-process: CPU time is all the work, whatever else runs on the machine
            cpu_ratios = [(result.scored / cpu) / (sampled / floor) for floor in (loop_cpu, strict_cpu)]
            print("ratios in CPU time (the same two floors): {:.1f}x, {:.1f}x".format(*cpu_ratios))


if __name__ == "__main__":
    main()
