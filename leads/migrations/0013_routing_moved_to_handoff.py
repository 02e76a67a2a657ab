"""Routing lives in handoff now (``handoff.0004_routing_moves_to_handoff`` carried the rules and each lead's
decision over): the lead keeps only when routing last decided (``routed_at``)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0012_lead_imports_form_stats"),
        ("handoff", "0004_routing_moves_to_handoff"),
    ]

    operations = [
        migrations.RemoveField(model_name="lead", name="routing_rule"),
        migrations.RemoveField(model_name="lead", name="routing_action"),
        migrations.RemoveField(model_name="lead", name="routing_team"),
        migrations.RemoveField(model_name="lead", name="nurture_track"),
        migrations.DeleteModel(name="RoutingRule"),
    ]
