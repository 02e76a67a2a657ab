"""The inbox permissions move from leads.Lead to handoff.Assignment, to the app that checks them.

Every group and user holding ``leads.work_inbox`` or ``leads.manage_team`` gets the handoff permission of the
same codename, then the old permission rows are deleted (their grants go with them). Reversing does the same
the other way. On a new database there is nothing to carry: the permissions are created after ``migrate``.
"""

from typing import Any

from django.conf import settings
from django.db import migrations

MOVED = ("work_inbox", "manage_team")
OLD = ("leads", "lead")
NEW = ("handoff", "assignment")


def _move_grants(apps: Any, *, source: tuple[str, str], target: tuple[str, str]) -> None:
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    GroupGrant = apps.get_model("auth", "Group").permissions.through
    UserGrant = apps.get_model(settings.AUTH_USER_MODEL).user_permissions.through
    for codename in MOVED:
        old = Permission.objects.filter(
            content_type__app_label=source[0], content_type__model=source[1], codename=codename
        ).first()
        if old is None:
            continue
        content_type, _ = ContentType.objects.get_or_create(app_label=target[0], model=target[1])
        new, _ = Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": old.name}
        )
        GroupGrant.objects.bulk_create(
            [GroupGrant(group_id=group_id, permission_id=new.pk)
             for group_id in GroupGrant.objects.filter(permission_id=old.pk).values_list("group_id", flat=True)],
            ignore_conflicts=True,
        )  # fmt: skip
        UserGrant.objects.bulk_create(
            [UserGrant(user_id=user_id, permission_id=new.pk)
             for user_id in UserGrant.objects.filter(permission_id=old.pk).values_list("user_id", flat=True)],
            ignore_conflicts=True,
        )  # fmt: skip
        old.delete()


def forwards(apps: Any, schema_editor: Any) -> None:
    _move_grants(apps, source=OLD, target=NEW)


def backwards(apps: Any, schema_editor: Any) -> None:
    _move_grants(apps, source=NEW, target=OLD)


class Migration(migrations.Migration):
    dependencies = [
        ("handoff", "0004_routing_moves_to_handoff"),
        ("leads", "0016_permissions_move_to_handoff"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="assignment",
            options={
                "ordering": ["-assigned_at", "-id"],
                "permissions": [
                    ("work_inbox", "Can work a sales inbox"),
                    ("manage_team", "Can see and reassign a sales team's leads"),
                ],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
