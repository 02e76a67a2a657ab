"""A stage's or a country's leads newest first: (stage, created_at, id) and (country, created_at, id) replace the
single-column indexes.

The stage, country and enrichment status lose ``db_index`` for indexes declared in ``Meta``: on PostgreSQL
``db_index`` on a text column also builds a ``varchar_pattern_ops`` index for LIKE, which no query of these three
columns uses and every capture writes. Their old indexes are dropped by name; the table is not rebuilt (SQLite
would copy every lead to alter the fields).
"""

from django.db import migrations, models

# Django's names for the indexes ``db_index`` built (PostgreSQL adds the ``_like`` ones).
OLD_INDEXES = {
    "stage": "leads_lead_stage_d7dbd1fd",
    "country": "leads_lead_country_d6747ca5",
    "enrichment_status": "leads_lead_enrichment_status_4cf3a02b",
}


def drop_old_indexes(apps, schema_editor):
    for name in OLD_INDEXES.values():
        for index in (name, f"{name}_like"):
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(index)}")


def create_old_indexes(apps, schema_editor):
    quote = schema_editor.quote_name
    for column, name in OLD_INDEXES.items():
        schema_editor.execute(f"CREATE INDEX {quote(name)} ON {quote('leads_lead')} ({quote(column)})")
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                f"CREATE INDEX {quote(name + '_like')} ON {quote('leads_lead')} ({quote(column)} varchar_pattern_ops)"
            )


def analyse_new_indexes(apps, schema_editor):
    """SQLite with planner statistics gets them for the new indexes too (as 0021 and 0022 do for theirs)."""
    connection = schema_editor.connection
    if connection.vendor == "sqlite" and "sqlite_stat1" in connection.introspection.table_names():
        for name in ("lead_stage_created_idx", "lead_country_created_idx", "lead_enrichment_status_idx"):
            schema_editor.execute(f'ANALYZE "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0026_submission_list_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="lead",
                    name="country",
                    field=models.CharField(blank=True, help_text="ISO 3166-1 alpha-2 code", max_length=2),
                ),
                migrations.AlterField(
                    model_name="lead",
                    name="enrichment_status",
                    field=models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("enriched", "Enriched"),
                            ("partial", "Partly enriched"),
                            ("failed", "Failed"),
                        ],
                        default="pending",
                        max_length=10,
                    ),
                ),
                migrations.AlterField(
                    model_name="lead",
                    name="stage",
                    field=models.CharField(
                        choices=[
                            ("new", "New"),
                            ("nurture", "Nurture"),
                            ("mql", "Marketing-qualified (MQL)"),
                            ("sql", "Sales-qualified (SQL)"),
                            ("rejected", "Rejected by sales"),
                            ("disqualified", "Disqualified"),
                        ],
                        default="new",
                        max_length=20,
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop_old_indexes, create_old_indexes)],
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(fields=["stage", "created_at", "id"], name="lead_stage_created_idx"),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(fields=["country", "created_at", "id"], name="lead_country_created_idx"),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(fields=["enrichment_status"], name="lead_enrichment_status_idx"),
        ),
        migrations.RunPython(analyse_new_indexes, migrations.RunPython.noop),
    ]
