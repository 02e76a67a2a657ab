"""The plan a database gives a query, as text, for tests that check which index a query walks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection


def query_plan(sql: str, params: Sequence[Any], *, postgresql_off: Sequence[str]) -> str:
    """EXPLAIN QUERY PLAN on SQLite; EXPLAIN on PostgreSQL with the planner methods ``postgresql_off`` switched off.

    A test's tables hold a few rows, which PostgreSQL reads whole (and sorts): switching those methods off makes it
    show the walk it takes at scale. Call it inside the test's transaction (``SET LOCAL`` ends with it).
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for method in postgresql_off:
                cursor.execute(f"SET LOCAL enable_{method} = off")
            cursor.execute(f"EXPLAIN {sql}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())
