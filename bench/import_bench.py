"""Lead import throughput (rows per second) against the shared floor's ``POST /insert4`` loop, in one run.

Usage (from the project root, with the virtualenv):
  DEBUG=1 .venv/bin/python bench/import_bench.py                  # 100,000 rows, SQLite in a temporary folder
  DEBUG=1 .venv/bin/python bench/import_bench.py --rows 5000      # a quick look
  BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/import_bench .venv/bin/python bench/import_bench.py

The project's database is a fresh one (a temporary SQLite file, or ``BENCH_DATABASE_URL``, which is dropped and
created); it gets ``--existing`` leads first (the file's merges), and the suppression list a few addresses. The
file is a badge-scan CSV of ``--rows`` rows: new people, people already leads (merged), 1 % bad addresses, 1 %
repeated rows and a few suppressed addresses. The preview and the import run exactly as the worker runs them
(``leads.imports.run_preview`` and ``run_import``: chunks of 500 rows, each written set-based, each lead given to
the pipeline), in this process.

The floor is /work/shared/floor's ``POST /insert4`` (lead + consent + touch + score in one transaction) under
gunicorn with one sync worker, called in a loop by one client for ``--floor-seconds``: rows a single writer
puts in the database per second through Django. It is measured before the import and after it (and its two
figures printed); the ratio uses their mean. Goal (issue 17): 100,000 rows in minutes, i.e. at least 167 rows/s
(10 minutes). The machine is shared: quote the load average printed with each figure.
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOOR = Path(os.environ.get("FLOOR_DIR", "/work/shared/floor"))
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
GOAL_ROWS_PER_SECOND = 100_000 / 600


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def floor_env(db: str, tmp: Path) -> dict[str, str]:
    env = dict(os.environ, FLOOR_DB=db, FLOOR_SQLITE_PATH=str(tmp / "floor.sqlite3"))
    env.setdefault("PGHOST", "127.0.0.1")
    env.setdefault("PGUSER", "postgres")
    env.setdefault("FLOOR_PG_NAME", "floor_import_bench")
    return env


def start_floor(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    cmd = [GUNICORN, "--chdir", str(FLOOR), "-b", f"127.0.0.1:{port}", "-k", "sync", "-w", "1", "app:application"]
    with open(log, "a") as errors:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=errors, start_new_session=True)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2).read()
            return proc
        except Exception:
            if proc.poll() is not None:
                raise SystemExit(f"floor server exited ({proc.returncode}); see {log}") from None
            time.sleep(0.1)
    raise SystemExit(f"floor server did not start; see {log}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def floor_rows_per_second(port: int, seconds: float) -> float:
    """One client POSTing /insert4 in a loop: leads (with consent, touch and score) written per second."""
    url = f"http://127.0.0.1:{port}/insert4"
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        request = urllib.request.Request(url, data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201
        done += 1
    return done / (time.perf_counter() - started)


def setup_django(database_url: str, tmp: Path) -> None:
    os.environ.update(
        DATABASE_URL=database_url, SECRET_KEY="bench-secret-key-not-for-production-0123456789", DEBUG="0",
        ALLOWED_HOSTS="127.0.0.1,localhost", MEDIA_ROOT=str(tmp / "media"), STATIC_ROOT=str(tmp / "static"),
    )  # fmt: skip
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadsite.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.MEDIA_ROOT = str(tmp / "media")
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)


def make_file(rows: int, existing: int) -> bytes:
    """A badge-scan export: new people, existing leads, 1 % bad addresses, 1 % repeats, a few suppressed ones."""
    lines = ["Badge;E-mail;First Name;Last Name;Company;Job Title;Country"]
    for i in range(rows):
        if i % 100 == 7:
            email = f"not-an-address-{i}"
        elif i % 100 == 13 and i > 0:
            email = f"new{i - 1}@scan.example"
        elif i % 1000 == 21:
            email = f"suppressed{i}@scan.example"
        elif i < existing * 2 and i % 2 == 0:
            email = f"known{i // 2}@lead.example"
        else:
            email = f"new{i}@scan.example"
        lines.append(f"B{i:06d};{email};Ada{i};Lovelace;Firm {i % 5000};Head of Ops;DE")
    return ("\n".join(lines) + "\n").encode()


def run_import(rows: int, existing: int) -> dict[str, float]:
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from leads import imports
    from leads.import_files import FULL_NAME, read_table
    from leads.models import ImportEvent, Lead, LeadImport, LegalBasis
    from leads.suppression import suppress_address

    now = timezone.now()
    Lead.objects.bulk_create(
        Lead(email=f"known{i}@lead.example", first_name="Known", company_name="Old Firm", created_at=now)
        for i in range(existing)
    )
    for i in range(rows):
        if i % 1000 == 21:
            suppress_address(email=f"suppressed{i}@scan.example", reason="bench", now=now)
    content = make_file(rows, existing)
    table = read_table(io.BytesIO(content), name="scans.csv")
    event = ImportEvent.objects.create(name="Bench Summit", source="bench-summit", notice="Badge scans are shared.")
    batch = LeadImport.objects.create(
        event=event, file=ContentFile(content, name="scans.csv"), file_name="scans.csv", columns=table.columns,
        legal_basis=LegalBasis.EVENT, consent_text=event.notice, created_at=now,
    )  # fmt: skip
    mapping = {"Badge": "answer:", "E-mail": "email", "First Name": "first_name", "Last Name": "last_name",
               "Company": "company_name", "Job Title": "job_title", "Country": "country"}  # fmt: skip
    assert FULL_NAME not in mapping.values()
    started = time.perf_counter()
    batch = imports.start_preview(batch=batch, mapping=mapping, now=now)
    batch = imports.run_preview(batch_id=batch.pk, clock=timezone.now)
    preview_seconds = time.perf_counter() - started
    if batch.status != "previewed":
        raise SystemExit(f"the preview ended {batch.status}: {batch.failure}")
    imports.start_import(batch=batch, now=now)
    started = time.perf_counter()
    batch = imports.run_import(batch_id=batch.pk, clock=timezone.now)
    seconds = time.perf_counter() - started
    if batch.status != "done":
        raise SystemExit(f"the import ended {batch.status}: {batch.failure}")
    print(
        f"import: {batch.total_rows} rows, {batch.created_count} new, {batch.merged_count} merged, "
        f"{batch.error_count} errors, {batch.duplicate_count} repeated, {batch.suppressed_count} suppressed; "
        f"preview {preview_seconds:.1f} s, import {seconds:.1f} s (load {load()})",
        flush=True,
    )
    return {"rows": batch.total_rows, "seconds": seconds, "preview_seconds": preview_seconds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--existing", type=int, default=5_000, help="leads there before the import (merged)")
    ap.add_argument("--floor-rows", type=int, default=100_000, help="rows in the floor's lead table")
    ap.add_argument("--floor-seconds", type=float, default=20)
    ap.add_argument("--port", type=int, default=8793)
    a = ap.parse_args()
    database_url = os.environ.get("BENCH_DATABASE_URL", "")
    db = "pg" if database_url.startswith("postgres") else "sqlite"
    with tempfile.TemporaryDirectory(prefix="import-bench-") as name:
        tmp = Path(name)
        if not database_url:
            database_url = f"sqlite:///{tmp / 'project.sqlite3'}"
        else:
            _recreate_pg(database_url)
        env = floor_env(db, tmp)
        if db == "pg":  # the floor's seed creates its tables, not its database
            port = env.get("PGPORT", "5432")
            _recreate_pg(f"postgres://{env['PGUSER']}@{env['PGHOST']}:{port}/{env['FLOOR_PG_NAME']}")
        subprocess.run([sys.executable, "seed.py", db, "--rows", str(a.floor_rows)], cwd=FLOOR, env=env, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        setup_django(database_url, tmp)
        floor = start_floor(env, a.port, tmp / "floor.log")
        try:
            before = floor_rows_per_second(a.port, a.floor_seconds)
            print(f"floor /insert4 loop before: {before:.0f} rows/s (load {load()})", flush=True)
            result = run_import(a.rows, a.existing)
            after = floor_rows_per_second(a.port, a.floor_seconds)
            print(f"floor /insert4 loop after: {after:.0f} rows/s (load {load()})", flush=True)
        finally:
            stop(floor)
    floor_rate = (before + after) / 2
    rate = result["rows"] / result["seconds"]
    print()
    print("| work | floor rows/s | project rows/s | ratio | goal | met |")
    print("|---|---|---|---|---|---|")
    met = "yes" if rate >= GOAL_ROWS_PER_SECOND else "no"
    print(
        f"| import {result['rows']:,} rows ({db}) | {floor_rate:.0f} | {rate:.0f} | {rate / floor_rate:.2f}x "
        f"| ≥ {GOAL_ROWS_PER_SECOND:.0f} rows/s (100,000 in 10 min) | {met} |"
    )


def _recreate_pg(database_url: str) -> None:
    import psycopg

    base, name = database_url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


if __name__ == "__main__":
    main()
