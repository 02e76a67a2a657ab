"""Nurture sending: the worker against a bare smtplib loop, both into the same local SMTP sink.

Fills a fresh database with N leads (default 10,000; each with a confirmed consent, spread over 500
company domains) enrolled in one live track of one step, all due. Then, interleaved (floor, worker,
floor, worker … ``--rounds`` times), it measures:

- the floor: the very same emails, built beforehand (untimed), sent by a bare ``smtplib`` loop over one
  connection (``sendmail`` per message) — the cost of SMTP alone;
- the worker: ``nurture.sending.send_due_steps`` — claiming due enrollments in batches, checking consent,
  the lead's daytime and the per-domain limit, writing a Send row per email and moving each enrollment, the
  Markdown rendered once per step and filled per lead, signed click and unsubscribe links, the MIME bytes
  written out (``nurture.mime``), sent over the connections of Django's SMTP backend (``NURTURE_SMTP_CONNECTIONS``).

Between rounds the enrollments are made due again and the Send rows removed. The sink (aiosmtpd) runs in
its own process and counts what it accepted, so both sides are checked to deliver every email. Prints
emails/s for both and the ratio. Goal: the worker at least 0.5x the floor. Uses its own SQLite file (or
BENCH_DATABASE_URL), never db.sqlite3.

    DEBUG=1 .venv/bin/python bench/nurture_send.py [--leads 10000] [--rounds 2] [--batch-size 500]
"""

from __future__ import annotations

import argparse
import os
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
GOAL = 0.5
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday, 10:00 in London: inside the sending window
SINK = """
import asyncio, sys
from aiosmtpd.controller import Controller

class Count:
    n = 0
    async def handle_DATA(self, server, session, envelope):
        Count.n += 1
        return "250 OK"
    async def handle_RSET(self, server, session, envelope):
        return "250 OK"

controller = Controller(Count(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
for line in sys.stdin:  # "count" asks how many were accepted; EOF stops the sink
    print(Count.n, flush=True)
controller.stop()
"""


def setup_environment(workdir: Path, port: int) -> None:
    os.environ.setdefault("DEBUG", "1")
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "leadsite.settings"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["EMAIL_URL"] = f"smtp://127.0.0.1:{port}"
    os.environ["SITE_URL"] = "https://leads.example.com"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fill(count: int) -> object:
    from django.db import transaction

    from leads.models import Consent, ConsentSource, Lead, LegalBasis
    from nurture.models import Enrollment, EnrollmentSource, Step, Track, TrackStatus

    track = Track.objects.create(
        name="Bench", key="bench", status=TrackStatus.LIVE, per_domain_hourly_limit=10_000, time_zone="Europe/London"
    )
    Step.objects.create(
        track=track,
        position=1,
        delay_days=0,
        subject="{{ first_name }}, the 2026 B2B report for {{ company }}",
        body="Hi **{{ first_name }}**,\n\nHere is [the report](https://www.example.com/report.pdf) for {{ company }}. "
        "It covers 400 teams.\n\n- [Webinar](https://www.example.com/webinar)\n- [Pricing](https://www.example.com/p)",
    )
    with transaction.atomic():
        leads = Lead.objects.bulk_create(
            Lead(
                email=f"person{i}@company{i % 500}.example",
                first_name=f"Person{i}",
                last_name="Bench",
                company_name=f"Company {i % 500} & Co",
                company_domain=f"company{i % 500}.example",
                country="GB",
                created_at=NOW,
            )
            for i in range(count)
        )
        Consent.objects.bulk_create(
            Consent(lead=lead, legal_basis=LegalBasis.OPT_IN, text="You may email me.", source=ConsentSource.FORM,
                    given_at=NOW)
            for lead in leads
        )  # fmt: skip
        Enrollment.objects.bulk_create(
            Enrollment(lead=lead, track=track, source=EnrollmentSource.ROUTING, started_at=NOW, next_due_at=NOW)
            for lead in leads
        )
    return track


def reset() -> None:
    from nurture.models import Enrollment, EnrollmentStatus, Send

    Send.objects.all().delete()
    Enrollment.objects.update(
        status=EnrollmentStatus.ACTIVE, last_position=0, next_due_at=NOW, ended_at=None, lease_until=None
    )


def floor_messages(track: object) -> list[tuple[str, str, bytes]]:
    """The same emails the worker sends, built with its own code (untimed): (envelope from, to, bytes)."""
    from nurture import sending
    from nurture.models import Enrollment

    compiled = sending.compile_step(track.steps.get())  # type: ignore[attr-defined]
    frame = sending.Frame.for_track(track, now=NOW)  # type: ignore[arg-type]
    messages = []
    for index, enrollment in enumerate(Enrollment.objects.select_related("lead").order_by("id")):
        lead = enrollment.lead
        email = sending.build_raw(
            compiled,
            frame=frame,
            values=sending.person_values(lead),
            to=lead.email or "",
            send_id=index + 1,
            message_id=f"<floor.{index}@localhost>",
        )
        messages.append((email.envelope_from, email.recipient, email.data))
    return messages


def run_floor(messages: list[tuple[str, str, bytes]], port: int) -> float:
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for sender, recipient, body in messages:
            smtp.sendmail(sender, [recipient], body)
    return time.perf_counter() - started


def run_worker(batch_size: int) -> tuple[float, int]:
    from nurture import sending

    started = time.perf_counter()
    result = sending.send_due_steps(now=NOW, batch_size=batch_size)
    return time.perf_counter() - started, result.sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()

    port = free_port()
    sink = subprocess.Popen(
        [sys.executable, "-c", SINK, str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert sink.stdout is not None and sink.stdin is not None
    assert sink.stdout.readline().strip() == "ready"

    def accepted() -> int:
        sink.stdin.write("count\n")  # type: ignore[union-attr]
        sink.stdin.flush()  # type: ignore[union-attr]
        return int(sink.stdout.readline())  # type: ignore[union-attr]

    with tempfile.TemporaryDirectory(prefix="nurture-bench-") as workdir:
        setup_environment(Path(workdir), port)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        track = fill(args.leads)
        messages = floor_messages(track)
        started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        print(f"{started}: {args.leads} enrolled leads, one step; sink on port {port}; batch size {args.batch_size};"
              f" load average {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip

        floors, workers = [], []
        for round_number in range(1, args.rounds + 1):
            before = accepted()
            seconds = run_floor(messages, port)
            assert accepted() - before == len(messages), "the floor lost emails"
            floors.append(len(messages) / seconds)
            reset()
            before = accepted()
            seconds, sent = run_worker(args.batch_size)
            assert sent == args.leads and accepted() - before == sent, f"the worker sent {sent} of {args.leads}"
            workers.append(sent / seconds)
            load = os.getloadavg()[0]
            print(f"round {round_number}: floor {floors[-1]:,.0f} emails/s · worker {workers[-1]:,.0f} emails/s"
                  f" (ratio {workers[-1] / floors[-1]:.2f}x; load average {load:.1f})", flush=True)  # fmt: skip
            reset()

        floor, worker = statistics.median(floors), statistics.median(workers)
        ratio = worker / floor
        verdict = "goal met" if ratio >= GOAL else "goal NOT met"
        print(f"median: floor {floor:,.0f} emails/s, worker {worker:,.0f} emails/s = {ratio:.2f}x ({verdict}: {GOAL}x)")
    sink.stdin.close()
    sink.wait(timeout=10)


if __name__ == "__main__":
    main()
