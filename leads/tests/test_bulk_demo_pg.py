"""A large bulk load on PostgreSQL drops the loaded tables' foreign keys and indexes, and puts back exactly
what was there: after it, and after a load that failed."""

from __future__ import annotations

import io
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections

from leads import bulk_demo, demo
from leads.models import Lead, StageChange, Touch
from leads.tests.factories import FIXED_NOW

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="only PostgreSQL drops foreign keys"),
    # Not in a test's own transaction: a large load drops and rebuilds only outside a caller's transaction.
    pytest.mark.django_db(transaction=True),
]

TABLES = [Lead._meta.db_table, Touch._meta.db_table, StageChange._meta.db_table]


def _schema() -> set[tuple[Any, ...]]:
    """Every foreign key (name, definition, validated) and index (name, definition) of the loaded tables."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rel.relname, con.conname, pg_get_constraintdef(con.oid), con.convalidated"
            " FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid"
            " WHERE con.contype = 'f' AND rel.relname = ANY(%s)",
            [TABLES],
        )
        keys = set(cursor.fetchall())
        cursor.execute("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)", [TABLES])
        return keys | set(cursor.fetchall())


@pytest.fixture
def large(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk_demo, "DROP_INDEXES_FROM", 1)


@pytest.mark.usefixtures("large")
def test_a_large_load_puts_back_every_foreign_key_and_index_validated() -> None:
    before = _schema()
    assert any(row[-1] is True for row in before)  # the foreign keys are there, validated, to begin with

    demo.bulk_create_leads(total=40, reps=[], now=FIXED_NOW, batch_size=16)

    assert Lead.objects.filter(email__startswith=demo.BULK_PREFIX).count() == 40
    assert _schema() == before


@pytest.mark.usefixtures("large")
def test_a_large_load_writes_its_rows_without_foreign_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    keys_while_writing: list[int] = []
    write = bulk_demo._Table.write

    def counting_write(self: bulk_demo._Table, cursor: Any, rows: list[tuple[Any, ...]]) -> None:
        cursor.execute(
            "SELECT count(*) FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid"
            " WHERE con.contype = 'f' AND rel.relname = ANY(%s)",
            [TABLES],
        )
        keys_while_writing.append(cursor.fetchone()[0])
        write(self, cursor, rows)

    monkeypatch.setattr(bulk_demo._Table, "write", counting_write)

    demo.bulk_create_leads(total=20, reps=[], now=FIXED_NOW)

    assert keys_while_writing and set(keys_while_writing) == {0}


@pytest.mark.usefixtures("large")
def test_a_load_that_fails_midway_puts_back_every_foreign_key_and_index(monkeypatch: pytest.MonkeyPatch) -> None:
    before = _schema()
    rows = bulk_demo._rows
    calls: list[int] = []

    def failing_rows(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the load broke off")
        return rows(*args, **kwargs)

    monkeypatch.setattr(bulk_demo, "_rows", failing_rows)

    with pytest.raises(RuntimeError):
        demo.bulk_create_leads(total=60, reps=[], now=FIXED_NOW, batch_size=20)

    assert not Lead.objects.filter(email__startswith=demo.BULK_PREFIX).exists()
    assert _schema() == before


@pytest.mark.usefixtures("large")
def test_a_load_with_a_broken_reference_fails_and_puts_back_every_foreign_key() -> None:
    before = _schema()

    with pytest.raises(IntegrityError):
        demo.bulk_create_leads(total=60, reps=[SimpleNamespace(pk=987_654)], now=FIXED_NOW)  # type: ignore[list-item]

    assert not Lead.objects.filter(email__startswith=demo.BULK_PREFIX).exists()
    assert _schema() == before


@pytest.mark.usefixtures("large")
def test_a_load_kept_waiting_for_its_tables_stops_with_an_error_that_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk_demo, "LOCK_TIMEOUT", "200ms")
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        other.set_autocommit(False)
        with other.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {Lead._meta.db_table} IN ACCESS SHARE MODE")  # a session reading leads
        with pytest.raises(CommandError, match="another session"):
            call_command("load_demo", demo_leads=0, leads=20, stdout=io.StringIO())
    finally:
        other.rollback()
        other.close()
    assert not Lead.objects.filter(email__startswith=demo.BULK_PREFIX).exists()
