from __future__ import annotations

from typing import Any

import factory

from integrations import keys
from integrations.models import ApiKey, ApiKeyScope, DeliveryStatus, WebhookDelivery, WebhookEndpoint
from leads import events
from leads.tests.factories import FIXED_NOW
from tests.factories import ModelFactory

TEST_SECRET = "whsec_test-secret-for-signatures"


class ApiKeyFactory(ModelFactory[ApiKey]):
    """An integration key with the full scope; ``.plaintext`` holds the key, as its creator saw it once."""

    class Meta:
        model = ApiKey

    name = factory.Sequence(lambda n: f"Integration {n}")
    scope = ApiKeyScope.FULL
    user = None
    created_at = FIXED_NOW

    @classmethod
    def _create(cls, model_class: type[ApiKey], *args: Any, **kwargs: Any) -> ApiKey:
        new = keys.generate_key()
        kwargs.setdefault("prefix", new.prefix)
        kwargs.setdefault("hashed_key", new.hashed)
        api_key = super()._create(model_class, *args, **kwargs)
        api_key.plaintext = new.plaintext
        return api_key


class WebhookEndpointFactory(ModelFactory[WebhookEndpoint]):
    class Meta:
        model = WebhookEndpoint

    name = factory.Sequence(lambda n: f"CRM {n}")
    url = "http://127.0.0.1:9/hook"  # the discard port: tests that send use pytest-httpserver's URL
    events = factory.LazyFunction(lambda: list(events.EVENTS))
    secret = TEST_SECRET
    created_at = FIXED_NOW


class WebhookDeliveryFactory(ModelFactory[WebhookDelivery]):
    class Meta:
        model = WebhookDelivery

    endpoint = factory.SubFactory(WebhookEndpointFactory)
    event = events.LEAD_MQL
    event_id = factory.Sequence(lambda n: f"evt-{n}")
    payload = factory.LazyAttribute(lambda d: {"id": d.event_id, "event": d.event, "lead": {"id": 1}, "data": {}})
    status = DeliveryStatus.PENDING
    next_attempt_at = FIXED_NOW
    created_at = FIXED_NOW


def plaintext_of(api_key: ApiKey) -> str:
    """The key as its creator saw it once, which ApiKeyFactory keeps on the instance."""
    return api_key.plaintext  # type: ignore[attr-defined]  # set by ApiKeyFactory._create; no model field


def api_headers(api_key: ApiKey) -> dict[str, str]:
    return {"Authorization": f"Api-Key {plaintext_of(api_key)}"}
