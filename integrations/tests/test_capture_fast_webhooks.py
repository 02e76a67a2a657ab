"""The active webhook endpoints are read for each event in one compiled query: a change anywhere counts at once."""

import pytest
from pytest_django import DjangoAssertNumQueries

from integrations import services
from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.tests.factories import WebhookEndpointFactory
from leads import events
from leads.models import Lead
from leads.tests.factories import FIXED_NOW, LeadFactory

pytestmark = pytest.mark.django_db


def record(lead: Lead, *, event_id: str) -> list[WebhookDelivery]:
    return services.record_event(
        event=events.LEAD_CREATED, event_id=event_id, lead_id=lead.pk, data={}, occurred_at=FIXED_NOW, now=FIXED_NOW
    )


def test_an_event_with_no_endpoint_reads_the_endpoints_and_nothing_else(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    lead = LeadFactory()
    record(lead, event_id="evt-1")

    with django_assert_num_queries(1):
        assert record(lead, event_id="evt-2") == []


def test_an_endpoint_deleted_behind_this_process_s_back_gets_no_delivery_and_breaks_nothing() -> None:
    lead = LeadFactory()
    kept, gone = WebhookEndpointFactory(), WebhookEndpointFactory()
    record(lead, event_id="evt-1")
    WebhookEndpoint.objects.filter(pk=gone.pk).delete()  # as another process would: no signal reaches this one

    (delivery,) = record(lead, event_id="evt-2")

    assert delivery.endpoint_id == kept.pk


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
