"""The signature on bounce and complaint reports: the webhooks' scheme (``core.signing``), from the mail service
to us (pure code).

``X-Leadsite-Signature: t=<unix time>,v1=<hex>`` where ``v1`` is HMAC-SHA256 of ``"<t>." + raw body`` with
``NURTURE_BOUNCE_SECRET``; a signature older or newer than five minutes is refused (no replays).
"""

from __future__ import annotations

import hmac
from datetime import datetime

from core.signing import signature, signature_header

TOLERANCE_SECONDS = 300


def sign(secret: str, body: bytes, *, at: datetime) -> str:
    return signature_header(secret=secret, body=body, timestamp=int(at.timestamp()))


def is_valid(secret: str, body: bytes, header: str, *, now: datetime) -> bool:
    if not secret or not header:
        return False
    try:
        fields = dict(part.strip().split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    expected = signature(secret=secret, body=body, timestamp=timestamp)
    fresh = abs(now.timestamp() - timestamp) <= TOLERANCE_SECONDS
    # As bytes: compare_digest refuses a str with characters beyond ASCII, which anyone can send.
    given = fields.get("v1", "").encode("utf-8", "surrogateescape")
    return fresh and hmac.compare_digest(expected.encode(), given)
