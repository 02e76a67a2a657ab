"""Run the benches that compare with the shared floor and print one table: work, floor, project, ratio, goal, met.

Usage (from the project root, with the virtualenv):
  .venv/bin/python bench/run_all.py                  # SQLite, full sizes (a million leads: allow an hour)
  .venv/bin/python bench/run_all.py --db pg          # PostgreSQL on 127.0.0.1:5432 (user postgres)
  .venv/bin/python bench/run_all.py --quick          # small sizes and short runs: a few minutes

Each bench below runs the floor (``/work/shared/floor``) and the project in turns in the same run and writes
its rows as JSON; this script runs them one after another and prints their rows together. The machine
is shared: the load average is printed with every row, and each bench prints its rounds above the table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable

# (script, arguments for a full run, arguments for --quick)
BENCHES: tuple[tuple[str, list[str], list[str]], ...] = (
    ("capture_bench.py", [], ["--quick"]),
    ("inbox_bench.py", [], ["--leads", "20000", "--rounds", "1", "--duration", "3", "--fresh"]),
    ("report_bench.py", ["--live-rounds", "0"], ["--leads", "20000", "--rounds", "2", "--live-rounds", "0"]),
    ("load_demo_bench.py", [], ["--quick"]),
)
# Benches of other issues' work, and the admin lists (not a row of issue 13's table); run them on their own.
NOT_IN_TABLE = (
    "admin_bench.py",
    "rescore_bench.py",
    "enrichment_bench.py",
    "pipeline_load.py",
    "nurture_send.py",
    "import_bench.py",
    "rule_effectiveness_bench.py",
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "pg"], default="sqlite")
    ap.add_argument("--quick", action="store_true", help="small sizes and short runs")
    a = ap.parse_args()
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="run-all-") as tmp:
        for script, full, quick in BENCHES:
            out = Path(tmp) / f"{script}.json"
            args = [PY, str(HERE / script), "--db", a.db, "--json", str(out), *(quick if a.quick else full)]
            print(f"\n$ {' '.join(args[1:])}", flush=True)
            done = subprocess.run(args, cwd=HERE.parent)
            if done.returncode != 0 or not out.exists():
                rows.append({"work": script, "floor": None, "project": None, "ratio": None, "goal": "", "met": None})
                continue
            for row in json.loads(out.read_text()):
                rows.append({**row, "load": "/".join(f"{x:.1f}" for x in os.getloadavg())})
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"\n# {a.db}{' (quick)' if a.quick else ''}, {when}, {os.cpu_count()} cores")
    print(f"{'work':40} {'floor':>9} {'project':>9} {'ratio':>8} {'goal':>7} {'met':>4}  load")
    for row in rows:
        if row["ratio"] is None:
            print(f"{row['work']:40} {'failed: see its output above':>40}")
            continue
        met = "yes" if row["met"] else "no"
        print(f"{row['work']:40} {row['floor']:9.2f} {row['project']:9.2f} {row['ratio']:7.2f}x "
              f"{row['goal']:>7} {met:>4}  {row.get('load', '')}")  # fmt: skip
    skipped = ", ".join(NOT_IN_TABLE)
    print(f"\nNot in this table (run them on their own): {skipped}")


if __name__ == "__main__":
    main()
