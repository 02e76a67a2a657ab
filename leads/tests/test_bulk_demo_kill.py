"""A large bulk load killed mid-way (the OOM killer, ``kill -9``, a container stop) leaves the loaded tables' indexes
and foreign keys as they were: a real SIGKILL of a load in another process, on a scratch copy of the test database."""

from __future__ import annotations

import json
import os
import selectors
import signal
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection

PROJECT = Path(__file__).resolve().parents[2]
# How long the load may take to reach the point where it is killed.
LOAD_DEADLINE_SECONDS = 120
TABLES = "'leads_lead', 'leads_touch', 'leads_stagechange'"
# Everything about the three tables that a load may drop: on SQLite their indexes and their own definitions (which
# hold the foreign keys), on PostgreSQL their indexes and constraints, foreign keys with whether they are validated.
SCHEMA_SQL = {
    "sqlite": f"SELECT type, name, sql FROM sqlite_master WHERE tbl_name IN ({TABLES}) ORDER BY type, name",
    "postgresql": (
        f"SELECT 'index', indexname, indexdef FROM pg_indexes WHERE tablename IN ({TABLES})"
        " AND schemaname = current_schema()"
        " UNION ALL SELECT 'constraint', conname, pg_get_constraintdef(oid) || (CASE WHEN convalidated THEN ''"
        " ELSE ' (not validated)' END) FROM pg_constraint"
        f" WHERE conrelid IN (SELECT oid FROM pg_class WHERE relname IN ({TABLES})"
        " AND relnamespace = current_schema()::regnamespace) ORDER BY 1, 2, 3"
    ),
}
# The load, in its own process: a large one (it drops indexes and keys) of one batch, which stops after writing its
# leads, prints the schema as its own transaction sees it, and waits to be killed.
LOAD_UNTIL_KILLED = """
import json, sys, time
import django
django.setup()
from django.db import connection
from django.utils import timezone
from leads import bulk_demo, demo

bulk_demo.DROP_INDEXES_FROM = 1
write = bulk_demo._Table.write

def write_then_wait(self, cursor, rows):
    write(self, cursor, rows)
    cursor.execute(sys.argv[1])
    print(json.dumps(cursor.fetchall()), flush=True)
    time.sleep(60)

bulk_demo._Table.write = write_then_wait
demo.bulk_create_leads(total=40, reps=[], now=timezone.now())
"""

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def scratch_url(tmp_path: Path) -> Iterator[str]:
    """A database URL for a copy of the (migrated) test database: a file on SQLite, ``bulkkill_*`` on PostgreSQL."""
    if connection.vendor == "sqlite":
        path = tmp_path / "bulkkill.sqlite3"
        connection.ensure_connection()
        with sqlite3.connect(path) as target:
            connection.connection.backup(target)
        target.close()
        yield f"sqlite:///{path}"
        return
    name = f"bulkkill_{uuid.uuid4().hex[:12]}"
    settings = connection.settings_dict
    credentials = settings["USER"] + (f":{settings['PASSWORD']}" if settings["PASSWORD"] else "")
    server = f"postgresql://{credentials}@{settings['HOST'] or 'localhost'}:{settings['PORT'] or 5432}"
    connection.close()  # a template database may have no other sessions
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{settings["NAME"]}"')
        try:
            yield f"{server}/{name}"
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def _schema(url: str) -> list[list[Any]]:
    sql = SCHEMA_SQL[connection.vendor]
    if connection.vendor == "sqlite":
        with sqlite3.connect(url.removeprefix("sqlite:///")) as sqlite_db:
            rows = sqlite_db.execute(sql).fetchall()
        sqlite_db.close()
    else:
        with psycopg.connect(url) as pg_db:
            rows = pg_db.execute(sql).fetchall()
    return [list(row) for row in rows]


def test_a_load_killed_midway_leaves_every_index_and_foreign_key(scratch_url: str, tmp_path: Path) -> None:
    before = _schema(scratch_url)
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DATABASE_URL=scratch_url, DJANGO_SETTINGS_MODULE="leadsite.settings")
    errors = tmp_path / "load.stderr"
    with errors.open("w") as stderr:  # a file, not a pipe: a chatty load cannot fill it and stall
        load = subprocess.Popen(
            [sys.executable, "-c", LOAD_UNTIL_KILLED, SCHEMA_SQL[connection.vendor]],
            cwd=PROJECT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    assert load.stdout is not None
    try:
        # The load prints once it is in its transaction, waiting; a load that never gets there fails the test.
        ready = selectors.DefaultSelector()
        ready.register(load.stdout, selectors.EVENT_READ)
        seen_by_the_load = load.stdout.readline() if ready.select(timeout=LOAD_DEADLINE_SECONDS) else ""
    finally:
        load.kill()  # SIGKILL
        load.wait()

    assert seen_by_the_load, errors.read_text()
    assert load.returncode == -signal.SIGKILL
    assert json.loads(seen_by_the_load) != before  # it had dropped some when it was killed
    assert _schema(scratch_url) == before
