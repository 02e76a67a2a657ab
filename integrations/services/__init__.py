"""Writes of the integrations app, split by subdomain; import them from here (``services.create_api_key``)."""

from integrations.services.idempotency import claim_key, keep_response, prune_idempotency_records, release_key
from integrations.services.keys import InvalidKey, IssuedKey, authenticate_key, create_api_key, revoke_api_keys
from integrations.services.personal_data import erase_lead_personal_data, lead_personal_data
from integrations.services.webhooks import (
    create_webhook_endpoint,
    deliver_webhook,
    record_event,
    requeue_due_deliveries,
    resend_deliveries,
    retry_delay,
    rotate_webhook_secret,
)

__all__ = [
    "InvalidKey",
    "IssuedKey",
    "authenticate_key",
    "claim_key",
    "create_api_key",
    "create_webhook_endpoint",
    "deliver_webhook",
    "erase_lead_personal_data",
    "keep_response",
    "lead_personal_data",
    "prune_idempotency_records",
    "record_event",
    "release_key",
    "requeue_due_deliveries",
    "resend_deliveries",
    "retry_delay",
    "revoke_api_keys",
    "rotate_webhook_secret",
]
