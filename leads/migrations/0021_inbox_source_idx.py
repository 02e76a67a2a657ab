"""The inbox filtered by a source or a campaign and sorted by the lead's score or company walks its own index.

``handoff.selectors._inbox_lead_filter`` compares UPPER(first_touch_source) = UPPER(%s) (and the campaign's) on
both databases. Without these indexes a page walked all of the rep's leads in sort order on lead_owner_score_idx or
lead_owner_company_idx and read each lead's row to test its source: 0.6-0.9 ms of SQLite a page for a source a
fifth of the leads come from, and a full walk of the rep's leads for a rare one (bench/inbox_bench.py at a million
leads). Only owned leads enter them, as in lead_owner_score_idx: capture writes leads without an owner.

A new index on a database that has planner statistics gets its own at once: SQLite without a ``sqlite_stat1`` row
for it guesses that it narrows a rep's leads to a handful and walked it for the unfiltered company sort, sorting
every one of the rep's leads (100 ms a page). PostgreSQL gathers no statistics on a partial index's expression:
the campaign's come from a statistics object, as the source's do since 0020 (without it PostgreSQL read all 18,546
of the rep's leads of a campaign through the score index and sorted them: 194 ms a page).
"""

import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models

INDEXES = ("lead_owner_src_score_idx", "lead_owner_src_company_idx", "lead_owner_cmp_score_idx",
           "lead_owner_cmp_company_idx")  # fmt: skip
STATISTICS = "leads_lead_first_touch_campaign_upper_stats"


def analyse_indexes(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE STATISTICS IF NOT EXISTS {STATISTICS} ON (UPPER(first_touch_campaign::text)) FROM leads_lead"
        )
        schema_editor.execute("ANALYZE leads_lead")
    elif connection.vendor == "sqlite" and "sqlite_stat1" in connection.introspection.table_names():
        for name in INDEXES:
            schema_editor.execute(f'ANALYZE "{name}"')


def drop_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {STATISTICS}")


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0020_first_touch_source_statistics"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                models.F("owner"),
                django.db.models.functions.text.Upper("first_touch_source"),
                models.F("score"),
                models.F("id"),
                condition=models.Q(("owner__isnull", False)),
                name="lead_owner_src_score_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                models.F("owner"),
                django.db.models.functions.text.Upper("first_touch_source"),
                models.F("company_name"),
                models.F("id"),
                condition=models.Q(("owner__isnull", False)),
                name="lead_owner_src_company_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                models.F("owner"),
                django.db.models.functions.text.Upper("first_touch_campaign"),
                models.F("score"),
                models.F("id"),
                condition=models.Q(("owner__isnull", False)),
                name="lead_owner_cmp_score_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                models.F("owner"),
                django.db.models.functions.text.Upper("first_touch_campaign"),
                models.F("company_name"),
                models.F("id"),
                condition=models.Q(("owner__isnull", False)),
                name="lead_owner_cmp_company_idx",
            ),
        ),
        migrations.RunPython(analyse_indexes, drop_statistics),
    ]
