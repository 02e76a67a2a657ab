"""The stage actions of the leads API: the rep's own assignments only, 409 on conflicts, declared fields only."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client

from handoff.models import Assignment, ContactLog
from integrations.tests.factories import ApiKeyFactory, api_headers
from leads.models import Lead

pytestmark = pytest.mark.django_db

BANT = {"budget": "€50k approved", "authority": "CMO decides", "need": "Lead routing", "timing": "Q3"}
NEXT_MONTH = (date.today() + timedelta(days=30)).isoformat()


def post(
    assignment: Assignment, action: str, key: object, data: object = None, idempotency_key: str | None = None
) -> object:
    url = f"/api/leads/{assignment.lead_id}/{action}/"
    headers = {**api_headers(key), **({"Idempotency-Key": idempotency_key} if idempotency_key else {})}
    return Client().post(url, data or {}, content_type="application/json", headers=headers)


@pytest.fixture
def key(rep: object) -> object:
    """The assigned rep's personal token with the full scope."""
    return ApiKeyFactory(user=rep, scope="full")


def test_accept_accepts_the_assignment(assignment: Assignment, key: object) -> None:
    response = post(assignment, "accept", key)

    assert (response.status_code, response.json()["state"]) == (200, "accepted")


def test_accepting_twice_is_a_409_that_says_why(assignment: Assignment, key: object) -> None:
    post(assignment, "accept", key)

    response = post(assignment, "accept", key)

    assert response.status_code == 409
    assert "already accepted" in response.json()["detail"]


def test_contact_logs_the_contact_and_meets_the_sla(assignment: Assignment, key: object) -> None:
    response = post(assignment, "contact", key, {"kind": "call", "note": "Intro call"})

    body = response.json()
    assert (response.status_code, body["state"], body["sla_met_at"] is not None) == (200, "contacted", True)
    assert ContactLog.objects.get(assignment=assignment).note == "Intro call"


def test_contact_with_an_unknown_kind_is_a_400(assignment: Assignment, key: object) -> None:
    response = post(assignment, "contact", key, {"kind": "carrier_pigeon"})

    assert (response.status_code, list(response.json())) == (400, ["kind"])


def test_qualify_after_a_contact_makes_the_lead_an_sql(assignment: Assignment, key: object) -> None:
    post(assignment, "contact", key, {"kind": "call"})

    response = post(assignment, "qualify", key, BANT)

    assert (response.status_code, response.json()["lead_stage"]) == (200, "sql")


def test_qualify_before_any_contact_is_a_409(assignment: Assignment, key: object) -> None:
    response = post(assignment, "qualify", key, BANT)

    assert response.status_code == 409


def test_qualify_without_bant_is_a_400_naming_each_field(assignment: Assignment, key: object) -> None:
    response = post(assignment, "qualify", key, {"budget": "Some"})

    assert (response.status_code, sorted(response.json())) == (400, ["authority", "need", "timing"])


def test_reject_sends_the_lead_back_as_rejected(assignment: Assignment, key: object) -> None:
    response = post(assignment, "reject", key, {"reason": "Student"})

    assert (response.status_code, response.json()["lead_stage"], response.json()["outcome"]) == (
        200,
        "rejected",
        "rejected",
    )


def test_reject_without_a_reason_is_a_400(assignment: Assignment, key: object) -> None:
    response = post(assignment, "reject", key, {"reason": ""})

    assert (response.status_code, list(response.json())) == (400, ["reason"])


def test_a_second_action_on_an_ended_assignment_is_a_409(assignment: Assignment, key: object) -> None:
    post(assignment, "reject", key, {"reason": "Student"})

    response = post(assignment, "contact", key, {"kind": "call"})

    assert response.status_code == 409


def test_recycle_puts_the_lead_in_nurture_until_the_day(assignment: Assignment, key: object) -> None:
    response = post(assignment, "recycle", key, {"recycle_on": NEXT_MONTH, "reason": "Budget next year"})

    body = response.json()
    assert (response.status_code, body["lead_stage"], body["recycle_on"]) == (200, "nurture", NEXT_MONTH)


def test_recycle_to_a_past_day_is_a_400(assignment: Assignment, key: object) -> None:
    response = post(assignment, "recycle", key, {"recycle_on": "2020-01-01"})

    assert (response.status_code, list(response.json())) == (400, ["recycle_on"])


@pytest.mark.parametrize("action", ["accept", "contact", "qualify", "reject", "recycle"])
def test_an_integration_key_may_not_take_actions(assignment: Assignment, action: str) -> None:
    response = post(assignment, action, ApiKeyFactory(scope="full"), {"kind": "call", "reason": "x"})

    assert response.status_code == 403


def test_a_read_scoped_token_may_not_take_actions(assignment: Assignment, rep: object) -> None:
    response = post(assignment, "accept", ApiKeyFactory(user=rep, scope="read"))

    assert response.status_code == 403


def test_another_rep_gets_a_404(assignment: Assignment, other_rep: object) -> None:
    response = post(assignment, "accept", ApiKeyFactory(user=other_rep, scope="full"))

    assert response.status_code == 404


def test_a_marketer_may_not_take_actions(assignment: Assignment, marketer: object) -> None:
    response = post(assignment, "accept", ApiKeyFactory(user=marketer, scope="full"))

    assert response.status_code == 403


def test_fields_an_action_does_not_declare_change_nothing(
    assignment: Assignment, key: object, other_rep: object
) -> None:
    body = {"reason": "Student", "stage": "sql", "owner": other_rep.pk, "score": 999}  # type: ignore[attr-defined]

    post(assignment, "reject", key, body)

    lead = Lead.objects.get(pk=assignment.lead_id)
    assert (lead.stage, lead.score, lead.owner_id) == ("rejected", 0, None)


def test_a_lead_cannot_be_patched(assignment: Assignment, key: object) -> None:
    response = Client().patch(
        f"/api/leads/{assignment.lead_id}/",
        {"stage": "sql"},
        content_type="application/json",
        headers=api_headers(key),
    )

    assert response.status_code == 405


# --- Idempotency-Key ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "data"), [("reject", {"reason": "Student"}), ("recycle", {"recycle_on": NEXT_MONTH})]
)
def test_a_retried_action_with_the_same_key_gets_the_first_answer_again(
    assignment: Assignment, key: object, action: str, data: dict[str, str]
) -> None:
    first = post(assignment, action, key, data, idempotency_key="retry-1")

    retry = post(assignment, action, key, data, idempotency_key="retry-1")

    assert (retry.status_code, retry.content, retry["Idempotent-Replayed"]) == (200, first.content, "true")


def test_a_retried_contact_with_the_same_key_logs_one_contact(assignment: Assignment, key: object) -> None:
    for _ in range(2):
        post(assignment, "contact", key, {"kind": "call", "note": "Intro call"}, idempotency_key="retry-1")

    assert ContactLog.objects.filter(assignment=assignment).count() == 1


def test_the_same_key_with_another_body_is_refused_with_422(assignment: Assignment, key: object) -> None:
    post(assignment, "contact", key, {"kind": "call"}, idempotency_key="retry-1")

    response = post(assignment, "contact", key, {"kind": "meeting"}, idempotency_key="retry-1")

    assert (response.status_code, ContactLog.objects.filter(assignment=assignment).count()) == (422, 1)


def test_a_refused_action_is_not_kept_so_a_corrected_retry_runs(assignment: Assignment, key: object) -> None:
    post(assignment, "reject", key, {"reason": ""}, idempotency_key="retry-1")

    response = post(assignment, "reject", key, {"reason": "Student"}, idempotency_key="retry-1")

    assert (response.status_code, response.json()["outcome"]) == (200, "rejected")
