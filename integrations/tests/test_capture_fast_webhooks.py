"""The active webhook endpoints are read once per process, and read again when one is saved or deleted here."""

import pytest
from pytest_django import DjangoAssertNumQueries

from integrations import services
from integrations.models import WebhookDelivery
from integrations.tests.factories import WebhookEndpointFactory
from leads import events
from leads.models import Lead
from leads.tests.factories import FIXED_NOW, LeadFactory

pytestmark = pytest.mark.django_db


def record(lead: Lead, *, event_id: str) -> list[WebhookDelivery]:
    return services.record_event(
        event=events.LEAD_CREATED, event_id=event_id, lead_id=lead.pk, data={}, occurred_at=FIXED_NOW, now=FIXED_NOW
    )


def test_an_event_with_no_endpoint_runs_no_query_once_the_endpoints_were_read(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    lead = LeadFactory()
    record(lead, event_id="evt-1")

    with django_assert_num_queries(0):
        assert record(lead, event_id="evt-2") == []


def test_an_endpoint_created_after_the_endpoints_were_read_gets_the_next_event() -> None:
    lead = LeadFactory()
    record(lead, event_id="evt-1")
    endpoint = WebhookEndpointFactory()

    (delivery,) = record(lead, event_id="evt-2")

    assert delivery.endpoint_id == endpoint.pk


def test_an_endpoint_switched_off_after_the_endpoints_were_read_gets_no_more_events() -> None:
    lead = LeadFactory()
    endpoint = WebhookEndpointFactory()
    record(lead, event_id="evt-1")
    endpoint.is_active = False
    endpoint.save()

    assert record(lead, event_id="evt-2") == []


def test_an_endpoint_deleted_after_the_endpoints_were_read_gets_no_more_events() -> None:
    lead = LeadFactory()
    endpoint = WebhookEndpointFactory()
    record(lead, event_id="evt-1")
    endpoint.delete()

    assert record(lead, event_id="evt-2") == []
