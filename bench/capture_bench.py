"""Capture throughput and p95 against the shared floor's ``POST /insert4``, measured in turns in one run.

Usage (from the project root, with the virtualenv):
  .venv/bin/python bench/capture_bench.py                       # SQLite, 2 rounds of 20 s per endpoint
  .venv/bin/python bench/capture_bench.py --db pg               # PostgreSQL on 127.0.0.1:5432 (user postgres)
  .venv/bin/python bench/capture_bench.py --quick               # 1 round of 5 s, a 10,000-row floor table

Each round runs, one after another, the floor's ``POST /insert4`` (4 INSERTs in one transaction into a table
of ``--floor-rows`` leads), the public form ``POST /f/<slug>/`` and ``POST /api/submissions/``; every server
is gunicorn sync with ``--workers`` processes under wrk (one thread, ``--conc`` connections), DEBUG=0, as in
/work/shared/floor/README.md. Every request is a new person's real submission: its own render token (the
form) or email (the API), and its own client address (the form's per-address limit stays on: the server
trusts one proxy and wrk sends ``X-Forwarded-For``). The API key's own limit is raised for the run.
Prints one line per measurement, then a table: work, floor, project, ratio, goal, met (the median of the
rounds; every round is printed above it). The machine is shared: give each round when you quote one.
Without ``REDIS_URL`` the project runs as installed by default (database cache, ORM broker).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOOR = Path(os.environ.get("FLOOR_DIR", "/work/shared/floor"))
WARM_UP_SECONDS = 2
PY = sys.executable
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
FORM_SLUG = "bench-capture"

SETUP = r"""
import json, sys
from datetime import timedelta
from urllib.parse import urlencode
from django.utils import timezone
from integrations.models import ApiKey, ApiKeyScope
from integrations import keys
from leads import tokens
from leads.models import CaptureForm, ConsentText, FieldKind, FormField

n, out = int(sys.argv[1]), sys.argv[2]
now = timezone.now()
form, _ = CaptureForm.objects.get_or_create(slug="%(slug)s", defaults={"name": "Bench", "headline": "Bench"})
if not form.fields.exists():
    FormField.objects.create(form=form, order=1, label="First name", lead_attribute="first_name", is_required=True)
    FormField.objects.create(form=form, order=2, label="Email", kind=FieldKind.EMAIL, lead_attribute="email",
                             is_required=True)
    FormField.objects.create(form=form, order=3, label="Company", lead_attribute="company_name", is_required=True)
text = ConsentText.objects.filter(form=form).order_by("-version").first() or ConsentText.objects.create(
    form=form, version=1, text="Bench may email me.", created_at=now)
fields = list(form.fields.order_by("order"))
new = keys.generate_key()
ApiKey.objects.create(name=f"bench {now:%%H%%M%%S}", scope=ApiKeyScope.CAPTURE, prefix=new.prefix,
                      hashed_key=new.hashed, created_at=now)
stamp = int(now.timestamp())
rendered = now - timedelta(seconds=30)  # a person's time to fill it in: past the time trap
with open(out + ".form", "w") as f_form, open(out + ".api", "w") as f_api:
    for i in range(n):
        token = tokens.issue_render_token(form=form, consent_text=text, fields=fields, now=rendered)
        email = f"p{stamp}-{i}@bench.example"
        f_form.write(urlencode({"token": token, "first_name": "Ada", "email": email, "company_name": "Acme",
                                "consent": "on", "utm_source": "linkedin", "utm_medium": "paid_social"}) + "\n")
        f_api.write(json.dumps({"form": "%(slug)s", "consent": {"given": True},
                                "answers": {"first_name": "Ada", "email": "api-" + email, "company_name": "Acme"},
                                "attribution": {"utm_source": "partner", "utm_medium": "webinar"},
                                "ip_address": "203.0.113.9"}) + "\n")
print(new.plaintext)
""".replace("%(slug)s", FORM_SLUG).replace("%%", "%")


def project_env(database_url: str, tmp: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "DEBUG") and not key.startswith("DJANGO_")
    }
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY="bench-secret-key-not-for-production-0123456789",
        DEBUG="0",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        PROXY_COUNT="1",
        API_RATE_PER_KEY="1000000/min",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        STATIC_ROOT=str(tmp / "static"),
    )
    if os.environ.get("REDIS_URL"):
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    return env


def floor_env(db: str, tmp: Path) -> dict[str, str]:
    env = dict(os.environ, FLOOR_DB=db, FLOOR_SQLITE_PATH=str(tmp / "floor.sqlite3"))
    env.setdefault("PGHOST", "127.0.0.1")
    env.setdefault("PGUSER", "postgres")
    env.setdefault("FLOOR_PG_NAME", "floor_capture_bench")
    return env


def start(cmd: list[str], env: dict[str, str], port: int, ready: str, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "a") as errors:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=errors, start_new_session=True)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{ready}", timeout=2).read()
            return proc
        except Exception:
            if proc.poll() is not None:
                raise SystemExit(f"server exited ({proc.returncode}); see {log}") from None
            time.sleep(0.1)
    raise SystemExit(f"server did not start; see {log}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wrk(
    url: str, *, conc: int, duration: int, bodies: Path | None = None, headers: str = "", start: int = 0
) -> dict[str, float]:
    """One wrk run; with ``bodies``, it sends them in order from the ``start``-th on (see wrk_bodies.lua)."""
    script = ROOT / "bench" / "wrk_bodies.lua" if bodies else FLOOR / "wrk_stats.lua"
    env = dict(os.environ, WRK_METHOD="POST", WRK_BODIES=str(bodies or ""), WRK_HEADERS=headers, WRK_START=str(start))
    cmd = ["wrk", "-t1", f"-c{conc}", f"-d{duration}s", "--timeout", "10s", "-s", str(script), url]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True).stdout
    match = re.search(r"^WRKSTATS (.*)$", out, re.M)
    if not match:
        raise SystemExit(f"wrk gave no stats:\n{out}")
    return {k: float(v) for k, v in (kv.split("=") for kv in match.group(1).split())}


def group_cpu(group: int) -> tuple[float, float]:
    """User and system CPU seconds the processes of ``group`` (gunicorn's master and workers) have used so far."""
    user = system = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[2]) == group:  # the fields after the name: state, ppid, pgrp, ..., utime (12), stime (13)
            user, system = user + int(fields[11]) / tick, system + int(fields[12]) / tick
    return user, system


def children_cpu() -> tuple[float, float]:
    """User and system CPU seconds of this process's finished children (each wrk run, once it has ended)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime, usage.ru_stime


def since(before: tuple[float, float], after: tuple[float, float]) -> tuple[float, float]:
    return after[0] - before[0], after[1] - before[1]


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "pg"], default="sqlite")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--duration", type=int, default=20)
    ap.add_argument("--conc", type=int, default=16)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--floor-rows", type=int, default=1_000_000)
    ap.add_argument("--port", type=int, default=8791)
    ap.add_argument("--cpu", action="store_true", help="print the servers' and wrk's CPU a request (from /proc)")
    ap.add_argument("--quick", action="store_true", help="1 round of 5 s, a 10,000-row floor table")
    ap.add_argument("--json", help="also write the summary rows to this file")
    a = ap.parse_args()
    if a.quick:
        a.rounds, a.duration, a.floor_rows = 1, 5, 10_000
    tmp = Path(tempfile.mkdtemp(prefix="capture-bench-"))
    log = tmp / "server.log"
    try:
        run(a, tmp, log)
    finally:
        if a.db == "sqlite":
            shutil.rmtree(tmp, ignore_errors=True)


def run(a: argparse.Namespace, tmp: Path, log: Path) -> None:
    if a.db == "sqlite":
        database_url = f"sqlite:///{tmp / 'project.sqlite3'}"
    else:
        name = "capture_bench_project"
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"DROP DATABASE IF EXISTS {name}"])
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
        database_url = f"postgres://postgres@127.0.0.1:5432/{name}"
    env = project_env(database_url, tmp)
    if a.db == "pg":
        floor_db = floor_env(a.db, tmp)["FLOOR_PG_NAME"]
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"DROP DATABASE IF EXISTS {floor_db}"])
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"CREATE DATABASE {floor_db}"], check=True)
    print(f"# capture bench, {a.db}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load {load()}", flush=True)
    subprocess.run([PY, "seed.py", a.db, "--rows", str(a.floor_rows)], cwd=FLOOR, env=floor_env(a.db, tmp),
                   check=True, capture_output=True)  # fmt: skip
    subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([PY, "manage.py", "createcachetable"], cwd=ROOT, env=env, check=True)
    subprocess.run([PY, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    # Enough bodies that no request repeats one, warm-ups included: a generous 1,500 requests a second.
    count = max(2000, 1500 * (a.duration + WARM_UP_SECONDS) * a.rounds)
    setup = subprocess.run(
        [PY, "manage.py", "shell", "-c", f"import sys; sys.argv=['x', '{count}', '{tmp / 'bodies'}']\n{SETUP}"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    api_key = setup.stdout.strip().splitlines()[-1]

    floor_cmd = [GUNICORN, "--chdir", str(FLOOR), "-b", f"127.0.0.1:{a.port}", "-k", "sync", "-w", str(a.workers),
                 "--log-level", "warning", "app:application"]  # fmt: skip
    project_cmd = [GUNICORN, "--chdir", str(ROOT), "-b", f"127.0.0.1:{a.port}", "-k", "sync", "-w", str(a.workers),
                   "--log-level", "warning", "leadsite.wsgi:application"]  # fmt: skip
    base = f"http://127.0.0.1:{a.port}"
    form_headers = "Content-Type: application/x-www-form-urlencoded|X-Forwarded-For: {ip}"
    api_headers = f"Content-Type: application/json|Authorization: Api-Key {api_key}"
    results: dict[str, list[dict[str, float]]] = {"floor": [], "form": [], "api": []}
    used = {"floor": 0, "form": 0, "api": 0}  # bodies sent so far, per file
    print(f"{'round':>5} {'work':28} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'errors':>6}  load", flush=True)
    for round_no in range(1, a.rounds + 1):
        runs = [
            ("floor", floor_cmd, floor_env(a.db, tmp), "/ping", f"{base}/insert4", None, ""),
            ("form", project_cmd, env, "/healthz", f"{base}/f/{FORM_SLUG}/", tmp / "bodies.form", form_headers),
            ("api", project_cmd, env, "/healthz", f"{base}/api/submissions/", tmp / "bodies.api", api_headers),
        ]
        for work, cmd, server_env, ready, url, bodies, headers in runs:
            proc = start(cmd, server_env, a.port, ready, log)
            try:
                for duration in (WARM_UP_SECONDS, a.duration):
                    server_before, wrk_before = group_cpu(proc.pid), children_cpu()
                    stats = wrk(url, conc=a.conc, duration=duration, bodies=bodies, headers=headers, start=used[work])
                    server_cpu = since(server_before, group_cpu(proc.pid))
                    wrk_cpu = since(wrk_before, children_cpu())
                    # Each run starts after the bodies earlier runs sent: each request is a new submission, never
                    # a replay of a stored one (its render token or email). The ones still in flight when wrk
                    # stopped were sent but not counted: skip as many as there are connections.
                    used[work] += int(stats["requests"]) + a.conc
            finally:
                stop(proc)
            if bodies and used[work] > count:
                print(f"# {work}: {used[work] - count} requests repeated an earlier body (raise the count)")
            results[work].append(stats)
            errors = int(stats["non2xx3xx"] + stats["sockerr"])
            cpu = ""
            if a.cpu:
                per_request = 1000 / max(stats["requests"], 1)
                cpu = (f"  server {server_cpu[0] * per_request:.2f}+{server_cpu[1] * per_request:.2f} ms, "
                       f"wrk {sum(wrk_cpu) * per_request:.2f} ms")  # fmt: skip
            print(f"{round_no:>5} {work + ' ' + url.removeprefix(base):28} {stats['rps']:8.0f} "
                  f"{stats['p50_ms']:8.2f} {stats['p95_ms']:8.2f} {errors:6d}  {load()}{cpu}", flush=True)  # fmt: skip
    summary = summarise(results)
    print_table(summary, db=a.db)
    if a.json:
        Path(a.json).write_text(json.dumps(summary, indent=2))


def summarise(results: dict[str, list[dict[str, float]]]) -> list[dict[str, object]]:
    def med(work: str, key: str) -> float:
        return statistics.median(run[key] for run in results[work])

    rows: list[dict[str, object]] = []
    for work, label in (("form", "form POST /f/<slug>/"), ("api", "API POST /api/submissions/")):
        floor_rps, rps = med("floor", "rps"), med(work, "rps")
        rows.append({"work": f"{label} req/s", "floor": floor_rps, "project": rps, "ratio": rps / floor_rps,
                     "goal": "≥ 0.5x", "met": rps / floor_rps >= 0.5})  # fmt: skip
        floor_p95, p95 = med("floor", "p95_ms"), med(work, "p95_ms")
        rows.append({"work": f"{label} p95 ms", "floor": floor_p95, "project": p95, "ratio": p95 / floor_p95,
                     "goal": "≤ 3x", "met": p95 / floor_p95 <= 3})  # fmt: skip
    return rows


def print_table(rows: list[dict[str, object]], *, db: str) -> None:
    print(f"\n{'work (' + db + ')':36} {'floor':>9} {'project':>9} {'ratio':>7} {'goal':>7} met")
    for row in rows:
        print(f"{row['work']:36} {row['floor']:9.2f} {row['project']:9.2f} {row['ratio']:6.2f}x "
              f"{row['goal']:>7} {'yes' if row['met'] else 'no'}")  # fmt: skip


if __name__ == "__main__":
    main()
