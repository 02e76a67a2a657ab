"""API key format and hashing: pure code, no ORM and no clock.

A key reads ``<prefix>.<secret>``: the prefix (8 letters and digits) is public and finds the row, the
secret (256 random bits) proves possession. Only SHA-256 of the whole key is stored. A fast hash is
enough because the secret is random and long: there is nothing to guess, so the slow password
hashers' protection against guessing buys nothing and would cost every request tens of milliseconds.
The hash is not keyed with SECRET_KEY, so rotating SECRET_KEY does not invalidate every key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass

PREFIX_LENGTH = 8
_PREFIX_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class NewKey:
    prefix: str
    plaintext: str
    hashed: str


def generate_key() -> NewKey:
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
    plaintext = f"{prefix}.{secrets.token_urlsafe(32)}"
    return NewKey(prefix=prefix, plaintext=plaintext, hashed=hash_key(plaintext))


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def prefix_of(plaintext: str) -> str | None:
    """The public prefix of a presented key, or None when it is not shaped like one of ours."""
    prefix, dot, secret = plaintext.partition(".")
    if not dot or len(prefix) != PREFIX_LENGTH or not secret:
        return None
    return prefix


def matches(plaintext: str, hashed: str) -> bool:
    return hmac.compare_digest(hash_key(plaintext), hashed)
