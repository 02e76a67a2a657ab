"""Trigram (``pg_trgm``) indexes for text searches on PostgreSQL, made by migrations (leads 0029 and 0030).

``pg_trgm`` is a trusted extension (PostgreSQL 13 and later): the database's owner, or any role that may create in
it, creates it here. A role that may not stops the migration with PostgreSQL's own error; a superuser's
``CREATE EXTENSION pg_trgm;`` in the database, then ``migrate`` again, goes on from there. Where the extension lives
in a schema of its own, its operator class is named with that schema.

The indexes are built ``CONCURRENTLY``, outside a transaction (the migration says ``atomic = False``): captures go on
writing while they build. A build that failed leaves an invalid index, dropped and built again by the next run.
Elsewhere than on PostgreSQL these do nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def create_trigram_indexes(schema_editor: Any, table: str, indexes: Mapping[str, str]) -> None:
    """A GIN trigram index on ``table`` for each name in ``indexes`` and its SQL expression (written as Django writes
    the ``icontains`` it serves, so the planner matches the two)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        cursor.execute(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
            " WHERE e.extname = 'pg_trgm'"
        )
        (schema,) = cursor.fetchone()
        cursor.execute(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE NOT i.indisvalid AND c.relname = ANY(%s)",
            [list(indexes)],
        )
        invalid = [name for (name,) in cursor.fetchall()]
    for name in invalid:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {quote(name)}")
    for name, expression in indexes.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {quote(name)} ON {quote(table)} "
            f"USING gin (({expression}) {quote(schema)}.gin_trgm_ops)"
        )


def drop_trigram_indexes(schema_editor: Any, names: Iterable[str]) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in names:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(name)}")
