"""The signature on bounce and complaint reports: the webhooks' scheme, from the mail service to us (pure code).

``X-Leadsite-Signature: t=<unix time>,v1=<hex>`` where ``v1`` is HMAC-SHA256 of ``"<t>." + raw body`` with
``NURTURE_BOUNCE_SECRET``; a signature older or newer than five minutes is refused (no replays).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

TOLERANCE_SECONDS = 300


def sign(secret: str, body: bytes, *, at: datetime) -> str:
    timestamp = int(at.timestamp())
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def is_valid(secret: str, body: bytes, header: str, *, now: datetime) -> bool:
    if not secret or not header:
        return False
    try:
        fields = dict(part.strip().split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    fresh = abs(now.timestamp() - timestamp) <= TOLERANCE_SECONDS
    return fresh and hmac.compare_digest(expected, fields.get("v1", ""))
