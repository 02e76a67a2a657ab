"""The SQLite cursor converts each query text to sqlite3's placeholders once and keeps it: the same answers."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite backend's cursor"),
]


def fetch(sql: str, params: Any) -> tuple[object, ...]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    assert row is not None
    return tuple(row)


def test_a_query_run_again_takes_its_new_values() -> None:
    sql = "SELECT %s, %s + 1"

    assert fetch(sql, [1, 2]) == (1, 3)
    assert fetch(sql, ["a", 40]) == ("a", 41)


def test_a_doubled_percent_sign_stays_one_literal_percent_sign() -> None:
    sql = "SELECT '100%%', %s || '%%'"

    assert fetch(sql, ["5"]) == ("100%", "5%")
    assert fetch(sql, ["7"]) == ("100%", "7%")


def test_named_parameters_are_still_named() -> None:
    sql = "SELECT %(b)s, %(a)s"

    assert fetch(sql, {"a": 1, "b": 2}) == (2, 1)
    assert fetch(sql, {"a": "x", "b": "y"}) == ("y", "x")
