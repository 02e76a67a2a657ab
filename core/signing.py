"""The request signature Leadsite uses both ways: on the webhooks it sends (integrations) and on the bounce
reports a mail service sends it (nurture). Pure code, no clock.

``X-Leadsite-Signature: t=<unix time>,v1=<hex>``, where ``<hex>`` is HMAC-SHA256 of ``"<unix time>." + body``
under the shared secret.
"""

from __future__ import annotations

import hashlib
import hmac


def signature(*, secret: str, body: bytes, timestamp: int) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>." + body`` under ``secret``."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(*, secret: str, body: bytes, timestamp: int) -> str:
    return f"t={timestamp},v1={signature(secret=secret, body=body, timestamp=timestamp)}"
