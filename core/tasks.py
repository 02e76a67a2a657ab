"""django-q2 entry points of the platform."""

from __future__ import annotations

import logging
import time

from django.db import connections, transaction

logger = logging.getLogger(__name__)


def analyze_database(using: str = "default", *, every_database: bool = False) -> int:
    """Daily (``periodic_tasks`` on CoreConfig): gather the query planner's statistics, one table at a time.

    SQLite keeps none until it is told to (``ANALYZE``), and without them it chooses its indexes by rules of thumb:
    at a million leads the inbox sorted by score took 71 ms instead of 8.5 ms, the admin leads list 109 ms instead
    of 41 ms (bench/README.md, "Planner statistics on SQLite"). Every page was tuned and measured with statistics.
    A table at a time, because ``ANALYZE`` holds SQLite's write lock while it reads a table (a second for the
    leads at a million), and captures wait for it; the whole database at once held it for three.

    PostgreSQL's autovacuum gathers its own: the task leaves it alone unless ``every_database`` (the
    ``analyze_database`` command). Returns how many tables were analysed.
    """
    connection = connections[using]
    if connection.vendor != "sqlite" and not every_database:
        return 0
    started = time.monotonic()
    tables = [name for name in connection.introspection.table_names() if not name.startswith("sqlite_")]
    for table in tables:
        # In a write transaction of its own: on SQLite it queues with the captures for the write lock
        # (core.backends.sqlite3) instead of making them sleep and retry while it reads.
        with transaction.atomic(using=using), connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    logger.info("Planner statistics gathered for %d tables in %.1f s", len(tables), time.monotonic() - started)
    return len(tables)
