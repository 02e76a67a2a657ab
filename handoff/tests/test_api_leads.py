"""GET /api/leads/ and /api/leads/{id}/: who sees which leads, the filters, the cursor, the query count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from handoff.models import Assignment
from handoff.tests.factories import MQLFactory, TeamFactory, route
from integrations.tests.factories import ApiKeyFactory, api_headers
from leads.models import Lead, Stage
from leads.tests.factories import FIXED_NOW, ConsentFactory, LeadFactory

pytestmark = pytest.mark.django_db


def get(path: str, key: object, **params: object) -> object:
    return Client().get(path, params, headers=api_headers(key))


def ids(response: object) -> set[int]:
    return {row["id"] for row in response.json()["results"]}  # type: ignore[attr-defined]


def token(user: object, scope: str = "read") -> object:
    return ApiKeyFactory(user=user, scope=scope)


def test_a_reps_token_lists_only_the_reps_leads(rep: object, other_rep: object) -> None:
    mine = LeadFactory(owner=rep)
    LeadFactory(owner=other_rep)

    response = get("/api/leads/", token(rep))

    assert (response.status_code, ids(response)) == (200, {mine.pk})


def test_a_managers_token_lists_their_teams_leads(manager: object, assignment: Assignment, other_rep: object) -> None:
    LeadFactory(owner=other_rep)  # not in the manager's team

    response = get("/api/leads/", token(manager))

    assert ids(response) == {assignment.lead_id}


def test_a_marketers_token_lists_every_lead(marketer: object, rep: object, other_rep: object) -> None:
    leads = {LeadFactory(owner=rep).pk, LeadFactory(owner=other_rep).pk, LeadFactory().pk}

    response = get("/api/leads/", token(marketer))

    assert ids(response) == leads


def test_an_integration_key_with_the_read_scope_lists_every_lead(rep: object) -> None:
    leads = {LeadFactory(owner=rep).pk, LeadFactory().pk}

    response = get("/api/leads/", ApiKeyFactory(scope="read"))

    assert ids(response) == leads


def test_a_capture_key_may_not_list_leads() -> None:
    response = get("/api/leads/", ApiKeyFactory(scope="capture"))

    assert response.status_code == 403


def test_listing_without_credentials_is_a_401() -> None:
    assert Client().get("/api/leads/").status_code == 401


def test_a_rep_asking_for_another_reps_lead_gets_a_404(rep: object, other_rep: object) -> None:
    theirs = LeadFactory(owner=other_rep)

    response = get(f"/api/leads/{theirs.pk}/", token(rep))

    assert response.status_code == 404


def test_a_malformed_lead_id_is_a_json_404(rep: object) -> None:
    response = get("/api/leads/abc/", token(rep))

    assert (response.status_code, response["Content-Type"]) == (404, "application/json")


def test_the_lead_shows_its_consents_score_breakdown_and_enrichment(rep: object) -> None:
    lead = LeadFactory(owner=rep, score=30, score_breakdown=[{"rule": "CTO", "points": 30}], industry="Software")
    ConsentFactory(lead=lead)

    body = get(f"/api/leads/{lead.pk}/", token(rep)).json()

    assert (body["score_breakdown"], body["industry"], [c["legal_basis"] for c in body["consents"]]) == (
        [{"rule": "CTO", "points": 30}],
        "Software",
        ["opt_in"],
    )


def test_the_lead_shows_its_sla_state(rep: object, assignment: Assignment) -> None:
    body = get(f"/api/leads/{assignment.lead_id}/", token(rep)).json()

    sla = body["sla"]
    assert (sla["assignment_id"], sla["state"], sla["team"], sla["sla_met_at"]) == (
        assignment.pk,
        "assigned",
        "london",
        None,
    )


def test_a_lead_not_with_sales_has_no_sla(marketer: object) -> None:
    lead = LeadFactory()

    assert get(f"/api/leads/{lead.pk}/", token(marketer)).json()["sla"] is None


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"stage": "mql"}, {"mql"}),
        ({"first_touch_source": "linkedin"}, {"linkedin"}),
        ({"first_touch_channel": "paid_social"}, {"linkedin"}),
        ({"score_min": 50}, {"mql"}),
        ({"score_max": 10}, {"new"}),
        ({"team": "london"}, {"mql"}),
        ({"q": "grac"}, {"new"}),
        ({"q": "GLOBEX"}, {"linkedin"}),
    ],
)
def test_the_filters_select_the_matching_leads(params: dict[str, object], expected: set[str]) -> None:
    LeadFactory(first_name="Grace", company_name="Acme", score=5, email="new@acme.example")
    mql = LeadFactory(stage=Stage.MQL, score=60, company_name="Acme", email="mql@acme.example")
    route(mql, team=TeamFactory(slug="london"))
    LeadFactory(
        first_touch_source="linkedin",
        first_touch_channel="paid_social",
        company_name="Globex",
        score=20,
        email="linkedin@acme.example",
    )
    labels = {"new@acme.example": "new", "mql@acme.example": "mql", "linkedin@acme.example": "linkedin"}

    response = get("/api/leads/", ApiKeyFactory(scope="read"), **params)

    assert {labels[row["email"]] for row in response.json()["results"]} == expected


def test_the_owner_filter_selects_the_owners_leads(rep: object, other_rep: object) -> None:
    mine = LeadFactory(owner=rep)
    LeadFactory(owner=other_rep)

    response = get("/api/leads/", ApiKeyFactory(scope="read"), owner=rep.pk)  # type: ignore[attr-defined]

    assert ids(response) == {mine.pk}


def test_the_created_range_selects_leads_created_in_it() -> None:
    LeadFactory(created_at=FIXED_NOW - timedelta(days=10))
    inside = LeadFactory(created_at=FIXED_NOW)
    LeadFactory(created_at=FIXED_NOW + timedelta(days=10))

    response = get(
        "/api/leads/",
        ApiKeyFactory(scope="read"),
        created_after=(FIXED_NOW - timedelta(days=1)).isoformat(),
        created_before=(FIXED_NOW + timedelta(days=1)).isoformat(),
    )

    assert ids(response) == {inside.pk}


def test_an_invalid_filter_is_a_400() -> None:
    response = get("/api/leads/", ApiKeyFactory(scope="read"), stage="won")

    assert (response.status_code, list(response.json())) == (400, ["stage"])


def test_the_cursor_walks_every_lead_once_newest_first() -> None:
    # Equal creation times too: the id breaks the tie, so no lead is skipped or repeated.
    leads = [LeadFactory(created_at=FIXED_NOW + timedelta(minutes=i // 2)) for i in range(7)]
    key = ApiKeyFactory(scope="read")
    seen: list[int] = []
    url = "/api/leads/?page_size=3"
    while url:
        body = Client().get(url, headers=api_headers(key)).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]

    newest_first = sorted(leads, key=lambda lead: (lead.created_at, lead.pk), reverse=True)
    assert seen == [lead.pk for lead in newest_first]


def test_the_cursor_walks_every_lead_once_where_more_than_a_thousand_share_an_instant() -> None:
    Lead.objects.bulk_create([Lead(email=f"p{i}@acme.example", created_at=FIXED_NOW) for i in range(1_300)])
    key = ApiKeyFactory(scope="read")
    seen: list[int] = []
    url = "/api/leads/?page_size=200"

    while url and len(seen) <= 1_300:
        body = Client().get(url, headers=api_headers(key)).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]

    assert sorted(seen, reverse=True) == seen
    assert len(seen) == len(set(seen)) == 1_300


def test_the_page_size_is_capped_at_200() -> None:
    Lead.objects.bulk_create([Lead(email=f"p{i}@acme.example", created_at=FIXED_NOW) for i in range(201)])

    response = get("/api/leads/", ApiKeyFactory(scope="read"), page_size=500)

    assert len(response.json()["results"]) == 200


def test_listing_takes_the_same_queries_for_many_leads(rep: object, django_assert_max_num_queries: object) -> None:
    for _ in range(30):
        ConsentFactory(lead=MQLFactory(owner=rep))
    key = token(rep)

    # 10 for the key, its throttle and the person's permissions, then one for the page of leads.
    with django_assert_max_num_queries(11):  # type: ignore[operator]
        response = get("/api/leads/", key)

    assert len(response.json()["results"]) == 30  # type: ignore[attr-defined]


def test_the_lead_takes_the_same_queries_with_many_consents(
    rep: object, assignment: Assignment, django_assert_max_num_queries: object
) -> None:
    for _ in range(10):
        ConsentFactory(lead=assignment.lead)
    key = token(rep)

    # 10 for the key, its throttle and the person's permissions; the lead, its consents, its assignments.
    with django_assert_max_num_queries(13):  # type: ignore[operator]
        response = get(f"/api/leads/{assignment.lead_id}/", key)

    assert len(response.json()["consents"]) == 10  # type: ignore[attr-defined]
