"""``work_inbox`` and ``manage_team`` leave leads.Lead: handoff, which checks them, declares them on Assignment.

Only the model state changes here; handoff's 0005 carries the grants over and deletes the old rows.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0015_inbox_lead_owner_sort_indexes"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="lead",
            options={
                "ordering": ["-created_at", "-id"],
                "permissions": [
                    ("view_reports", "Can view the managers' reports"),
                    ("erase_lead", "Can export and erase a lead's personal data"),
                ],
            },
        ),
    ]
