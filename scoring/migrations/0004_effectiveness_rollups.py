# Rule-effectiveness rollups per creation day (scoring.effectiveness_rollups).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0003_delete_classifieddomain"),
    ]

    operations = [
        migrations.CreateModel(
            name="EffectivenessDay",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField(unique=True)),
                ("leads", models.PositiveIntegerField()),
                ("reached_mql", models.PositiveIntegerField()),
                ("reached_sql", models.PositiveIntegerField()),
            ],
            options={
                "default_permissions": (),
            },
        ),
        migrations.CreateModel(
            name="EffectivenessDirtyDay",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField()),
            ],
            options={
                "default_permissions": (),
            },
        ),
        migrations.CreateModel(
            name="EffectivenessState",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "refreshed_at",
                    models.DateTimeField(blank=True, help_text="Changes committed before this are in.", null=True),
                ),
                ("rebuilt_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "default_permissions": (),
            },
        ),
        migrations.CreateModel(
            name="RuleDayRollup",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField()),
                (
                    "mql_threshold",
                    models.IntegerField(help_text="The threshold of the rule's model when the day was counted."),
                ),
                ("fired", models.PositiveIntegerField()),
                ("reached_mql", models.PositiveIntegerField()),
                ("reached_sql", models.PositiveIntegerField()),
                (
                    "points",
                    models.BigIntegerField(help_text="The sum of the rule's points over the leads it fired on."),
                ),
                ("carried_over_threshold", models.PositiveIntegerField()),
                (
                    "rule",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="scoring.scoringrule"
                    ),
                ),
            ],
            options={
                "default_permissions": (),
                "constraints": [models.UniqueConstraint(fields=("day", "rule"), name="ruledayrollup_day_rule_unique")],
            },
        ),
    ]
