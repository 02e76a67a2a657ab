"""The three kinds of users and what each may do.

Each app declares the permissions its roles need as ``role_permissions`` on its AppConfig; after every
``migrate`` (and every test-database flush) ``sync_role_groups`` makes the groups hold exactly those.
"""

from __future__ import annotations

from django.apps import apps as global_apps
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

MARKETING = "Marketing"
SALES_REP = "Sales rep"
SALES_MANAGER = "Sales manager"
ROLE_GROUPS = (MARKETING, SALES_REP, SALES_MANAGER)

# Marketers and managers work in Django admin; reps only in the inbox.
STAFF_GROUPS = frozenset({MARKETING, SALES_MANAGER})


def landing_url_name(user: AbstractBaseUser | AnonymousUser) -> str:
    """The URL name of the page where this user works."""
    if not user.is_authenticated:
        return "login"
    if user.has_perm("leads.manage_team"):
        return "reports:index"
    if user.has_perm("leads.work_inbox"):
        return "handoff:inbox"
    if user.is_staff:
        return "admin:index"
    return "no_role"


def declared_role_permissions() -> dict[str, set[tuple[str, str]]]:
    """Every installed app's ``role_permissions``, merged: group name -> {(app_label, codename)}."""
    merged: dict[str, set[tuple[str, str]]] = {name: set() for name in ROLE_GROUPS}
    for config in global_apps.get_app_configs():
        for group_name, codenames in getattr(config, "role_permissions", {}).items():
            merged[group_name].update(tuple(dotted.split(".", 1)) for dotted in codenames)  # type: ignore[misc]
    return merged


def sync_role_groups(**kwargs: object) -> None:
    """Create the role groups and give each exactly the permissions the apps declare (a post_migrate receiver)."""
    from django.contrib.auth.models import Group, Permission

    for group_name, wanted in declared_role_permissions().items():
        group, _ = Group.objects.get_or_create(name=group_name)
        permissions = [
            permission
            for permission in Permission.objects.select_related("content_type").filter(
                codename__in={codename for _, codename in wanted}
            )
            if (permission.content_type.app_label, permission.codename) in wanted
        ]
        group.permissions.set(permissions)
