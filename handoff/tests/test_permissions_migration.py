"""The inbox permissions move from leads to handoff with every grant, and back again when the move is reversed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

# With auth and contenttypes at their ends, so the historical Permission and ContentType match the tables.
AUTH = [("auth", "0012_alter_user_first_name_max_length"), ("contenttypes", "0002_remove_content_type_name")]
BEFORE = [("handoff", "0004_routing_moves_to_handoff"), ("leads", "0015_inbox_lead_owner_sort_indexes"), *AUTH]
AFTER = [("handoff", "0005_permissions_work_inbox_manage_team")]

pytestmark = pytest.mark.django_db(transaction=True)


def migrate(targets: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def at_the_end() -> Iterator[None]:
    """Whatever a test migrates to, the database is migrated to the end again afterwards."""
    yield
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def permission(apps: Any, app_label: str, model: str, codename: str) -> Any:
    ContentType, Permission = apps.get_model("contenttypes", "ContentType"), apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
    found, _ = Permission.objects.get_or_create(
        content_type=content_type, codename=codename, defaults={"name": codename}
    )
    return found


def grants(apps: Any, app_label: str) -> set[tuple[str, str]]:
    """(holder, codename) for every group and user holding ``app_label``'s work_inbox or manage_team."""
    moved = {
        "permission__content_type__app_label": app_label,
        "permission__codename__in": ["work_inbox", "manage_team"],
    }
    by_group = apps.get_model("auth", "Group").permissions.through.objects.filter(**moved)
    by_user = apps.get_model("auth", "User").user_permissions.through.objects.filter(**moved)
    return {
        (f"group {name}", codename) for name, codename in by_group.values_list("group__name", "permission__codename")
    } | {(f"user {name}", codename) for name, codename in by_user.values_list("user__username", "permission__codename")}


def test_groups_and_users_keep_their_grants_under_handoff(at_the_end: None) -> None:
    before = migrate(BEFORE)
    night_shift = before.get_model("auth", "Group").objects.create(name="Night shift")
    night_shift.permissions.add(permission(before, "leads", "lead", "work_inbox"))
    lead_rep = before.get_model("auth", "User").objects.create(username="lead-rep")
    lead_rep.user_permissions.add(permission(before, "leads", "lead", "manage_team"))

    after = migrate(AFTER)

    assert {("group Night shift", "work_inbox"), ("user lead-rep", "manage_team")} <= grants(after, "handoff")
    old = after.get_model("auth", "Permission").objects.filter(
        content_type__app_label="leads", codename__in=["work_inbox", "manage_team"]
    )
    assert not old.exists()


def test_reversing_gives_the_grants_back_to_leads(at_the_end: None) -> None:
    after = migrate(AFTER)
    rep = after.get_model("auth", "User").objects.create(username="rep-x")
    rep.user_permissions.add(permission(after, "handoff", "assignment", "work_inbox"))

    before = migrate(BEFORE)

    assert ("user rep-x", "work_inbox") in grants(before, "leads")
    assert grants(before, "handoff") == set()
