"""Submit -> enriched lag with the real task worker running (issue: enrichment within minutes).

Captures N leads (default 1,000) through the capture service, each enqueuing the pipeline after
commit exactly as the capture paths do, with a real `manage.py qcluster` working the queue, and
prints the lag from submit to the moment the lead is seen enriched (p50, p95, max). The floor is the
same pipeline run in-process for one lead, measured in the same run, so the ratio shows how much of
the lag is queueing rather than work. Goal: p95 <= 60 s on the default settings.

    DEBUG=1 .venv/bin/python bench/enrichment_bench.py [--leads 1000] [--rate 0]

--rate 0 submits as fast as possible (a burst: the worst case); --rate 20 submits 20 leads a second.
Uses its own SQLite file (or DATABASE_URL if you set BENCH_DATABASE_URL), never db.sqlite3.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_environment(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DEBUG", "1")
    env["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    env["DJANGO_SETTINGS_MODULE"] = "leadsite.settings"
    env["LOG_LEVEL"] = "WARNING"
    os.environ.update(env)
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=0.0, help="leads per second; 0 = as fast as possible")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up waiting after this many seconds")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        env = setup_environment(Path(tmp))
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True, cwd=ROOT)
        subprocess.run([*manage, "createcachetable"], env=env, check=True, cwd=ROOT)

        import django

        django.setup()
        floor = measure_floor()
        worker = subprocess.Popen([*manage, "qcluster"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            lags = run(args.leads, args.rate, args.timeout)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    report(lags, args.leads, floor)


def _directory() -> None:
    from leads.models import CompanyDirectoryEntry

    CompanyDirectoryEntry.objects.bulk_create(
        [
            CompanyDirectoryEntry(
                domain=f"company{i}.example",
                name=f"Company {i}",
                employee_count=10 + i * 37,
                industry="Software",
                country="GB",
            )
            for i in range(200)
        ],
        ignore_conflicts=True,
    )


def _capture(i: int) -> int:
    from django.db import transaction
    from django.utils import timezone

    from leads import services
    from leads.models import ActivityKind

    with transaction.atomic():
        result = services.capture_lead(
            details=services.LeadDetails(
                email=f"person{i}@company{i % 200}.example", first_name="Bench", job_title="Head of Marketing"
            ),
            consent=None,
            activity_kind=ActivityKind.FORM_SUBMITTED,
            touch=services.TouchDetails(source="google", medium="cpc"),
            now=timezone.now(),
        )
        lead_id = result.lead.pk
        services.enqueue_pipeline(lead_id=lead_id)  # as the capture paths do: due now, a wake-up after commit
    return lead_id


def measure_floor() -> float:
    """Seconds the pipeline itself takes for one lead, run in-process (median of 20)."""
    from django.utils import timezone

    from handoff import pipeline
    from leads.models import Lead

    _directory()
    samples = []
    for i in range(20):
        lead = Lead.objects.create(email=f"floor{i}@company{i}.example", job_title="CTO")
        started = time.perf_counter()
        pipeline.process_lead(lead_id=lead.pk, now=timezone.now())
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def run(count: int, rate: float, timeout: float) -> list[float]:
    from leads.models import EnrichmentStatus, Lead

    submitted: dict[int, float] = {}
    interval = 1.0 / rate if rate > 0 else 0.0
    started = time.monotonic()
    for i in range(count):
        if interval:
            time.sleep(max(0.0, started + i * interval - time.monotonic()))
        submitted[_capture(i)] = time.monotonic()
    seen: dict[int, float] = {}
    deadline = time.monotonic() + timeout
    while len(seen) < count and time.monotonic() < deadline:
        done = Lead.objects.filter(pk__in=[pk for pk in submitted if pk not in seen]).exclude(
            enrichment_status=EnrichmentStatus.PENDING
        )
        now = time.monotonic()
        for pk in done.values_list("pk", flat=True):
            seen[pk] = now
        time.sleep(0.2)
    if len(seen) < count:
        print(f"WARNING: {count - len(seen)} lead(s) not enriched within {timeout:.0f}s", file=sys.stderr)
    return sorted(seen[pk] - submitted[pk] for pk in seen)


def report(lags: list[float], count: int, floor: float) -> None:
    if not lags:
        print("no lead was enriched")
        return
    p50 = statistics.median(lags)
    p95 = lags[min(len(lags) - 1, int(len(lags) * 0.95))]
    print(f"leads submitted: {count}, enriched: {len(lags)}")
    print(f"floor (pipeline in-process, one lead): {floor * 1000:.1f} ms")
    print(f"submit->enriched lag: p50 {p50:.2f} s, p95 {p95:.2f} s, max {lags[-1]:.2f} s")
    print(f"p95 / floor: {p95 / floor:.0f}x   goal p95 <= 60 s: {'met' if p95 <= 60 else 'NOT met'}")


if __name__ == "__main__":
    main()
