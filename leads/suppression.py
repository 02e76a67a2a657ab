"""The suppression list: email addresses and phone numbers no import may bring back (people who objected, every
erased lead).

Only a SHA-256 hash of the normalised address or number is kept, so the list names nobody; an import hashes each
row's key and skips the ones on the list (``leads.imports``). A held submission's release, and a submission another
system syncs late (``POST /api/submissions/``), are refused when the person went on the list after sending it
(``leads.submissions``). The key is the one capture finds a person by: the email when there is one, else the
phone. A phone beside an email is not checked: the email names the person, and a company's switchboard number is
often shared by colleagues. Erasure lists both the lead's address and its number: a row or submission that gives
that number and no address is one capture would have merged into the erased lead, so it is held back too.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.db.models import Q

from leads.models import SuppressedAddress
from leads.normalise import normalise_email, normalise_phone


def email_hash(email: str) -> str:
    """The list's key for an address: SHA-256 of its normalised form."""
    return hashlib.sha256((normalise_email(email) or "").encode()).hexdigest()


def phone_hash(phone: str, *, country: str = "") -> str:
    """The list's key for a number: SHA-256 of its normalised form (E.164 when it parses, as leads store it)."""
    return hashlib.sha256(normalise_phone(phone, country=country).encode()).hexdigest()


def suppress_address(*, email: str | None, reason: str, now: datetime, phone: str = "") -> None:
    """Put the address and the number on the list; an empty one, or one on it already, changes nothing."""
    defaults = {"reason": reason[:200], "created_at": now}
    if normalise_email(email):
        SuppressedAddress.objects.get_or_create(email_hash=email_hash(email or ""), defaults=defaults)
    if normalise_phone(phone):
        SuppressedAddress.objects.get_or_create(phone_hash=phone_hash(phone), defaults=defaults)


def suppressed(*, email: str | None, phone: str, country: str = "") -> Q:
    """The list's rows that hold this person back: their address's, or their number's when they gave no address."""
    if normalise_email(email):
        return Q(email_hash=email_hash(email or ""))
    if normalise_phone(phone, country=country):
        return Q(phone_hash=phone_hash(phone, country=country))
    return Q(pk__in=[])


def suppressed_since(*, email: str | None, phone: str, country: str = "", sent_at: datetime) -> bool:
    """Whether this person went on the list at or after ``sent_at``: what they sent before is not theirs to bring
    back (one sent after is their own new request)."""
    return SuppressedAddress.objects.filter(
        suppressed(email=email, phone=phone, country=country), created_at__gte=sent_at
    ).exists()
