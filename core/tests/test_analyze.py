import io

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection

from core.tasks import analyze_database

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite keeps no planner statistics of its own")
def test_the_daily_task_gathers_sqlite_planner_statistics() -> None:
    User.objects.bulk_create(User(username=f"user{i}") for i in range(20))

    analyze_database()

    with connection.cursor() as cursor:
        cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = 'auth_user' AND idx = 'sqlite_autoindex_auth_user_1'")
        assert cursor.fetchone() == ("20 1",)  # 20 rows, one a name


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's autovacuum gathers them")
def test_the_daily_task_leaves_postgresql_to_its_autovacuum() -> None:
    assert analyze_database() == 0


# Not on PostgreSQL: its ANALYZE writes row counts that outlive the test's transaction, which later tests' plans read.
@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL's statistics outlive a test's transaction")
def test_the_command_analyses_every_table() -> None:
    out = io.StringIO()

    call_command("analyze_database", stdout=out)

    tables = [name for name in connection.introspection.table_names() if not name.startswith("sqlite_")]
    assert out.getvalue().strip() == f"Statistics gathered for {len(tables)} tables."
