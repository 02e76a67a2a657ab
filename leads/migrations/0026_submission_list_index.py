"""The submissions' admin list (newest first, ``submitted_at`` then ``id``) walks an index instead of sorting them all."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0025_api_list_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="submission",
            index=models.Index(fields=["submitted_at", "id"], name="submission_submitted_idx"),
        ),
    ]
