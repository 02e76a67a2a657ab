import pytest
from django.contrib.auth.models import Group

from core import roles

pytestmark = pytest.mark.django_db


def permission_names(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def test_migrate_creates_the_three_role_groups() -> None:
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ROLE_GROUPS)


def test_reps_may_only_work_the_inbox() -> None:
    assert permission_names(roles.SALES_REP) == {"handoff.work_inbox"}


def test_sync_restores_a_deleted_group_with_its_permissions() -> None:
    before = permission_names(roles.MARKETING)
    Group.objects.filter(name=roles.MARKETING).delete()

    roles.sync_role_groups()

    assert permission_names(roles.MARKETING) == before
    assert "leads.view_reports" in before


def test_sync_removes_permissions_no_app_declares() -> None:
    group = Group.objects.get(name=roles.SALES_REP)
    group.permissions.add(*Group.objects.get(name=roles.MARKETING).permissions.all())

    roles.sync_role_groups()

    assert permission_names(roles.SALES_REP) == {"handoff.work_inbox"}
