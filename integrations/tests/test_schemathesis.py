"""Schemathesis against /api/schema/: generated requests find no 5xx and no response that breaks the schema.

The schema is loaded through the WSGI app with an integration key, and every request goes through the
same app in the test's transaction. Few examples and a fixed seed keep it fast and deterministic; the
leads and the form named in the schema's examples exist, so the explicit examples succeed (201) and are
checked too.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from pytest_django import Settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from integrations.models import ApiKey
from integrations.tests.factories import ApiKeyFactory, api_headers
from leads.models import FieldKind
from leads.tests.factories import CaptureFormFactory, ConsentTextFactory, FormFieldFactory, LeadFactory

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def wsgi_app() -> Iterator[WSGIHandler]:
    # Like Django's test client: a request must not close the connection holding the test's transaction.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_key(db: None, settings: Settings) -> ApiKey:
    # Many requests in a moment: lift the rate limit rather than test it here.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_key": "100000/min", "user": "100000/min", "anon": "100000/min"},
    }
    LeadFactory(email="ada@acme.example")
    LeadFactory(id=42, email="grace@acme.example")
    _example_form()
    return ApiKeyFactory()


def _example_form() -> None:
    """The form the submissions examples send (leads.api.views), with the fields they answer."""
    form = CaptureFormFactory(slug="state-of-b2b")
    FormFieldFactory(form=form, label="First name", lead_attribute="first_name", is_required=True)
    FormFieldFactory(form=form, label="Email", kind=FieldKind.EMAIL, lead_attribute="email", is_required=True)
    FormFieldFactory(form=form, label="Company", lead_attribute="company_name", is_required=True)
    FormFieldFactory(form=form, label="Job title", lead_attribute="job_title")
    FormFieldFactory(
        form=form,
        label="Team size",
        kind=FieldKind.SELECT,
        lead_attribute="",
        answer_key="team_size",
        choices="1-10\n11-50\n51+",
    )
    ConsentTextFactory(form=form, version=1)


@pytest.fixture
def api_schema(wsgi_app: WSGIHandler, api_key: ApiKey) -> schemathesis.schemas.BaseSchema:
    return schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app, headers=api_headers(api_key))


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=30,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_the_api_keeps_to_its_schema(case: schemathesis.Case, api_key: ApiKey) -> None:
    case.call_and_validate(headers=api_headers(api_key), checks=CHECKS)
