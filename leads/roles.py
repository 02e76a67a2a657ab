"""The three kinds of users and what each may do. Groups are created by a data migration."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

MARKETING = "Marketing"
SALES_REP = "Sales rep"
SALES_MANAGER = "Sales manager"

# Permission codenames ("app_label.codename") each group holds. Later apps add theirs in their
# own data migrations through ``leads.roles.grant``.
GROUP_PERMISSIONS: dict[str, list[str]] = {
    MARKETING: [
        "leads.view_lead",
        "leads.change_lead",
        "leads.view_consent",
        "leads.view_activity",
        "leads.add_activity",
        "leads.view_touch",
        "leads.view_stagechange",
        "leads.view_reports",
    ],
    SALES_REP: [
        "leads.work_inbox",
    ],
    SALES_MANAGER: [
        "leads.view_lead",
        "leads.view_consent",
        "leads.view_activity",
        "leads.view_touch",
        "leads.view_stagechange",
        "leads.view_reports",
        "leads.manage_team",
        "leads.work_inbox",
    ],
}

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


def grant(apps: object, group_name: str, codenames: list[str]) -> None:
    """Give ``group_name`` these permissions; for data migrations (``apps`` is the historical registry)."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():  # type: ignore[attr-defined]
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    group_model = apps.get_model("auth", "Group")  # type: ignore[attr-defined]
    permission_model = apps.get_model("auth", "Permission")  # type: ignore[attr-defined]
    group, _ = group_model.objects.get_or_create(name=group_name)
    for dotted in codenames:
        app_label, codename = dotted.split(".")
        group.permissions.add(permission_model.objects.get(content_type__app_label=app_label, codename=codename))
