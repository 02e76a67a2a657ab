"""Routing moves to handoff, which owns teams: rules point at a team (or a rep pool) by foreign key, and
each lead's routing decision is a RoutingDecision with its reasons. Assignments keep why their rep won.

The data step carries every routing rule of ``leads`` over (a team slug becomes the team; a rule naming a
team that no longer exists is kept, switched off, with the slug in its name, for a marketer to fix) and
each routed lead's decision (its rule, team or nurture track). A nurture track named by free text becomes
its key (``slugify``: "General nurture" → "general-nurture"), the form the nurture app's tracks use.
``leads.0013_routing_moved_to_handoff`` then drops the old fields and model.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.utils.text import slugify

BATCH = 2000


def carry_routing_over(apps, schema_editor):
    OldRule = apps.get_model("leads", "RoutingRule")
    Lead = apps.get_model("leads", "Lead")
    Team = apps.get_model("handoff", "Team")
    Rule = apps.get_model("handoff", "RoutingRule")
    Decision = apps.get_model("handoff", "RoutingDecision")
    teams = {team.slug: team for team in Team.objects.all()}
    new_rule_of = {}
    conditions = ("size_bands", "industries", "countries", "seniorities", "job_functions", "sources",
                  "employee_min", "employee_max", "score_min", "score_max")  # fmt: skip
    for old in OldRule.objects.order_by("pk"):
        values = {name: getattr(old, name) for name in conditions}
        values.update(name=old.name, order=old.order, is_active=old.is_active, is_default=old.is_default)
        if old.action == "nurture":
            values.update(destination="nurture", nurture_track=slugify(old.nurture_track)[:100])
        else:
            team = teams.get(old.team_slug)
            values.update(destination="team", team=team)
            if team is None:  # the slug dangled already: keep the rule, off, and say which team it named
                values.update(is_active=False, name=f"{old.name} (team “{old.team_slug}” not found)"[:100])
        new_rule_of[old.pk] = Rule.objects.create(**values)
    routed = Lead.objects.filter(routed_at__isnull=False).order_by("pk")
    columns = ("pk", "routing_rule_id", "routing_action", "routing_team", "nurture_track", "routed_at")
    last = 0
    while True:
        rows = list(routed.filter(pk__gt=last).values_list(*columns)[:BATCH])
        if not rows:
            break
        Decision.objects.bulk_create(_decision(Decision, row, new_rule_of, teams) for row in rows)
        last = rows[-1][0]


def _decision(Decision, row, new_rule_of, teams):
    lead_id, rule_id, action, team_slug, track, routed_at = row
    rule = new_rule_of.get(rule_id)
    nurture = action == "nurture"
    team = None if nurture else teams.get(team_slug)
    track_key = slugify(track)[:100] if nurture else ""
    where = f"nurture track “{track_key}”" if nurture else f"team {team.name}" if team else "no team"
    reasons = {
        "rule": rule.name if rule else "",
        "rule_id": rule.pk if rule else None,
        "held": [],
        "passed_over": [],
        "destination": where,
        "summary": "Routed before routing kept its reasons.",
    }
    return Decision(
        lead_id=lead_id, rule=rule, rule_name=rule.name if rule else "", destination="nurture" if nurture else "team",
        team=team, nurture_track=track_key, reasons=reasons, decided_at=routed_at,
    )  # fmt: skip


def carry_routing_back(apps, schema_editor):
    OldRule = apps.get_model("leads", "RoutingRule")
    Lead = apps.get_model("leads", "Lead")
    Rule = apps.get_model("handoff", "RoutingRule")
    Decision = apps.get_model("handoff", "RoutingDecision")
    old_rule_of = {}
    for rule in Rule.objects.select_related("team", "pool__team").order_by("pk"):
        team = rule.pool.team if rule.pool_id else rule.team
        old_rule_of[rule.pk] = OldRule.objects.create(
            name=rule.name, order=rule.order, is_active=rule.is_active, is_default=rule.is_default,
            size_bands=rule.size_bands, industries=rule.industries, countries=rule.countries,
            seniorities=rule.seniorities, job_functions=rule.job_functions, sources=rule.sources,
            employee_min=rule.employee_min, employee_max=rule.employee_max, score_min=rule.score_min,
            score_max=rule.score_max, action="nurture" if rule.destination == "nurture" else "team",
            team_slug=team.slug if team else "", nurture_track=rule.nurture_track,
        )  # fmt: skip
    for decision in Decision.objects.select_related("team").iterator():
        Lead.objects.filter(pk=decision.lead_id).update(
            routing_rule=old_rule_of.get(decision.rule_id),
            routing_action="nurture" if decision.destination == "nurture" else "team",
            routing_team=decision.team.slug if decision.team else "",
            nurture_track=decision.nurture_track,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("handoff", "0003_inbox_views_followups"),
        ("leads", "0012_lead_imports_form_stats"),
    ]

    operations = [
        migrations.AddField(
            model_name="assignment",
            name="reasons",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.CreateModel(
            name="RepPool",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=100)),
                (
                    "members",
                    models.ManyToManyField(
                        blank=True,
                        help_text="Reps of this team who take the pool's leads.",
                        related_name="pools",
                        to="handoff.membership",
                    ),
                ),
                (
                    "team",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="pools", to="handoff.team"
                    ),
                ),
            ],
            options={
                "verbose_name": "rep pool",
                "ordering": ["team", "name"],
                "constraints": [models.UniqueConstraint(fields=("team", "name"), name="reppool_unique_name")],
            },
        ),
        migrations.CreateModel(
            name="RoutingRule",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=100)),
                ("order", models.PositiveIntegerField(default=0)),
                ("is_active", models.BooleanField(default=True)),
                ("is_default", models.BooleanField(default=False, help_text="Used when no other rule matches.")),
                ("size_bands", models.JSONField(blank=True, default=list)),
                ("industries", models.JSONField(blank=True, default=list)),
                ("countries", models.JSONField(blank=True, default=list)),
                ("seniorities", models.JSONField(blank=True, default=list)),
                ("job_functions", models.JSONField(blank=True, default=list)),
                ("sources", models.JSONField(blank=True, default=list)),
                ("employee_min", models.PositiveIntegerField(blank=True, null=True)),
                ("employee_max", models.PositiveIntegerField(blank=True, null=True)),
                ("score_min", models.IntegerField(blank=True, null=True)),
                ("score_max", models.IntegerField(blank=True, null=True)),
                (
                    "destination",
                    models.CharField(
                        choices=[
                            ("team", "A sales team"),
                            ("pool", "A rep pool within a team"),
                            ("nurture", "A nurture track"),
                        ],
                        default="team",
                        max_length=10,
                    ),
                ),
                (
                    "nurture_track",
                    models.CharField(
                        blank=True,
                        help_text="The key of a nurture track (leads.events.nurture_track_choices).",
                        max_length=100,
                    ),
                ),
                (
                    "pool",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="routing_rules",
                        to="handoff.reppool",
                    ),
                ),
                (
                    "team",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="routing_rules",
                        to="handoff.team",
                    ),
                ),
            ],
            options={
                "ordering": ["is_default", "order", "id"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("is_default", True)),
                        fields=("is_default",),
                        name="handoff_one_default_routing_rule",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="RoutingDecision",
            fields=[
                (
                    "lead",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="routing_decision",
                        serialize=False,
                        to="leads.lead",
                    ),
                ),
                (
                    "rule_name",
                    models.CharField(blank=True, help_text="Kept when the rule is renamed or deleted.", max_length=100),
                ),
                (
                    "destination",
                    models.CharField(
                        choices=[
                            ("team", "A sales team"),
                            ("pool", "A rep pool within a team"),
                            ("nurture", "A nurture track"),
                        ],
                        max_length=10,
                    ),
                ),
                ("nurture_track", models.CharField(blank=True, max_length=100)),
                ("reasons", models.JSONField(blank=True, default=dict)),
                ("decided_at", models.DateTimeField()),
                (
                    "pool",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="handoff.reppool",
                    ),
                ),
                (
                    "rule",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="decisions",
                        to="handoff.routingrule",
                    ),
                ),
                (
                    "team",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="routing_decisions",
                        to="handoff.team",
                    ),
                ),
            ],
            options={
                "verbose_name": "routing decision",
            },
        ),
        migrations.RunPython(carry_routing_over, carry_routing_back),
    ]
