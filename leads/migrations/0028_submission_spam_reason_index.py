from django.db import migrations, models


def analyse_new_index(apps, schema_editor):
    """SQLite with planner statistics gets them for the new index too (as 0027 does for its own)."""
    connection = schema_editor.connection
    if connection.vendor == "sqlite" and "sqlite_stat1" in connection.introspection.table_names():
        schema_editor.execute('ANALYZE "submission_spam_reason_idx"')


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0027_stage_created_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="submission",
            index=models.Index(
                condition=models.Q(("spam_reason", ""), _negated=True),
                fields=["spam_reason", "submitted_at", "id"],
                name="submission_spam_reason_idx",
            ),
        ),
        migrations.RunPython(analyse_new_index, migrations.RunPython.noop),
    ]
