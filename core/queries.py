"""Reads the ORM has no fast form of."""

from __future__ import annotations

from django.db import connections
from django.db.models import Model

from core.bulk import column


def distinct_values(model: type[Model], name: str, *, using: str = "default") -> list[object]:
    """The distinct non-null values of an indexed column, in order, read with one index seek per value.

    ``SELECT DISTINCT`` reads every entry of the index on PostgreSQL, which has no skip scan (0.2 to 0.3 s for the
    leads' countries at a million). Asking for the least value above the last one found costs a seek each: a
    column with a few hundred values costs a few hundred seeks, on SQLite and PostgreSQL alike.
    """
    connection = connections[using]
    table = connection.ops.quote_name(model._meta.db_table)
    field = column(model, name)
    sql = (
        f"WITH RECURSIVE found (value) AS ("
        f" SELECT MIN({field}) FROM {table}"
        f" UNION ALL SELECT (SELECT MIN({field}) FROM {table} WHERE {field} > found.value) FROM found"
        f" WHERE found.value IS NOT NULL"
        f") SELECT value FROM found WHERE value IS NOT NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [value for (value,) in cursor.fetchall()]
