"""``manage.py load_demo`` right after ``migrate`` on a new database: it creates the database cache's table before
anything touches the cache (the demo's activities wake the pipeline through it), so nothing fails for its lack."""

from typing import Any

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
    """The database as ``migrate`` leaves it: the cache's table is made by ``createcachetable`` (rolled back after)."""
    table = caches["default"]._table  # type: ignore[attr-defined]
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {connection.ops.quote_name(table)}")
    return str(table)


def test_load_demo_creates_the_cache_table(no_cache_table: str) -> None:
    call_command("load_demo", demo_leads=0)

    assert no_cache_table in connection.introspection.table_names()


def test_load_demo_logs_no_missing_cache_table(
    no_cache_table: str, caplog: pytest.LogCaptureFixture, django_capture_on_commit_callbacks: Any
) -> None:
    # Enough leads for nurture's demo to record clicks, whose activities wake the pipeline through the cache when
    # their transactions commit: run those wake-ups too.
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", demo_leads=20)

    failures = [record for record in caplog.records if record.exc_info and no_cache_table in str(record.exc_info[1])]
    assert failures == []
