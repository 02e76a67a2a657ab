"""Webhook signatures: pure code, no ORM and no clock.

Each delivery carries ``X-Leadsite-Signature: t=<unix time>,v1=<hex>``, where ``<hex>`` is
HMAC-SHA256 over ``"<unix time>." + body`` with the endpoint's secret. The receiver recomputes it
over the raw body, compares in constant time, and refuses a timestamp older than a few minutes
(a replayed request).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "X-Leadsite-Signature"
EVENT_HEADER = "X-Leadsite-Event"
DELIVERY_HEADER = "X-Leadsite-Delivery"


def generate_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def signature(*, secret: str, body: bytes, timestamp: int) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>." + body`` under ``secret``."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(*, secret: str, body: bytes, timestamp: int) -> str:
    return f"t={timestamp},v1={signature(secret=secret, body=body, timestamp=timestamp)}"
