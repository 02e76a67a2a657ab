"""PostgreSQL keeps statistics on the expression the inbox's source filter compares (leads migration 0020)."""

import pytest
from django.db import connection

from leads.models import Lead

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="statistics objects are PostgreSQL's"),
]


def test_the_upper_first_touch_source_expression_has_statistics() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_statisticsobjdef(oid) FROM pg_statistic_ext WHERE stxrelid = %s::regclass",
            [Lead._meta.db_table],
        )
        definitions = [row[0] for row in cursor.fetchall()]

    assert any("upper(first_touch_source::text)" in definition for definition in definitions), definitions


def test_the_source_filter_compares_that_expression() -> None:
    sql = str(Lead.objects.filter(first_touch_source__iexact="linkedin").query)

    assert 'UPPER("leads_lead"."first_touch_source"::text)' in sql
