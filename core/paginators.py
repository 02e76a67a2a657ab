from functools import cached_property

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet

# Below this many rows an exact COUNT(*) is cheap and nobody wants an estimate.
ESTIMATE_ABOVE = 100_000


class EstimatedCountPaginator(Paginator):
    """A paginator that, on PostgreSQL, reads the planner's row estimate for an unfiltered table.

    An exact COUNT(*) over a million leads scans the table on every changelist view; the estimate
    is free and accurate to a few percent once the table has been analysed. Filtered lists (and
    SQLite, which keeps no estimate) still count exactly.
    """

    @cached_property
    def count(self) -> int:
        objects = self.object_list
        if isinstance(objects, QuerySet) and not objects.query.where and not objects.query.distinct:
            estimate = _estimated_rows(objects.db, objects.model._meta.db_table)
            if estimate is not None and estimate > ESTIMATE_ABOVE:
                return estimate
        return super().count


def _estimated_rows(alias: str, table: str) -> int | None:
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)", [table])
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None and row[0] >= 0 else None
