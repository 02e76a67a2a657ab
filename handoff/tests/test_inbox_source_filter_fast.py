"""The inbox filtered by a source or a campaign: one compiled query for every value, walking its own index."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.contrib.auth.models import User
from django.db import connection

from handoff.models import Team
from handoff.selectors import _inbox_lead_walk_query
from handoff.tests.test_daily_work_views import INBOX, assign, lead_ids
from handoff.tests.test_list_pages_fast import compiled_sql  # noqa: F401 (a fixture)
from leads.models import Lead
from tests.personas import client_for
from tests.plans import query_plan

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("sort", ["due", "-score", "company"])
def test_the_inbox_filtered_by_another_source_compiles_no_list_query(
    team: Team,
    rep: User,
    now: datetime,
    compiled_sql: list[str],  # noqa: F811
    sort: str,
) -> None:
    assign(team, now, first_touch_source="linkedin", first_touch_campaign="spring")
    assign(team, now, first_touch_source="google", first_touch_campaign="autumn")
    client = client_for(rep)
    client.get(f"{INBOX}?sort={sort}&source=linkedin&campaign=spring")
    compiled_sql.clear()

    response = client.get(f"{INBOX}?sort={sort}&source=google&campaign=autumn")

    assert response.status_code == 200
    assert not [sql for sql in compiled_sql if "handoff_assignment" in sql]


@pytest.mark.parametrize("sort", ["due", "-score", "company"])
@pytest.mark.parametrize("field", ["source", "campaign"])
def test_the_inbox_compiled_for_one_source_finds_another_sources_leads_case_blind(
    team: Team, rep: User, now: datetime, sort: str, field: str
) -> None:
    assign(team, now, **{f"first_touch_{field}": "linkedin"})
    wanted = assign(team, now, **{f"first_touch_{field}": "Google"})
    client = client_for(rep)
    client.get(f"{INBOX}?sort={sort}&{field}=linkedin")

    response = client.get(f"{INBOX}?sort={sort}&{field}=gOOGLE")

    assert lead_ids(response) == [wanted.lead_id]


@pytest.mark.parametrize(
    ("field", "sort", "index"),
    [
        ("source", "company", "lead_owner_src_company_idx"),
        ("source", "-company", "lead_owner_src_company_idx"),
        ("source", "-score", "lead_owner_src_score_idx"),
        ("campaign", "company", "lead_owner_cmp_company_idx"),
        ("campaign", "score", "lead_owner_cmp_score_idx"),
    ],
)
def test_the_inbox_filtered_by_source_walks_the_rep_leads_of_that_source_in_order(
    rep: User, field: str, sort: str, index: str
) -> None:
    walk = _inbox_lead_walk_query(rep=rep.pk, seek=None, show="todo", sort=sort, **{field: "LinkedIn"})
    sql, params = walk.query.get_compiler(connection=connection).as_sql()

    plan = query_plan(sql, params, postgresql_off=("seqscan", "bitmapscan"))

    assert index in plan
    assert "Sort" not in plan and "TEMP B-TREE" not in plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="statistics objects are PostgreSQL's")
def test_the_upper_first_touch_campaign_expression_has_statistics() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_statisticsobjdef(oid) FROM pg_statistic_ext WHERE stxrelid = %s::regclass",
            [Lead._meta.db_table],
        )
        definitions = [row[0] for row in cursor.fetchall()]

    assert any("upper(first_touch_campaign::text)" in definition for definition in definitions), definitions
