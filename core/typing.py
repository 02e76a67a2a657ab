"""Request types for code the framework only reaches with a signed-in user.

django-stubs types ``request.user`` as ``User | AnonymousUser`` (and DRF's ``Request.user`` the same), which is
right for a view anyone may open. Behind ``login_required``, admin's ``admin_view`` or the API's permission
classes the user is a signed-in person, and the services those views call take a ``User``. The types here say
so once, instead of a narrowing at every call:

- a function view behind ``login_required`` annotates its request ``AuthenticatedHttpRequest`` (the way the
  django-stubs README recommends);
- an API view whose permission classes admit only a person (not an integration key, see
  ``integrations.authentication.ApiClient``) annotates its request ``AuthenticatedRequest``;
- a ``ModelAdmin`` method cannot narrow its inherited ``request: HttpRequest`` parameter, so it reads the user
  through ``signed_in_user``, which asserts what ``admin_view`` has already checked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest
from rest_framework.request import Request

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """A request that reached a view behind ``login_required``: its user is signed in."""

    user: User


class AuthenticatedRequest(Request):
    """An API request that the view's permission classes admit only for a signed-in person."""

    user: User


def signed_in_user(request: HttpRequest) -> User:
    """``request.user`` where the framework has already let only a signed-in user in (Django admin)."""
    user = request.user
    assert user.is_authenticated, "only reached behind admin_view or login_required"
    return user
