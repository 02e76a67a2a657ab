"""Every ``migrate`` makes the database cache's table, which belongs to no model and so to no migration."""

import pytest
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.core.management import call_command
from django.db import connection

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not isinstance(caches["default"], DatabaseCache), reason="only the database cache needs a table of its own"
    ),
]


@pytest.fixture
def no_cache_table() -> str:
    """A database without the cache's table, as a new one is before its first migrate (rolled back after)."""
    table = caches["default"]._table  # type: ignore[attr-defined]
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {connection.ops.quote_name(table)}")
    return str(table)


def test_migrate_creates_the_cache_table(no_cache_table: str) -> None:
    call_command("migrate", verbosity=0)

    assert no_cache_table in connection.introspection.table_names()
