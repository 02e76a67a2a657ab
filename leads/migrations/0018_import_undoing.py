from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0017_import_previewing"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="leadimport",
            name="leadimport_status_valid",
        ),
        migrations.AlterField(
            model_name="leadimport",
            name="status",
            field=models.CharField(
                choices=[
                    ("mapping", "Columns to map"),
                    ("previewing", "Previewing…"),
                    ("previewed", "Previewed, not imported"),
                    ("queued", "Waiting for the worker"),
                    ("running", "Importing"),
                    ("done", "Imported"),
                    ("failed", "Failed"),
                    ("undoing", "Undoing…"),
                    ("undone", "Undone"),
                ],
                default="mapping",
                max_length=10,
            ),
        ),
        migrations.AddConstraint(
            model_name="leadimport",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "status__in",
                        [
                            "mapping",
                            "previewing",
                            "previewed",
                            "queued",
                            "running",
                            "done",
                            "failed",
                            "undoing",
                            "undone",
                        ],
                    )
                ),
                name="leadimport_status_valid",
            ),
        ),
    ]
