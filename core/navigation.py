"""The navigation bar: each app names the pages it offers and the permission each one needs.

An app declares ``nav_links`` on its AppConfig, as it declares ``role_permissions`` (``core.roles``); the bar
shows the links the user may follow in INSTALLED_APPS order, then Django admin for staff. So the platform
names no app's pages, and an app's link is checked by the permission that app declares.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.apps import apps
from django.http import HttpRequest
from django.urls import reverse


@dataclass(frozen=True)
class NavLink:
    key: str  # the template's ``data-nav`` value, for tests and the active tab
    label: str
    url_name: str
    permission: str


@cache
def declared_nav_links() -> tuple[NavLink, ...]:
    """Every installed app's ``nav_links``, in INSTALLED_APPS order (the app registry is fixed once set up)."""
    return tuple(link for config in apps.get_app_configs() for link in getattr(config, "nav_links", ()))


def navigation(request: HttpRequest) -> dict[str, list[dict[str, str]]]:
    """The navigation links this user's role may follow, for the base template (a context processor)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_links": []}
    links = [
        {"label": link.label, "url": reverse(link.url_name), "key": link.key}
        for link in declared_nav_links()
        if user.has_perm(link.permission)
    ]
    if user.is_staff:
        links.append({"label": "Admin", "url": reverse("admin:index"), "key": "admin"})
    return {"nav_links": links}
