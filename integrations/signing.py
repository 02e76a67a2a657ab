"""Webhook headers and secrets; the signature itself is ``core.signing`` (shared with nurture's bounce reports).

Each delivery carries ``X-Leadsite-Signature: t=<unix time>,v1=<hex>``, where ``<hex>`` is
HMAC-SHA256 over ``"<unix time>." + body`` with the endpoint's secret. The receiver recomputes it
over the raw body, compares in constant time, and refuses a timestamp older than a few minutes
(a replayed request).
"""

from __future__ import annotations

import secrets

SIGNATURE_HEADER = "X-Leadsite-Signature"
EVENT_HEADER = "X-Leadsite-Event"
DELIVERY_HEADER = "X-Leadsite-Delivery"


def generate_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"
