"""The suppression list: email addresses no import may bring back (people who objected, every erased lead).

Only a SHA-256 hash of the normalised address is kept, so the list names nobody; an import hashes each row's
address and skips the ones on the list (``leads.imports``).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from leads.models import SuppressedAddress
from leads.normalise import normalise_email


def email_hash(email: str) -> str:
    """The list's key for an address: SHA-256 of its normalised form."""
    return hashlib.sha256((normalise_email(email) or "").encode()).hexdigest()


def suppress_address(*, email: str | None, reason: str, now: datetime) -> None:
    """Put the address on the list; an empty address or one on it already changes nothing."""
    if normalise_email(email):
        SuppressedAddress.objects.get_or_create(
            email_hash=email_hash(email or ""), defaults={"reason": reason[:200], "created_at": now}
        )
