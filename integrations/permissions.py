"""The API's default permission: the view's ``required_scope`` for keys, its ``required_permissions`` for people.

A view declares, without importing anything from here::

    class RecordActivitiesView(APIView):
        required_scope = "capture"                       # "capture", "read" or "full"
        required_permissions = ("leads.add_activity",)   # Django permissions a person needs

Without ``required_scope`` a GET, HEAD or OPTIONS needs "read" and anything else "full".

- An integration key (no user) may do what its scope allows: "capture" only capture views, "read"
  only read views, "full" everything.
- A person's token is limited by its scope too, and acts with that person's permissions: the view's
  ``required_permissions`` here, and the view's own queryset scoping for which objects they see.
- A signed-in browser session (the docs page) acts with the person's permissions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from integrations.models import ApiKey, ApiKeyScope

if TYPE_CHECKING:  # rest_framework.views imports this module while it is being defined
    from rest_framework.views import APIView


def required_scope(request: Request, view: APIView) -> str:
    declared = getattr(view, "required_scope", None)
    if declared is not None:
        return str(declared)
    return ApiKeyScope.READ if request.method in SAFE_METHODS else ApiKeyScope.FULL


class HasRequiredScope(BasePermission):
    message = "You may not do this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        api_key = request.auth if isinstance(request.auth, ApiKey) else None
        scope = required_scope(request, view)
        if api_key is not None and not api_key.allows(scope):
            self.message = f"This API key's scope ({api_key.scope}) does not allow this request; it needs “{scope}”."
            return False
        if api_key is not None and api_key.is_integration:
            return True
        permissions = tuple(getattr(view, "required_permissions", ()))
        if not user.has_perms(permissions):
            self.message = "Your account does not have the permissions this request needs."
            return False
        return True
