"""The move of routing into handoff carries every rule and each lead's decision over, and keeps a dangling slug
visible instead of losing the rule."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from leads.tests.factories import FIXED_NOW

BEFORE = [("handoff", "0003_inbox_views_followups"), ("leads", "0012_lead_imports_form_stats")]
AFTER = [("handoff", "0004_routing_moves_to_handoff"), ("leads", "0013_routing_moved_to_handoff")]

pytestmark = pytest.mark.django_db(transaction=True)


def migrate(targets: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def before() -> Iterator[Any]:
    """The historical apps as they were before the move; afterwards the database is migrated to the end again."""
    apps = migrate(BEFORE)
    yield apps
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_rules_and_decisions_are_carried_over(before: Any) -> None:
    Team = before.get_model("handoff", "Team")
    OldRule, Lead = before.get_model("leads", "RoutingRule"), before.get_model("leads", "Lead")
    london = Team.objects.create(name="London", slug="london")
    OldRule.objects.get_or_create(  # seeded by leads.0004; a flush by an earlier transactional test removes it
        is_default=True, defaults={"name": "Everyone else", "order": 1000, "action": "nurture",
                                   "nurture_track": "General nurture"},
    )  # fmt: skip
    to_london = OldRule.objects.create(
        name="UK → London", order=10, countries=["GB"], action="team", team_slug="london"
    )
    OldRule.objects.create(name="Gone", order=20, action="team", team_slug="berlin")
    nurture = OldRule.objects.create(
        name="Small → nurture", order=30, action="nurture", nurture_track="Start-up nurture"
    )
    routed = Lead.objects.create(
        email="a@acme.example",
        routing_rule=to_london,
        routing_action="team",
        routing_team="london",
        routed_at=FIXED_NOW,
    )
    nurtured = Lead.objects.create(
        email="b@acme.example", routing_rule=nurture, routing_action="nurture", nurture_track="Start-up nurture",
        routed_at=FIXED_NOW,
    )  # fmt: skip
    Lead.objects.create(email="c@acme.example")  # never routed

    after = migrate(AFTER)

    Rule, Decision = after.get_model("handoff", "RoutingRule"), after.get_model("handoff", "RoutingDecision")
    rules = {rule.order: rule for rule in Rule.objects.filter(is_default=False)}
    assert (rules[10].team_id, rules[10].destination, rules[10].countries) == (london.pk, "team", ["GB"])
    assert (rules[20].is_active, rules[20].team_id, rules[20].name) == (False, None, "Gone (team “berlin” not found)")
    assert (rules[30].destination, rules[30].nurture_track) == ("nurture", "start-up-nurture")
    assert Rule.objects.get(is_default=True).nurture_track == "general-nurture"
    decisions = {d.lead_id: d for d in Decision.objects.all()}
    assert set(decisions) == {routed.pk, nurtured.pk}
    assert (decisions[routed.pk].team_id, decisions[routed.pk].rule_id, decisions[routed.pk].decided_at) == (
        london.pk,
        rules[10].pk,
        FIXED_NOW,
    )
    assert (decisions[nurtured.pk].destination, decisions[nurtured.pk].nurture_track) == ("nurture", "start-up-nurture")
