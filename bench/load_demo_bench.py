"""``load_demo --leads N`` against the floor's ``seed.py --rows N``, timed in turns in one run.

Usage (from the project root, with the virtualenv):
  .venv/bin/python bench/load_demo_bench.py                 # SQLite, 1,000,000 leads, 1 round
  .venv/bin/python bench/load_demo_bench.py --db pg         # PostgreSQL on 127.0.0.1:5432 (user postgres)
  .venv/bin/python bench/load_demo_bench.py --quick         # 100,000 leads

Each round seeds the floor's one-table database with N rows (``/work/shared/floor/seed.py``: executemany in
one transaction, indexes after the load), then loads the project's demo into a fresh, migrated database
with ``manage.py load_demo --leads N`` (users, 160 realistic demo leads through the capture service, then
the bulk leads with their first touches and stage changes). The ratio is the bulk part's own time
(printed by the command) to the floor's; the whole command's time is printed beside it. Goal: ≤ 10x.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOOR = Path(os.environ.get("FLOOR_DIR", "/work/shared/floor"))
PY = sys.executable
GOAL = 10.0


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def psql(sql: str) -> None:
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", sql], check=True, capture_output=True)


def time_floor(db: str, rows: int, tmp: Path) -> float:
    env = dict(os.environ, FLOOR_DB=db, FLOOR_SQLITE_PATH=str(tmp / "floor.sqlite3"), FLOOR_PG_NAME="floor_load_bench")
    env.setdefault("PGHOST", "127.0.0.1")
    env.setdefault("PGUSER", "postgres")
    (tmp / "floor.sqlite3").unlink(missing_ok=True)
    if db == "pg":
        psql("DROP DATABASE IF EXISTS floor_load_bench")
        psql("CREATE DATABASE floor_load_bench")
    started = time.monotonic()
    subprocess.run([PY, "seed.py", db, "--rows", str(rows)], cwd=FLOOR, env=env, check=True, capture_output=True)
    return time.monotonic() - started


def time_project(db: str, leads: int, tmp: Path) -> tuple[float, float]:
    """(the bulk part's seconds, the whole command's seconds) on a fresh, migrated database."""
    if db == "sqlite":
        for name in ("project.sqlite3", "project.sqlite3-wal", "project.sqlite3-shm"):
            (tmp / name).unlink(missing_ok=True)
        url = f"sqlite:///{tmp / 'project.sqlite3'}"
    else:
        psql("DROP DATABASE IF EXISTS load_demo_bench")
        psql("CREATE DATABASE load_demo_bench")
        url = "postgres://postgres@127.0.0.1:5432/load_demo_bench"
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DATABASE_URL=url, SECRET_KEY="bench-secret-key-not-for-production-0123456789", DEBUG="1")
    env["MEDIA_ROOT"] = str(tmp / "media")
    subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    started = time.monotonic()
    out = subprocess.run(
        [PY, "manage.py", "load_demo", "--leads", str(leads)], cwd=ROOT, env=env, check=True, capture_output=True,
        text=True,
    ).stdout  # fmt: skip
    whole = time.monotonic() - started
    match = re.search(r"Bulk leads: (\d+) added in ([\d.]+)s", out)
    if not match:
        raise SystemExit(f"load_demo printed no bulk time:\n{out}")
    return float(match.group(2)), whole


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "pg"], default="sqlite")
    ap.add_argument("--leads", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="100,000 leads")
    ap.add_argument("--json", help="also write the summary row to this file")
    a = ap.parse_args()
    if a.quick:
        a.leads = 100_000
    tmp = Path(tempfile.mkdtemp(prefix="load-demo-bench-"))
    print(f"# load_demo bench, {a.db}, {a.leads:,} leads, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"{'round':>5} {'floor seed s':>13} {'bulk s':>8} {'ratio':>7} {'load_demo s':>12}  load", flush=True)
    floors, bulks = [], []
    try:
        for round_no in range(1, a.rounds + 1):
            floor = time_floor(a.db, a.leads, tmp)
            bulk, whole = time_project(a.db, a.leads, tmp)
            floors.append(floor)
            bulks.append(bulk)
            print(f"{round_no:>5} {floor:13.1f} {bulk:8.1f} {bulk / floor:6.1f}x {whole:12.1f}  {load()}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    floor, bulk = statistics.median(floors), statistics.median(bulks)
    row = {"work": f"load_demo --leads {a.leads:,} (bulk part) s", "floor": floor, "project": bulk,
           "ratio": bulk / floor, "goal": f"≤ {GOAL:g}x", "met": bulk / floor <= GOAL}  # fmt: skip
    print(f"\n{'work (' + a.db + ')':36} {'floor':>9} {'project':>9} {'ratio':>7} {'goal':>7} met")
    met = "yes" if row["met"] else "no"
    print(f"{row['work']:36} {floor:9.1f} {bulk:9.1f} {row['ratio']:6.1f}x {row['goal']:>7} {met}")
    if a.json:
        Path(a.json).write_text(json.dumps([row], indent=2))


if __name__ == "__main__":
    main()
