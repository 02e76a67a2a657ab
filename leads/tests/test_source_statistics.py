"""The inbox's source filter compares the expression its statistics (leads migration 0020) and index (0021) cover."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection

from handoff.selectors import INBOX_SORTS, _inbox_filters, _inbox_lead_filter, _inbox_lead_walk_query
from leads.models import Lead

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="statistics objects are PostgreSQL's")


def inbox_source_walk(rep: User, sort: str) -> tuple[str, tuple[Any, ...]]:
    """The SQL and values the inbox runs for the rep's leads of one source in ``sort``'s order (its first page)."""
    walk = _inbox_lead_walk_query(rep=rep.pk, seek=None, show="todo", sort=sort, source="LinkedIn")
    sql, params = walk.query.get_compiler(connection=connection).as_sql()
    return sql, tuple(params)


def lead_source_walk(rep: User, sort: str) -> tuple[str, tuple[Any, ...]]:
    """The same walk on the lead table alone, without the check for an open assignment.

    With the few rows earlier tests leave in PostgreSQL's statistics, the planner may start the inbox's query from
    the assignments instead; the part an index must serve is this one.
    """
    order = INBOX_SORTS[sort]
    field = f"-{order.field}" if order.descending else order.field
    chosen = _inbox_filters(show="todo", sort=sort, source="LinkedIn")
    leads = Lead.objects.filter(_inbox_lead_filter(chosen, prefix=""), owner=rep).order_by(field, "pk")
    sql, params = leads.values_list("pk").query.get_compiler(connection=connection).as_sql()
    return sql, tuple(params)


def conditions(plan: dict[str, Any]) -> list[str]:
    """Every condition a PostgreSQL plan (EXPLAIN's JSON) tests, as the server prints it, with its index's name."""
    found = [f"{plan.get('Index Name')}: {plan[key]}" for key in ("Index Cond", "Filter") if key in plan]
    return found + [condition for child in plan.get("Plans", []) for condition in conditions(child)]


@on_postgresql
def test_the_upper_first_touch_source_expression_has_statistics() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_statisticsobjdef(oid) FROM pg_statistic_ext WHERE stxrelid = %s::regclass",
            [Lead._meta.db_table],
        )
        definitions = [row[0] for row in cursor.fetchall()]

    assert any("upper(first_touch_source::text)" in definition for definition in definitions), definitions


@on_postgresql
def test_the_source_filter_compares_that_expression(rep: User) -> None:
    # PostgreSQL uses an expression's statistics for a condition on that very expression: compared as the server
    # reads the inbox's query, not as the ORM writes it (UPPER(col) and UPPER(col::text) are one expression).
    sql, params = inbox_source_walk(rep, "-score")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT unnest(pg_get_statisticsobjdef_expressions(oid)) FROM pg_statistic_ext"
            " WHERE stxrelid = %s::regclass",
            [Lead._meta.db_table],
        )
        expressions = [row[0] for row in cursor.fetchall()]
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        (plan,) = cursor.fetchone()[0]
        tested = conditions(plan["Plan"])

    statistics = [expression for expression in expressions if "first_touch_source" in expression]
    assert len(statistics) == 1, expressions
    assert any(f"{statistics[0]} = " in condition for condition in tested), (statistics, tested)


@pytest.mark.parametrize(
    ("sort", "index"), [("-score", "lead_owner_src_score_idx"), ("company", "lead_owner_src_company_idx")]
)
def test_the_source_filter_is_a_condition_of_the_index_on_that_expression(rep: User, sort: str, index: str) -> None:
    # SQLite serves UPPER(col) = UPPER(?) from the index on UPPER(col), and no index serves iexact's LIKE there.
    sql, params = inbox_source_walk(rep, sort)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_get_indexdef(%s::regclass, 2, false)", [index])
            (expression,) = cursor.fetchone()
            # The plan must show whether this index serves the condition, whatever the statistics say of the few rows
            # earlier tests left: no scan of the whole table, and the lead table's other droppable indexes dropped in
            # this test's transaction (they are back after it).
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            cursor.execute(
                "SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
                " WHERE x.indrelid = %s::regclass AND i.relname <> %s"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
                [Lead._meta.db_table, index],
            )
            for (other,) in cursor.fetchall():
                cursor.execute(f'DROP INDEX "{other}"')
            sql, params = lead_source_walk(rep, sort)
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            (plan,) = cursor.fetchone()[0]
            tested = conditions(plan["Plan"])
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            tested = [str(row[-1]) for row in cursor.fetchall()]

    if connection.vendor == "postgresql":
        assert any(condition.startswith(f"{index}: ") and f"{expression} = " in condition for condition in tested)
    else:
        assert any(f"USING INDEX {index} (owner_id=? AND <expr>=?)" in step for step in tested), tested
