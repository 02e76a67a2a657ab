"""Create the three role groups with the permissions the leads app gives them."""

from django.db import migrations

from leads.roles import grant

# Frozen here so that later edits to leads.roles do not change what this migration did.
GROUP_PERMISSIONS = {
    "Marketing": [
        "leads.view_lead",
        "leads.change_lead",
        "leads.view_consent",
        "leads.view_activity",
        "leads.add_activity",
        "leads.view_touch",
        "leads.view_stagechange",
        "leads.view_reports",
    ],
    "Sales rep": ["leads.work_inbox"],
    "Sales manager": [
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


def create_groups(apps, schema_editor):
    for group_name, codenames in GROUP_PERMISSIONS.items():
        grant(apps, group_name, codenames)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUP_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
