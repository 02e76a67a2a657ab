"""Bad input to the capture API (integrations.parsers): text no database can store and nesting no code can walk
are a 400 naming the field, and nothing is stored.

Bodies are sent raw, as a client would write them: ``\\ud800`` is the JSON escape of a lone surrogate.
"""

import json
from typing import Any

import pytest
from django.test import Client

from integrations.models import ApiKeyScope
from integrations.tests.factories import ApiKeyFactory, api_headers
from leads.models import Activity, CaptureForm, Lead, Submission
from leads.tests.factories import FIXED_NOW, LeadFactory

pytestmark = pytest.mark.django_db

SUBMISSION = {
    "form": "state-of-b2b",
    "answers": {"first_name": "Ada", "email": "ada@acme.example", "company_name": "Acme"},
    "consent": {"given": True},
}
LONE_SURROGATE = "\\ud800"  # a JSON escape, six characters: Python's json reads it as the character U+D800


def post_raw(path: str, raw_body: str) -> Any:
    api_key = ApiKeyFactory(scope=ApiKeyScope.CAPTURE)
    return Client().post(path, raw_body, content_type="application/json", headers=api_headers(api_key))


def submission_with(answer_key: str, raw_value: str) -> str:
    """A valid submission of the ``whitepaper`` form whose answer ``answer_key`` is written as ``raw_value``."""
    answers = {**SUBMISSION["answers"], answer_key: "RAW"}
    return json.dumps({**SUBMISSION, "answers": answers}).replace('"RAW"', raw_value)


def activity_with(raw_metadata: str) -> str:
    item = {"email": "ada@acme.example", "kind": "webinar_attended", "occurred_at": FIXED_NOW.isoformat()}
    return json.dumps({**item, "metadata": "METADATA"}).replace('"METADATA"', raw_metadata)


def test_a_lone_surrogate_in_an_answer_is_refused_naming_the_field(whitepaper: CaptureForm) -> None:
    response = post_raw("/api/submissions/", submission_with("job_title", f'"CTO{LONE_SURROGATE}"'))

    assert response.status_code == 400
    assert "answers.job_title" in response.json()["detail"]


def test_a_lone_surrogate_in_an_answer_stores_nothing(whitepaper: CaptureForm) -> None:
    post_raw("/api/submissions/", submission_with("job_title", f'"CTO{LONE_SURROGATE}"'))

    assert (Submission.objects.count(), Lead.objects.count()) == (0, 0)


def test_a_lone_surrogate_in_an_answers_key_is_refused_naming_its_object(whitepaper: CaptureForm) -> None:
    raw = submission_with("job_title", '"CTO"').replace('"job_title"', f'"job{LONE_SURROGATE}"')

    response = post_raw("/api/submissions/", raw)

    assert response.status_code == 400
    assert "answers" in response.json()["detail"]
    assert not Submission.objects.exists()


def test_a_lone_surrogate_in_activity_metadata_is_refused_naming_the_field() -> None:
    LeadFactory(email="ada@acme.example")

    response = post_raw("/api/activities/", activity_with(f'{{"webinar": "Q3{LONE_SURROGATE}"}}'))

    assert response.status_code == 400
    assert "metadata.webinar" in response.json()["detail"]


def test_a_lone_surrogate_in_activity_metadata_stores_nothing() -> None:
    LeadFactory(email="ada@acme.example")

    post_raw("/api/activities/", activity_with(f'{{"webinar": "Q3{LONE_SURROGATE}"}}'))

    assert not Activity.objects.exists()


def test_a_lone_surrogate_in_a_batch_names_the_items_position() -> None:
    LeadFactory(email="ada@acme.example")
    good, bad = activity_with("{}"), activity_with(f'{{"note": "{LONE_SURROGATE}"}}')

    response = post_raw("/api/activities/", f"[{good}, {bad}]")

    assert (response.status_code, Activity.objects.count()) == (400, 0)
    assert "[1].metadata.note" in response.json()["detail"]


def test_a_surrogate_pair_is_an_ordinary_character() -> None:
    LeadFactory(email="ada@acme.example")

    post_raw("/api/activities/", activity_with('{"mood": "\\ud83d\\ude00"}'))

    assert Activity.objects.get().metadata == {"mood": "\U0001f600"}


# PostgreSQL refuses a NUL character in text; each field refuses it first, under its own name.
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"user_agent": "Mozilla\x00"}, "user_agent"),
        ({"attribution": {"utm_source": "linked\x00in"}}, "attribution.utm_source"),
        (
            {"answers": {"first_name": "A\x00da", "email": "ada@acme.example", "company_name": "Acme"}},
            "answers.first_name",
        ),
    ],
    ids=["user agent", "attribution", "answer"],
)
def test_a_nul_in_a_submissions_text_is_refused_naming_the_field(
    whitepaper: CaptureForm, change: dict[str, Any], field: str
) -> None:
    response = post_raw("/api/submissions/", json.dumps({**SUBMISSION, **change}))

    assert (response.status_code, list(response.json()["errors"])) == (400, [field])
    assert not Submission.objects.exists()


def test_a_nul_in_a_metadata_key_is_refused_naming_the_field() -> None:
    LeadFactory(email="ada@acme.example")

    response = post_raw("/api/activities/", activity_with('{"we\\u0000binar": "Q3"}'))

    assert (response.status_code, response.json()["items"][0]["errors"]) == (
        400,
        {"metadata": ["Null characters are not allowed."]},
    )
    assert not Activity.objects.exists()


def test_json_nested_a_hundred_thousand_deep_is_refused() -> None:
    response = post_raw("/api/activities/", "[" * 100_000 + "]" * 100_000)

    assert response.status_code == 400
    assert "nested" in response.json()["detail"]


def test_metadata_nested_deeper_than_the_limit_is_refused_naming_the_field() -> None:
    LeadFactory(email="ada@acme.example")
    depth = 500  # the JSON decoder reads it, code that walks it recursively runs out of stack

    response = post_raw("/api/activities/", activity_with('{"n": ' + "[" * depth + "]" * depth + "}"))

    assert (response.status_code, Activity.objects.count()) == (400, 0)
    assert "metadata.n" in response.json()["detail"]


def test_metadata_nested_a_few_levels_is_stored() -> None:
    LeadFactory(email="ada@acme.example")

    post_raw("/api/activities/", activity_with('{"page": {"utm": {"source": ["linkedin"]}}}'))

    assert Activity.objects.get().metadata == {"page": {"utm": {"source": ["linkedin"]}}}
