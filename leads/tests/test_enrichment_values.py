"""A provider's values are checked like typed ones before they reach the lead (issue 14, break 6).

The review's HTTP provider stored ``javascript:alert(document.domain)`` as a lead's website. Here a real
local HTTP server plays the enrichment service, and each test enriches a lead through it.
"""

from collections.abc import Mapping
from typing import Any

import pytest
from pytest_django.fixtures import Settings
from pytest_httpserver import HTTPServer

from leads.enrichment import services as enrichment
from leads.enrichment.providers import (
    PROVIDER_KINDS,
    Found,
    LeadSnapshot,
    ProviderContext,
    ProviderKind,
    ProviderResult,
)
from leads.models import EnrichmentProvider, Lead
from leads.tests.factories import FIXED_NOW, LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def service(httpserver: HTTPServer, settings: Settings) -> HTTPServer:
    """The enrichment service, alone: the built-in providers are switched off so only its answer counts."""
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = True
    EnrichmentProvider.objects.update(is_active=False)
    return httpserver


def enrich_from(server: HTTPServer, answer: Mapping[str, Any]) -> Lead:
    """Enrich a new lead with a provider that maps every field of ``answer`` to the lead field of that name."""
    server.expect_request("/v1/person").respond_with_json(dict(answer))
    EnrichmentProvider.objects.create(
        name="People API", kind="http", order=1,
        settings={"url": server.url_for("/v1/person?email={email}"), "mapping": {k: k for k in answer}, "retries": 0},
    )  # fmt: skip
    lead = LeadFactory(email="ada@acme.example", company_name="", company_domain="", job_title="", country="")
    return enrichment.enrich_lead(lead_id=lead.pk, now=FIXED_NOW)


def test_a_javascript_url_is_not_stored_as_the_website(service: HTTPServer) -> None:
    lead = enrich_from(service, {"website": "javascript:alert(document.domain)"})

    assert Lead.objects.get(pk=lead.pk).website == ""


def test_an_https_website_is_stored(service: HTTPServer) -> None:
    lead = enrich_from(service, {"website": "https://acme.example"})

    assert Lead.objects.get(pk=lead.pk).website == "https://acme.example"


def test_the_rest_of_the_answer_is_kept_when_one_value_is_refused(service: HTTPServer) -> None:
    lead = enrich_from(service, {"website": "data:text/html,hi", "company_name": "Acme"})

    assert (lead.website, lead.company_name) == ("", "Acme")


def test_text_longer_than_its_field_is_left_out(service: HTTPServer) -> None:
    lead = enrich_from(service, {"company_name": "A" * 201})

    assert Lead.objects.get(pk=lead.pk).company_name == ""


@pytest.mark.parametrize(
    ("field", "value"),
    [("seniority", "overlord"), ("job_function", "wizardry"), ("email_domain_kind", "great"), ("country", "ZZ")],
)
def test_a_value_that_is_not_a_choice_is_left_out(service: HTTPServer, field: str, value: str) -> None:
    lead = enrich_from(service, {field: value})

    assert getattr(Lead.objects.get(pk=lead.pk), field) == ""


def test_a_valid_choice_is_stored(service: HTTPServer) -> None:
    lead = enrich_from(service, {"seniority": "vp", "country": "gb"})

    assert (lead.seniority, lead.country) == ("vp", "GB")


@pytest.mark.parametrize("count", [-5, 2**40, True, "1k-5k"])
def test_a_head_count_the_field_cannot_hold_is_left_out(service: HTTPServer, count: object) -> None:
    lead = enrich_from(service, {"employee_count": count})

    assert Lead.objects.get(pk=lead.pk).employee_count is None


class _CarelessProvider(ProviderKind):
    """A provider kind that passes on whatever it is given, as a third-party plugin might."""

    def enrich(self, snapshot: LeadSnapshot, context: ProviderContext) -> ProviderResult:
        return ProviderResult({name: Found(value, 0.5) for name, value in context.settings.items()})


def test_every_providers_values_are_checked_not_only_the_http_providers(
    service: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(PROVIDER_KINDS, "careless", _CarelessProvider())
    EnrichmentProvider.objects.create(
        name="Careless", kind="careless", settings={"website": "javascript:alert(1)", "company_name": "Acme"}
    )
    lead = LeadFactory(company_name="")

    enrichment.enrich_lead(lead_id=lead.pk, now=FIXED_NOW)

    assert Lead.objects.values_list("website", "company_name").get(pk=lead.pk) == ("", "Acme")


class _StagePlugin(ProviderKind):
    """A provider plugin that answers with what no provider may set, beside a good value."""

    label = "Plugin"

    def enrich(self, snapshot: LeadSnapshot, context: ProviderContext) -> ProviderResult:
        answer = {"stage": Found("sql", 1.0), "favourite_colour": Found("red", 1.0), "industry": Found("Software", 0.9)}
        return ProviderResult(answer)


def test_a_plugins_answer_for_what_no_provider_may_set_is_left_out_and_the_rest_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    EnrichmentProvider.objects.update(is_active=False)
    monkeypatch.setitem(PROVIDER_KINDS, "stage_plugin", _StagePlugin())
    EnrichmentProvider.objects.create(name="Plugin", kind="stage_plugin", order=1)
    lead = LeadFactory(industry="")

    lead = enrichment.enrich_lead(lead_id=lead.pk, now=FIXED_NOW)

    assert (lead.stage, lead.industry) == ("new", "Software")
