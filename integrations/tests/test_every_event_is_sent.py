"""Every event a webhook may subscribe to is really sent by the change it names.

The triggers are data: an event added to ``leads.events.EVENTS`` without a row here (and so, most likely,
without a sender) fails ``test_every_offered_event_has_a_trigger_here``.
"""

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from pytest_django import DjangoCaptureOnCommitCallbacks

from handoff import services as handoff_services
from handoff.models import Assignment
from handoff.tests.factories import TeamFactory
from integrations.models import WebhookDelivery
from integrations.tests.factories import WebhookEndpointFactory
from leads import events
from leads import services as lead_services
from leads.enrichment import services as enrichment
from leads.models import ActivityKind, Lead, Stage
from leads.tests.factories import FIXED_NOW, ConsentFactory, LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_sending(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr("integrations.services.webhooks.async_task", lambda *args: None)
    yield


def _created(lead: Lead, rep: User) -> None:
    details = lead_services.LeadDetails(email="new.person@acme.example", first_name="New")
    lead_services.capture_lead(details=details, consent=None, activity_kind=ActivityKind.FORM_SUBMITTED, now=FIXED_NOW)


def _enriched(lead: Lead, rep: User) -> None:
    enrichment.enrich_lead(lead_id=lead.pk, now=FIXED_NOW)


def _mql(lead: Lead, rep: User) -> None:
    lead_services.change_stage(lead=lead, to_stage=Stage.MQL, now=FIXED_NOW)


def _assign(lead: Lead, rep: User) -> Assignment:
    lead_services.change_stage(lead=lead, to_stage=Stage.MQL, now=FIXED_NOW)
    team = TeamFactory(slug="enterprise", members=[rep])
    return handoff_services.assign_lead(lead=lead, team=team, now=FIXED_NOW, notify=False)


def _sla_breached(lead: Lead, rep: User) -> None:
    assignment = _assign(lead, rep)
    handoff_services.flag_sla_events(now=assignment.sla_due_at + timedelta(minutes=1))


def _sql(lead: Lead, rep: User) -> None:
    lead_services.change_stage(lead=lead, to_stage=Stage.MQL, now=FIXED_NOW)
    lead_services.change_stage(lead=lead, to_stage=Stage.SQL, now=FIXED_NOW, by=rep, reason="Budget confirmed")


def _rejected(lead: Lead, rep: User) -> None:
    lead_services.change_stage(lead=lead, to_stage=Stage.MQL, now=FIXED_NOW)
    lead_services.change_stage(lead=lead, to_stage=Stage.REJECTED, now=FIXED_NOW, by=rep, reason="No budget")


def _consent_withdrawn(lead: Lead, rep: User) -> None:
    ConsentFactory(lead=lead)
    lead_services.withdraw_consents(lead=lead, now=FIXED_NOW, source="api")


TRIGGERS: dict[str, Callable[[Lead, User], object]] = {
    events.LEAD_CREATED: _created,
    events.LEAD_ENRICHED: _enriched,
    events.LEAD_MQL: _mql,
    events.LEAD_ASSIGNED: _assign,
    events.LEAD_SLA_BREACHED: _sla_breached,
    events.LEAD_SQL: _sql,
    events.LEAD_REJECTED: _rejected,
    events.LEAD_CONSENT_WITHDRAWN: _consent_withdrawn,
}


def test_every_offered_event_has_a_trigger_here() -> None:
    assert sorted(TRIGGERS) == sorted(events.EVENTS)


@pytest.mark.parametrize("event", sorted(TRIGGERS))
def test_the_change_an_event_names_sends_it(
    event: str, rep: User, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    WebhookEndpointFactory(events=[event])
    lead = LeadFactory(email="ada@acme.example")

    with django_capture_on_commit_callbacks(execute=True):
        TRIGGERS[event](lead, rep)

    assert WebhookDelivery.objects.filter(event=event).count() >= 1
