"""The HTTP provider against a real local HTTP server playing the enrichment service."""

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from pytest_django.fixtures import Settings
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from leads.enrichment.http import HttpProvider
from leads.enrichment.providers import PROVIDER_KINDS, LeadSnapshot, ProviderContext, ProviderError
from leads.tests.dns import fake_dns
from leads.tests.factories import FIXED_NOW

pytestmark = pytest.mark.django_db

SNAPSHOT = LeadSnapshot(email="ada@acme.example", company_domain="acme.example")
COMPANY = {"company": {"name": "Acme", "category": {"industry": "Software"}, "metrics": {"employees": 1200}}}
MAPPING = {
    "company_name": "company.name",
    "industry": "company.category.industry",
    "employee_count": "company.metrics.employees",
}


@pytest.fixture
def httpserver(httpserver: HTTPServer, settings: Settings) -> HTTPServer:
    """The service is pytest-httpserver on 127.0.0.1, as an internal one would be on a private network."""
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = True
    return httpserver


@pytest.fixture(autouse=True)
def _public_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    names = {"api.example.com": ["93.184.216.34"], "enrich.example.com": ["10.0.0.5"], "localhost": ["127.0.0.1"]}
    fake_dns(monkeypatch, names)


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[HttpProvider]:
    kind = PROVIDER_KINDS["http"]
    assert isinstance(kind, HttpProvider)
    sleeps: list[float] = []
    monkeypatch.setattr(kind, "sleep", sleeps.append)
    kind.sleeps = sleeps  # type: ignore[attr-defined]
    yield kind


def context(
    server: HTTPServer, *, now: object = FIXED_NOW, timeout: float = 2.0, **settings: object
) -> ProviderContext:
    return ProviderContext(
        settings={"url": server.url_for("/v1/person?email={email}"), "mapping": MAPPING, **settings},
        timeout_seconds=timeout,
        now=now,  # type: ignore[arg-type]
        provider_key="test",
    )


def test_success_maps_response_fields_to_lead_attributes(httpserver: HTTPServer, provider: HttpProvider) -> None:
    httpserver.expect_request("/v1/person", query_string="email=ada@acme.example").respond_with_json(COMPANY)

    result = provider.enrich(SNAPSHOT, context(httpserver))

    assert {name: found.value for name, found in result.values.items()} == {
        "company_name": "Acme",
        "industry": "Software",
        "employee_count": 1200,
    }


def test_auth_header_is_sent(httpserver: HTTPServer, provider: HttpProvider) -> None:
    httpserver.expect_request("/v1/person", headers={"X-Api-Key": "s3cret"}).respond_with_json(COMPANY)

    result = provider.enrich(SNAPSHOT, context(httpserver, auth_header="X-Api-Key", auth_value="s3cret"))

    assert result.values["industry"].value == "Software"


def test_slow_service_times_out_as_a_provider_error(httpserver: HTTPServer, provider: HttpProvider) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.6)
        return Response("{}", content_type="application/json")

    httpserver.expect_request("/v1/person").respond_with_handler(slow)

    with pytest.raises(ProviderError, match="timed out"):
        provider.enrich(SNAPSHOT, context(httpserver, timeout=0.2, retries=0))


def test_a_500_is_retried_with_backoff_then_succeeds(httpserver: HTTPServer, provider: HttpProvider) -> None:
    httpserver.expect_ordered_request("/v1/person").respond_with_data("boom", status=500)
    httpserver.expect_ordered_request("/v1/person").respond_with_data("boom", status=503)
    httpserver.expect_ordered_request("/v1/person").respond_with_json(COMPANY)

    result = provider.enrich(SNAPSHOT, context(httpserver, retries=2, backoff_seconds=0.5))

    assert result.values["company_name"].value == "Acme"
    assert provider.sleeps == [0.5, 1.0]  # type: ignore[attr-defined]


def test_retries_are_bounded(httpserver: HTTPServer, provider: HttpProvider) -> None:
    httpserver.expect_request("/v1/person").respond_with_data("down", status=500)

    with pytest.raises(ProviderError, match="Gave up after 3 attempt"):
        provider.enrich(SNAPSHOT, context(httpserver, retries=2))

    assert len(httpserver.log) == 3


def test_malformed_json_is_a_provider_error(httpserver: HTTPServer, provider: HttpProvider) -> None:
    httpserver.expect_request("/v1/person").respond_with_data("{not json", content_type="application/json")

    with pytest.raises(ProviderError, match="malformed JSON"):
        provider.enrich(SNAPSHOT, context(httpserver))


def test_404_means_nothing_known_not_a_failure(httpserver: HTTPServer, provider: HttpProvider) -> None:
    httpserver.expect_request("/v1/person").respond_with_data("", status=404)

    result = provider.enrich(SNAPSHOT, context(httpserver))

    assert result.values == {}


def test_outage_opens_the_circuit_and_later_calls_are_refused_without_a_request(
    httpserver: HTTPServer, provider: HttpProvider
) -> None:
    httpserver.expect_request("/v1/person").respond_with_data("down", status=500)
    for _ in range(3):
        with pytest.raises(ProviderError):
            provider.enrich(SNAPSHOT, context(httpserver, retries=0, failure_threshold=3))
    requests_before = len(httpserver.log)

    with pytest.raises(ProviderError, match="Circuit open"):
        provider.enrich(SNAPSHOT, context(httpserver, retries=0, failure_threshold=3))

    assert len(httpserver.log) == requests_before


def test_circuit_lets_a_trial_call_through_after_the_reset_time(httpserver: HTTPServer, provider: HttpProvider) -> None:
    httpserver.expect_ordered_request("/v1/person").respond_with_data("down", status=500)
    httpserver.expect_ordered_request("/v1/person").respond_with_json(COMPANY)
    with pytest.raises(ProviderError):
        provider.enrich(SNAPSHOT, context(httpserver, retries=0, failure_threshold=1, reset_seconds=60))

    later = FIXED_NOW + timedelta(seconds=61)
    result = provider.enrich(SNAPSHOT, context(httpserver, now=later, retries=0, failure_threshold=1))

    assert result.values["industry"].value == "Software"


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"url": "ftp://x/{email}", "mapping": MAPPING}, "url"),
        ({"url": "https://api.example.com/person", "mapping": MAPPING}, "url"),
        ({"url": "https://api.example.com/{email}", "mapping": {}}, "mapping"),
        ({"url": "https://api.example.com/{email}", "mapping": {"owner": "x"}}, "mapping"),
        ({"url": "https://api.example.com/{email}", "mapping": MAPPING, "retries": 99}, "retries"),
        ({"url": "https://api.example.com/{email}", "mapping": MAPPING, "key": "phone"}, "key"),
        ({"url": "https://api.example.com/{email}", "mapping": MAPPING, "colour": "red"}, "colour"),
        ({"url": "https://api.example.com/{email}", "mapping": MAPPING, "confidence": "NaN"}, "confidence"),
        ({"url": "https://api.example.com/{email}", "mapping": MAPPING, "confidence": 1.5}, "confidence"),
        ({"url": "https://api.example.com/{email}", "mapping": MAPPING, "backoff_seconds": 1e999}, "backoff_seconds"),
        ({"url": "https://api.example.com/{email}", "mapping": MAPPING, "failure_threshold": 0}, "failure_threshold"),
        ({"url": "https://api.example.com/{email}", "mapping": MAPPING, "reset_seconds": -5}, "reset_seconds"),
    ],
)
def test_invalid_settings_are_named(settings: dict[str, object], field: str, provider: HttpProvider) -> None:
    assert field in provider.validate_settings(settings)


def test_valid_settings_have_no_errors(provider: HttpProvider) -> None:
    assert provider.validate_settings({"url": "https://api.example.com/v1?email={email}", "mapping": MAPPING}) == {}


# --- Addresses inside our own network (core.outbound) ------------------------------------------------

PRIVATE_SERVICE = {"url": "https://enrich.example.com/v1/person?email={email}", "mapping": MAPPING}


def private_context(**settings: object) -> ProviderContext:
    """A service whose public-looking name resolves to 10.0.0.5 (see ``_public_dns``)."""
    return ProviderContext(
        settings={**PRIVATE_SERVICE, **settings}, timeout_seconds=0.2, now=FIXED_NOW, provider_key="private"
    )


def test_a_service_whose_name_resolves_privately_is_refused_as_a_provider_error(provider: HttpProvider) -> None:
    with pytest.raises(ProviderError, match=r"^Refused: .*\(enrich.example.com → 10.0.0.5\)"):
        provider.enrich(SNAPSHOT, private_context(retries=0))


def test_a_refused_call_is_not_retried(provider: HttpProvider) -> None:
    with pytest.raises(ProviderError):
        provider.enrich(SNAPSHOT, private_context(retries=2))

    assert provider.sleeps == []  # type: ignore[attr-defined]


def test_settings_with_a_private_url_are_refused(provider: HttpProvider) -> None:
    errors = provider.validate_settings({**PRIVATE_SERVICE, "url": "http://169.254.169.254/latest/{email}"})

    assert errors == {
        "url": "This address points into a private network (169.254.169.254); "
        "set OUTBOUND_ALLOW_PRIVATE_NETWORKS=1 to allow it."
    }


def test_settings_with_a_name_that_does_not_resolve_are_refused(provider: HttpProvider) -> None:
    errors = provider.validate_settings({**PRIVATE_SERVICE, "url": "https://typo.example.com/{email}"})

    assert errors == {"url": "The host name typo.example.com does not resolve."}


# --- The caller's deadline (the pipeline's lease on the lead) -------------------------------------------------


class FakeClock:
    """The time as the provider reads it; each backoff sleep moves it on (no test waits)."""

    def __init__(self, provider: HttpProvider) -> None:
        self.now = FIXED_NOW
        provider.sleep = self.sleep  # type: ignore[method-assign]

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def __call__(self) -> datetime:
        return self.now


def test_retries_stop_when_the_next_attempt_would_end_after_the_deadline(
    httpserver: HTTPServer, provider: HttpProvider
) -> None:
    httpserver.expect_request("/v1/person").respond_with_data("busy", status=503)
    clock = FakeClock(provider)
    # An attempt with a 2 s timeout may take 6 s (connect, answer, body); the backoffs are 1, 2, 4, 8 s. The
    # fourth attempt starts 7 s in with its timeout cut to 1 s (3 s at most); a fifth would start 15 s in.
    bounded = replace(context(httpserver, retries=5, backoff_seconds=1.0), deadline=FIXED_NOW + timedelta(seconds=10),
                      clock=clock)  # fmt: skip

    with pytest.raises(ProviderError, match="after 4 attempt"):
        provider.enrich(SNAPSHOT, bounded)

    assert (len(httpserver.log), clock.now) == (4, FIXED_NOW + timedelta(seconds=7))


def test_a_provider_with_no_time_left_is_not_called_and_its_circuit_does_not_count_it(
    httpserver: HTTPServer, provider: HttpProvider
) -> None:
    httpserver.expect_request("/v1/person").respond_with_json(COMPANY)
    late = replace(context(httpserver, failure_threshold=1), deadline=FIXED_NOW + timedelta(seconds=1),
                   clock=FakeClock(provider))  # fmt: skip

    with pytest.raises(ProviderError, match="Not called"):
        provider.enrich(SNAPSHOT, late)

    assert httpserver.log == []
    assert provider.enrich(SNAPSHOT, context(httpserver, failure_threshold=1)).values  # the circuit is closed


def test_a_service_trickling_its_answer_times_out_as_one_that_does_not_answer(
    httpserver: HTTPServer, provider: HttpProvider
) -> None:
    def trickle(request: Request) -> Response:
        def chunks() -> Iterator[bytes]:
            for part in ('{"company": ', '{"name": ', '"Acme"', "}", "}"):
                time.sleep(0.15)  # each read well inside the timeout, the whole answer not
                yield part.encode()

        return Response(chunks(), content_type="application/json")

    # Last in the file: the server goes on trickling after the client gave up, and it answers one request at a
    # time, so a test whose request it took then would wait (after the slow service above, it took another's).
    httpserver.expect_request("/v1/person").respond_with_handler(trickle)

    with pytest.raises(ProviderError, match="timed out"):
        provider.enrich(SNAPSHOT, context(httpserver, timeout=0.3, retries=0))
