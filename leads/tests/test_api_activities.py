"""POST /api/activities/: one activity or a batch, all or nothing, idempotent, for capture keys and marketers."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from handoff import receivers
from integrations.models import ApiKeyScope
from integrations.tests.factories import ApiKeyFactory, api_headers
from leads.models import Activity, ActivityKind, Lead
from leads.tests.factories import FIXED_NOW, LeadFactory
from tests.personas import client_for

pytestmark = pytest.mark.django_db

URL = "/api/activities/"
NAIVE_TIME = "Include a UTC offset or Z, as in 2026-03-02T10:00:00Z: a time without one could be in any time zone."
WHEN = FIXED_NOW.isoformat()


def item(**fields: Any) -> dict[str, Any]:
    return {"email": "ada@acme.example", "kind": ActivityKind.WEBINAR_ATTENDED, "occurred_at": WHEN, **fields}


def post(body: object, *, scope: str = ApiKeyScope.FULL, path: str = URL, **headers: str) -> Any:
    """Sent with a key that may also read leads; a capture-only key's answers are in test_api_activities_capture."""
    api_key = ApiKeyFactory(scope=scope)
    return Client().post(path, body, content_type="application/json", headers={**api_headers(api_key), **headers})


def stored() -> list[tuple[str, str]]:
    return list(Activity.objects.order_by("id").values_list("lead__email", "kind"))


def test_one_activity_is_recorded_for_the_lead_with_that_email() -> None:
    lead = LeadFactory(email="ada@acme.example")

    response = post(item(metadata={"webinar": "Q3 roadmap"}))

    activity = Activity.objects.get()
    assert response.status_code == 201
    assert (activity.lead, activity.kind, activity.occurred_at, activity.metadata) == (
        lead,
        "webinar_attended",
        FIXED_NOW,
        {"webinar": "Q3 roadmap"},
    )


def test_the_response_lists_what_was_stored() -> None:
    lead = LeadFactory(email="ada@acme.example")

    response = post(item())

    assert response.json() == {
        "activities": [
            {"index": 0, "id": Activity.objects.get().pk, "lead_id": lead.pk, "kind": "webinar_attended",
             "occurred_at": "2026-03-02T10:00:00Z"},
        ],
        "skipped": [],
    }  # fmt: skip


def test_a_lead_can_be_named_by_id() -> None:
    lead = LeadFactory()

    post({"lead_id": lead.pk, "kind": ActivityKind.EMAIL_CLICKED, "occurred_at": WHEN})

    assert stored() == [(lead.email, "email_clicked")]


def test_an_erased_lead_takes_no_new_activity() -> None:
    lead = LeadFactory(email=None, phone="", first_name="", erased_at=FIXED_NOW)

    response = post({"lead_id": lead.pk, "kind": ActivityKind.EMAIL_CLICKED, "occurred_at": WHEN})

    assert (response.status_code, Activity.objects.filter(lead=lead).count()) == (400, 0)


def test_the_email_is_matched_as_normalised() -> None:
    LeadFactory(email="ada@acme.example")

    post(item(email=" Ada@ACME.example"))

    assert stored() == [("ada@acme.example", "webinar_attended")]


def test_a_batch_is_recorded_in_order() -> None:
    LeadFactory(email="ada@acme.example")
    LeadFactory(email="grace@acme.example")

    response = post([item(), item(email="grace@acme.example", kind=ActivityKind.EMAIL_OPENED)])

    assert response.status_code == 201
    assert stored() == [("ada@acme.example", "webinar_attended"), ("grace@acme.example", "email_opened")]


def test_recording_queues_the_leads_pipeline(
    django_capture_on_commit_callbacks: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    queued: list[str] = []
    monkeypatch.setattr(receivers, "async_task", lambda task, *args: queued.append(task))
    lead = LeadFactory(email="ada@acme.example")

    with django_capture_on_commit_callbacks(execute=True):
        post(item())

    assert queued == ["handoff.tasks.run_pipeline"]
    assert Lead.objects.get(pk=lead.pk).pipeline_due_at is not None


def test_an_unknown_email_is_a_400_naming_the_item_and_nothing_is_stored() -> None:
    LeadFactory(email="ada@acme.example")

    response = post([item(), item(email="nobody@acme.example")])

    assert (response.status_code, stored()) == (400, [])
    assert response.json() == {
        "detail": "No activity was stored: 1 of 2 items are invalid.",
        "items": [{"index": 1, "errors": {"email": ["No lead has this email address."]}}],
    }


def test_invalid_items_are_a_400_with_field_messages_and_nothing_is_stored() -> None:
    LeadFactory(email="ada@acme.example")

    response = post([item(), item(kind="telepathy", occurred_at="yesterday")])

    assert (response.status_code, stored()) == (400, [])
    assert response.json()["items"] == [
        {
            "index": 1,
            "errors": {
                "kind": ['"telepathy" is not a valid choice.'],
                "occurred_at": [
                    "Datetime has wrong format. Use one of these formats instead: "
                    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
                ],
            },
        }
    ]


def test_an_item_naming_the_lead_twice_is_refused() -> None:
    lead = LeadFactory(email="ada@acme.example")

    response = post(item(lead_id=lead.pk))

    assert response.json()["items"] == [
        {"index": 0, "errors": {"lead_id": ["Give either email or lead_id, not both."]}}
    ]


def test_an_activity_in_the_future_is_refused() -> None:
    LeadFactory(email="ada@acme.example")

    response = post(item(occurred_at=(timezone.now() + timedelta(hours=1)).isoformat()))

    assert response.json()["items"] == [{"index": 0, "errors": {"occurred_at": ["The time is in the future."]}}]


def test_with_unknown_skip_the_known_leads_are_recorded_and_the_rest_listed() -> None:
    LeadFactory(email="ada@acme.example")

    response = post([item(email="nobody@acme.example"), item()], path=f"{URL}?unknown=skip")

    assert (response.status_code, stored()) == (201, [("ada@acme.example", "webinar_attended")])
    assert response.json()["skipped"] == [{"index": 0, "errors": {"email": ["No lead has this email address."]}}]


@pytest.mark.parametrize("body", [[], '"webinar"', [item()] * 501], ids=["empty", "a string", "501 items"])
def test_a_body_that_is_not_one_to_500_activities_is_refused(body: object) -> None:
    response = post(body)

    assert (response.status_code, response.json()["detail"]) == (
        400,
        "Send one activity object, or a list of 1 to 500 of them.",
    )


def test_an_activity_resent_with_the_same_external_id_is_stored_once() -> None:
    LeadFactory(email="ada@acme.example")
    first = post(item(metadata={"external_id": "zoom-1"}))

    again = post(item(metadata={"external_id": "zoom-1"}))

    assert (Activity.objects.count(), again.json()["activities"][0]["id"]) == (1, first.json()["activities"][0]["id"])


def test_an_idempotency_key_replays_the_first_response() -> None:
    LeadFactory(email="ada@acme.example")
    api_key = ApiKeyFactory(scope=ApiKeyScope.FULL)
    client, headers = Client(), {**api_headers(api_key), "Idempotency-Key": "batch-2026-03-02"}

    first = client.post(URL, [item()], content_type="application/json", headers=headers)
    retry = client.post(URL, [item()], content_type="application/json", headers=headers)

    assert (retry.status_code, retry.content, retry["Idempotent-Replayed"]) == (201, first.content, "true")
    assert Activity.objects.count() == 1


def test_the_same_idempotency_key_with_another_body_is_a_422() -> None:
    LeadFactory(email="ada@acme.example")
    api_key = ApiKeyFactory(scope=ApiKeyScope.CAPTURE)
    client, headers = Client(), {**api_headers(api_key), "Idempotency-Key": "batch-2026-03-02"}
    client.post(URL, [item()], content_type="application/json", headers=headers)

    response = client.post(URL, [item(kind="email_opened")], content_type="application/json", headers=headers)

    assert (response.status_code, Activity.objects.count()) == (422, 1)


def test_anonymous_requests_are_refused_with_401() -> None:
    response = Client().post(URL, item(), content_type="application/json")

    assert response.status_code == 401


def test_a_read_only_key_is_refused() -> None:
    LeadFactory(email="ada@acme.example")

    response = post(item(), scope=ApiKeyScope.READ)

    assert (response.status_code, stored()) == (403, [])


def test_a_full_key_may_record() -> None:
    LeadFactory(email="ada@acme.example")

    assert post(item(), scope=ApiKeyScope.FULL).status_code == 201


def test_a_marketers_token_may_record(marketer: object) -> None:
    LeadFactory(email="ada@acme.example")
    api_key = ApiKeyFactory(user=marketer)

    response = Client().post(URL, item(), content_type="application/json", headers=api_headers(api_key))

    assert response.status_code == 201


def test_a_reps_token_is_refused(rep: object) -> None:
    LeadFactory(email="ada@acme.example", owner=rep)
    api_key = ApiKeyFactory(user=rep)

    response = Client().post(URL, item(), content_type="application/json", headers=api_headers(api_key))

    assert (response.status_code, stored()) == (403, [])


def test_a_signed_in_marketer_may_record_from_the_docs_page(marketer: object) -> None:
    LeadFactory(email="ada@acme.example")
    response = client_for(marketer).post(URL, item(), content_type="application/json")

    assert response.status_code == 201


def test_get_is_not_allowed() -> None:
    api_key = ApiKeyFactory(scope=ApiKeyScope.CAPTURE)

    response = Client().get(URL, headers=api_headers(api_key))

    assert response.status_code == 405


def test_a_null_character_in_metadata_is_refused() -> None:
    LeadFactory(email="ada@acme.example")

    response = post(item(metadata={"note": "a\u0000b"}))

    assert (response.status_code, response.json()["items"][0]["errors"]) == (
        400,
        {"metadata": ["Null characters are not allowed."]},
    )


def test_a_lead_id_beyond_the_database_range_is_refused() -> None:
    response = post({"lead_id": 2**63, "kind": ActivityKind.PAGE_VIEW, "occurred_at": WHEN})

    assert response.status_code == 400


def test_a_time_without_a_utc_offset_is_refused_and_nothing_is_stored() -> None:
    LeadFactory(email="ada@acme.example")

    response = post(item(occurred_at="2026-03-02T10:00:00"))

    assert response.status_code == 400
    assert response.json()["items"] == [{"index": 0, "errors": {"occurred_at": [NAIVE_TIME]}}]
    assert not Activity.objects.exists()


def test_a_time_before_the_years_a_page_can_show_is_refused() -> None:
    LeadFactory(email="ada@acme.example")

    response = post(item(occurred_at="0001-01-01T00:00:00Z"))

    assert response.status_code == 400
    assert response.json()["items"] == [
        {"index": 0, "errors": {"occurred_at": ["Give a time between the years 1900 and 9998."]}}
    ]
