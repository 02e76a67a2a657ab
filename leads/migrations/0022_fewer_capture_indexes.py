"""Every capture writes one entry into each index of the rows it inserts: fewer indexes, a cheaper capture.

Dropped, as indexes only (the state's fields lose ``db_index``):
- the single-column indexes of foreign keys that a composite index already starts with (a lead's owner; the
  lead of a consent, an activity and a touch; a submission's form);
- the lead's company domain, seniority, industry and size band: scoring and routing read them from the lead in
  hand and no list filters on them;
- the lead's phone and a submission's ``released_by``, replaced by partial indexes that a capture does not enter
  (a phone is looked up only for a lead with no email; few submissions are released by someone).

SQLite's ``AlterField`` would copy each table to drop an index (a million-lead table, eleven times); the indexes
are dropped by name instead, found through introspection: on PostgreSQL a text column's index has a second,
``varchar_pattern_ops`` one, dropped with it. The reverse builds them again as Django names them.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# (model, field) whose own single-column index goes.
UNINDEXED = (("lead", "owner"), ("lead", "phone"), ("lead", "company_domain"), ("lead", "seniority"),
             ("lead", "industry"), ("lead", "size_band"), ("consent", "lead"), ("activity", "lead"),
             ("touch", "lead"), ("submission", "form"), ("submission", "released_by"))  # fmt: skip


def drop_indexes(apps, schema_editor):
    for model_name, field_name in UNINDEXED:
        model = apps.get_model("leads", model_name)
        column = model._meta.get_field(field_name).column
        with schema_editor.connection.cursor() as cursor:
            constraints = schema_editor.connection.introspection.get_constraints(cursor, model._meta.db_table)
        for name, info in constraints.items():
            if info["index"] and not info["unique"] and not info["primary_key"] and info["columns"] == [column]:
                schema_editor.execute(schema_editor._delete_index_sql(model, name))


def analyse_new_indexes(apps, schema_editor):
    """SQLite with planner statistics gets them for the new partial indexes too (as 0021 does for its own): without a
    row in ``sqlite_stat1`` it guesses, and found a phone-only person through the email index, reading every
    phone-only lead, instead of through ``lead_phone_only_idx``. PostgreSQL plans from its column statistics."""
    connection = schema_editor.connection
    if connection.vendor == "sqlite" and "sqlite_stat1" in connection.introspection.table_names():
        for name in ("lead_phone_only_idx", "submission_released_by_idx"):
            schema_editor.execute(f'ANALYZE "{name}"')


def build_indexes(apps, schema_editor):
    for model_name, field_name in UNINDEXED:
        model = apps.get_model("leads", model_name)
        for sql in schema_editor._field_indexes_sql(model, model._meta.get_field(field_name)):
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0021_inbox_source_idx"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop_indexes, build_indexes)],
            state_operations=[
                migrations.AlterField(
                    model_name="activity",
                    name="lead",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="activities",
                        to="leads.lead",
                    ),
                ),
                migrations.AlterField(
                    model_name="consent",
                    name="lead",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="consents",
                        to="leads.lead",
                    ),
                ),
                migrations.AlterField(
                    model_name="lead",
                    name="company_domain",
                    field=models.CharField(blank=True, max_length=253),
                ),
                migrations.AlterField(
                    model_name="lead",
                    name="industry",
                    field=models.CharField(blank=True, max_length=100),
                ),
                migrations.AlterField(
                    model_name="lead",
                    name="owner",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="owned_leads",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="lead",
                    name="phone",
                    field=models.CharField(blank=True, max_length=40),
                ),
                migrations.AlterField(
                    model_name="lead",
                    name="seniority",
                    field=models.CharField(blank=True, max_length=20),
                ),
                migrations.AlterField(
                    model_name="lead",
                    name="size_band",
                    field=models.CharField(blank=True, max_length=50),
                ),
                migrations.AlterField(
                    model_name="submission",
                    name="form",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="submissions",
                        to="leads.captureform",
                    ),
                ),
                migrations.AlterField(
                    model_name="submission",
                    name="released_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="touch",
                    name="lead",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="touches",
                        to="leads.lead",
                    ),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                condition=models.Q(("email__isnull", True)), fields=["phone"], name="lead_phone_only_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="submission",
            index=models.Index(
                condition=models.Q(("released_by__isnull", False)),
                fields=["released_by"],
                name="submission_released_by_idx",
            ),
        ),
        migrations.RunPython(analyse_new_indexes, migrations.RunPython.noop),
    ]
