"""POST /api/activities/ with a capture-only key: the same answer whether the lead exists (issue 14, break 7).

A webinar tool's key must not learn who is a lead. Known and unknown leads get the same ``202``; the
activities of known leads are recorded and those of unknown ones dropped (nothing is kept for later).
"""

from typing import Any

import pytest
from django.test import Client

from integrations.models import ApiKeyScope
from integrations.tests.factories import ApiKeyFactory, api_headers
from leads.models import Activity, ActivityKind
from leads.tests.factories import FIXED_NOW, LeadFactory

pytestmark = pytest.mark.django_db

URL = "/api/activities/"


def item(**fields: Any) -> dict[str, Any]:
    return {"kind": ActivityKind.WEBINAR_ATTENDED, "occurred_at": FIXED_NOW.isoformat(), **fields}


def post(body: object, path: str = URL) -> Any:
    api_key = ApiKeyFactory(scope=ApiKeyScope.CAPTURE)
    return Client().post(path, body, content_type="application/json", headers=api_headers(api_key))


def answer(response: Any) -> tuple[int, bytes]:
    return response.status_code, response.content


def test_a_known_and_an_unknown_email_get_the_same_answer() -> None:
    LeadFactory(email="ada@acme.example")

    known, unknown = post(item(email="ada@acme.example")), post(item(email="nobody@acme.example"))

    assert answer(known) == answer(unknown) == (202, b'{"accepted":1}')


def test_a_known_and_an_unknown_lead_id_get_the_same_answer() -> None:
    lead = LeadFactory()

    assert answer(post(item(lead_id=lead.pk))) == answer(post(item(lead_id=lead.pk + 1000)))


def test_the_activity_of_a_known_lead_is_recorded() -> None:
    lead = LeadFactory(email="ada@acme.example")

    post(item(email="ada@acme.example"))

    assert list(Activity.objects.values_list("lead", "kind")) == [(lead.pk, "webinar_attended")]


def test_the_activity_of_an_unknown_lead_is_not_kept() -> None:
    post(item(email="nobody@acme.example"))

    assert not Activity.objects.exists()


def test_a_batch_mixing_known_and_unknown_leads_records_the_known_ones() -> None:
    lead = LeadFactory(email="ada@acme.example")

    response = post([item(email="nobody@acme.example"), item(email="ada@acme.example")], path=f"{URL}?unknown=reject")

    assert (response.status_code, list(Activity.objects.values_list("lead", flat=True))) == (202, [lead.pk])


def test_an_invalid_item_is_still_a_400_naming_it() -> None:
    response = post(item(email="ada@acme.example", kind="telepathy"))

    assert (response.status_code, response.json()["items"][0]["index"]) == (400, 0)
