from django.db import migrations, models


def analyse_new_indexes(apps, schema_editor):
    """SQLite with planner statistics gets them for the new indexes too (as leads' 0027 does for its own)."""
    connection = schema_editor.connection
    if connection.vendor == "sqlite" and "sqlite_stat1" in connection.introspection.table_names():
        for name in ("assignment_state_idx", "assignment_outcome_idx"):
            schema_editor.execute(f'ANALYZE "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("handoff", "0006_admin_list_order_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="assignment",
            index=models.Index(fields=["state", "assigned_at", "id"], name="assignment_state_idx"),
        ),
        migrations.AddIndex(
            model_name="assignment",
            index=models.Index(
                condition=models.Q(("outcome", ""), _negated=True),
                fields=["outcome", "assigned_at", "id"],
                name="assignment_outcome_idx",
            ),
        ),
        migrations.RunPython(analyse_new_indexes, migrations.RunPython.noop),
    ]
