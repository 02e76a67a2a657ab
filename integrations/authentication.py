"""``Authorization: Api-Key <key>`` for the API: a person's token acts as that person, an integration key as itself."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from integrations import services
from integrations.models import ApiKey

KEYWORD = "Api-Key"


class ApiClient:
    """Who is asking when an integration key is used: not a person, so it has no Django permissions.

    ``request.auth`` is its ``ApiKey`` (``request.auth.is_integration`` is true); what it may do is
    its key's scope. Views that scope querysets by ``request.user`` must handle it explicitly (an
    integration key with the read scope sees every lead), never pass it to an ORM filter.
    """

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    is_integration = True
    pk = None
    id = None

    def __init__(self, api_key: ApiKey) -> None:
        self.api_key = api_key
        self.username = f"api-key:{api_key.prefix}"

    def __str__(self) -> str:
        return f"API key “{self.api_key.name}”"

    def get_username(self) -> str:
        return self.username

    def has_perm(self, perm: str, obj: object = None) -> bool:
        return False

    def has_perms(self, perm_list: object, obj: object = None) -> bool:
        return False


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """Finds the key by its public prefix and checks its SHA-256 hash in constant time.

    An unknown, revoked or expired key is a 401; a request without this header is left to the
    next authentication class (the browser's session).
    """

    def authenticate(self, request: Request) -> tuple[object, ApiKey] | None:
        header = request.headers.get("Authorization", "")
        keyword, _, plaintext = header.partition(" ")
        if keyword.lower() != KEYWORD.lower():
            return None
        plaintext = plaintext.strip()
        if not plaintext or " " in plaintext:
            raise exceptions.AuthenticationFailed(f"Send the key as “Authorization: {KEYWORD} <key>”.")
        try:
            api_key = services.authenticate_key(plaintext=plaintext, now=timezone.now())
        except services.InvalidKey as error:
            raise exceptions.AuthenticationFailed(str(error)) from error
        return (api_key.user if api_key.user_id is not None else ApiClient(api_key)), api_key

    def authenticate_header(self, request: Request) -> str:
        # Makes an unauthenticated request a 401 (with this challenge) rather than a 403.
        return KEYWORD
