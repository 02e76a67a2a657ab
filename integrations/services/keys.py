"""API keys: issue one (the only time its plaintext exists), find the key a request presents, revoke."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from core.statements import Statement
from integrations import keys
from integrations.models import ApiKey, ApiKeyScope

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# last_used_at is written at most this often per key, so a busy integration does not write on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    plaintext: str  # show it once; it is not stored


class InvalidKey(Exception):
    """The presented key is unknown, revoked or expired; the message says which, for its holder."""


def create_api_key(
    *,
    name: str,
    now: datetime,
    scope: str = ApiKeyScope.FULL,
    user: User | None = None,
    created_by: User | None = None,
    expires_at: datetime | None = None,
) -> IssuedKey:
    """Issue a key: a personal token when ``user`` is given, else an integration key limited by ``scope``."""
    new = keys.generate_key()
    api_key = ApiKey(
        name=name, user=user, scope=scope, prefix=new.prefix, hashed_key=new.hashed, created_at=now,
        created_by=created_by, expires_at=expires_at,
    )  # fmt: skip
    api_key.full_clean()
    api_key.save()
    return IssuedKey(api_key=api_key, plaintext=new.plaintext)


# Every API request's lookup, compiled once per connection (``core.statements``): compiling it cost more than
# running it. It still reads the row on every request, so a key revoked or expired in admin stops working at once.
# The prefix is unique: no ORDER BY. The person behind a personal token is read only for such a token; an
# integration key (every capture through the API) has none, and no join to look for one.
_KEY_BY_PREFIX = Statement(lambda prefix: ApiKey.objects.filter(prefix=prefix).order_by()[:1], prefix=str)


def authenticate_key(*, plaintext: str, now: datetime) -> ApiKey:
    """The usable key ``plaintext`` names, its use recorded; raises ``InvalidKey`` otherwise."""
    prefix = keys.prefix_of(plaintext)
    api_key: ApiKey | None = _KEY_BY_PREFIX.first(prefix=prefix) if prefix is not None else None
    if api_key is None or not keys.matches(plaintext, api_key.hashed_key):
        raise InvalidKey("Invalid API key.")
    # Only the holder of the whole key gets this far, so telling them why it stopped working leaks nothing.
    if api_key.revoked_at is not None:
        raise InvalidKey("This API key has been revoked.")
    if not api_key.is_usable_at(now):
        raise InvalidKey("This API key has expired.")
    # Read only for a personal token: an integration key has no person to load.
    user = api_key.user if api_key.user_id is not None else None
    if user is not None and not user.is_active:
        raise InvalidKey("The person this token belongs to is deactivated.")
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


def revoke_api_keys(*, api_keys: QuerySet[ApiKey], now: datetime) -> int:
    """Revoke the keys not revoked yet; returns how many. A revoked key stays listed, for the record."""
    return api_keys.filter(revoked_at__isnull=True).update(revoked_at=now)
