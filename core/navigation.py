"""The navigation bar: each app names the pages it offers and the permission each one needs.

An app declares ``nav_links`` on its AppConfig, as it declares ``role_permissions`` (``core.roles``); the bar
shows the links the user may follow in INSTALLED_APPS order, then Django admin for staff. So the platform
names no app's pages, and an app's link is checked by the permission that app declares.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.apps import apps
from django.conf import settings
from django.http import HttpRequest
from django.urls import get_script_prefix, get_urlconf, reverse

# The signed-in frame's own links (base.html), besides the apps' pages. (The brand's link to the start page
# stays a {% url %} in the template: the server-error page renders base.html without a request.)
FRAME_URL_NAMES = {"api_tokens": "api:tokens", "logout": "logout", "admin": "admin:index"}


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


@cache
def _url(url_name: str, script_prefix: str, urlconf: str) -> str:
    # Reversed once a process: a name without arguments always gives the same path under a prefix and URLconf.
    return reverse(url_name, urlconf=urlconf)


def navigation(request: HttpRequest) -> dict[str, object]:
    """The navigation links this user's role may follow and the frame's links, for base.html (a context processor)."""
    prefix, urlconf = get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF
    frame_urls = {key: _url(name, prefix, urlconf) for key, name in FRAME_URL_NAMES.items()}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_links": [], "frame_urls": frame_urls}
    links = [
        {"label": link.label, "url": _url(link.url_name, prefix, urlconf), "key": link.key}
        for link in declared_nav_links()
        if user.has_perm(link.permission)
    ]
    if user.is_staff:
        links.append({"label": "Admin", "url": frame_urls["admin"], "key": "admin"})
    return {"nav_links": links, "frame_urls": frame_urls}
