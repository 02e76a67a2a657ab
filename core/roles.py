"""The three kinds of users and what each may do.

Each app declares the permissions its roles need as ``role_permissions`` on its AppConfig; after every
``migrate`` (and every test-database flush) ``sync_role_groups`` makes the groups hold exactly those.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from django.apps import apps as global_apps
from django.db.models import Exists, OuterRef, Q, QuerySet

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

MARKETING = "Marketing"
SALES_REP = "Sales rep"
SALES_MANAGER = "Sales manager"
ROLE_GROUPS = (MARKETING, SALES_REP, SALES_MANAGER)

# Marketers and managers work in Django admin; reps only in the inbox.
STAFF_GROUPS = frozenset({MARKETING, SALES_MANAGER})


def landing_url_name(user: User | AnonymousUser) -> str:
    """The URL name of the page where this user works."""
    if not user.is_authenticated:
        return "login"
    if user.has_perm("handoff.manage_team"):
        return "reports:index"
    if user.has_perm("handoff.work_inbox"):
        return "handoff:inbox"
    if user.is_staff:
        return "admin:index"
    return "no_role"


# --- Who sees which leads ------------------------------------------------------------------------
# People who work an inbox (reps and managers) see leads through their assignments and the teams they run;
# handoff owns that rule and registers it here (``register_lead_scope``), so leads' own admin can apply it
# without importing handoff. Everyone else with ``leads.view_lead`` (marketing) sees every lead: forms,
# scoring and routing work on all of them. Superusers see everything.

LeadScope = Callable[["User"], Q]
_M = TypeVar("_M", bound=Any)
_lead_scope: list[LeadScope] = []


def is_team_scoped(user: User | AnonymousUser) -> bool:
    """Whether ``user`` sees only their own and their teams' leads (every inbox worker but a superuser)."""
    return not user.is_superuser and user.has_perm("handoff.work_inbox")


def register_lead_scope(scope: LeadScope) -> LeadScope:
    """Make ``scope(user)`` (a filter on Lead) the rule for team-scoped people; the handoff app calls this."""
    _lead_scope[:] = [scope]
    return scope


def scoped_leads(user: User | AnonymousUser, leads: QuerySet[_M]) -> QuerySet[_M]:
    """``leads`` narrowed to the ones ``user`` may see: all of them unless ``user`` is team-scoped.

    Which actions ``user`` may take on them is still their permissions' business (admin and API check those).
    """
    if not user.is_authenticated:
        return leads.none()
    if not is_team_scoped(user):
        return leads
    if not _lead_scope:  # fail closed: no rule registered means no leads, never every lead
        return leads.none()
    return leads.filter(_lead_scope[0](user))


def scoped_by_lead(
    user: User | AnonymousUser, rows: QuerySet[_M], *, leads: QuerySet[Any], lead: str = "lead"
) -> QuerySet[_M]:
    """``rows`` narrowed to those whose lead (at the path ``lead``) is among ``leads`` as ``scoped_leads`` lets
    ``user`` see them: for a team-scoped user, their teams' leads. Anyone else gets ``rows`` as they are, with no
    lead subquery (at a million leads, asking "among every lead" cost a list page half a second).

    Asked of each row (``EXISTS``), so a list walking its rows in order stops at the page's end: as ``lead IN
    (their leads)``, SQLite first built the whole set of a manager's leads, 1-4 s a page at a million.
    """
    if not is_team_scoped(user):
        return rows
    return rows.filter(Exists(scoped_leads(user, leads.filter(pk=OuterRef(f"{lead}_id")))))


def declared_role_permissions() -> dict[str, set[tuple[str, str]]]:
    """Every installed app's ``role_permissions``, merged: group name -> {(app_label, codename)}."""
    merged: dict[str, set[tuple[str, str]]] = {name: set() for name in ROLE_GROUPS}
    for config in global_apps.get_app_configs():
        for group_name, codenames in getattr(config, "role_permissions", {}).items():
            merged[group_name].update(tuple(dotted.split(".", 1)) for dotted in codenames)
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
