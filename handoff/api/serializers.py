"""Serializers of the leads API: what a lead shows (list and detail), and the exact input of each stage action.

Nothing here writes a lead: the action serializers declare only the fields their service takes, so a
body that also names ``stage``, ``owner`` or ``score`` changes none of them (unknown keys are ignored).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from handoff.models import Assignment, ContactKind, RoutingDecision
from leads.api.serializers import ConsentSerializer, shown_enrichment_status_field
from leads.models import Lead, Touch


# "kind" already names another choice set in the schema (activities): without an ENUM_NAME_OVERRIDES
# entry their enums would collide, so this one is documented as a string (the consent status likewise, in
# leads.api.serializers).
@extend_schema_field({"type": "string", "description": "One of: " + ", ".join(ContactKind.values)})
class _ContactKindField(serializers.ChoiceField):
    pass


class RoutingValueField(serializers.CharField):
    """A value of the lead's routing decision (``team`` → its slug, or ``nurture_track``); "" when there is none."""

    def __init__(self, *, part: str, **kwargs: Any) -> None:
        self.part = part
        super().__init__(read_only=True, **kwargs)

    def get_attribute(self, instance: Lead) -> str:
        decision = getattr(instance, "routing_decision", None)  # None when the lead was never routed
        if decision is None:
            return ""
        if self.part == "team":
            return decision.team.slug if decision.team is not None else ""
        return str(getattr(decision, self.part))


class LeadListSerializer(serializers.ModelSerializer[Lead]):
    """A lead as a list row: who, where it stands, and where it came from."""

    name = serializers.CharField(source="full_name", read_only=True, help_text="First and last name.")
    owner_id = serializers.IntegerField(read_only=True, allow_null=True, help_text="The user who owns the lead.")
    # Plain strings: these are often empty, which a slug or URL format would not allow.
    routing_team = RoutingValueField(
        part="team",
        help_text="The slug of the team routing chose, or empty (routed to a nurture track, or not routed yet).",
    )

    class Meta:
        model = Lead
        fields = [
            "id",
            "email",
            "phone",
            "name",
            "first_name",
            "last_name",
            "job_title",
            "company_name",
            "country",
            "stage",
            "stage_changed_at",
            "owner_id",
            "routing_team",
            "score",
            "first_touch_at",
            "first_touch_source",
            "first_touch_medium",
            "first_touch_campaign",
            "first_touch_channel",
            "created_at",
        ]
        read_only_fields = fields


class TouchSerializer(serializers.ModelSerializer[Touch]):
    referrer = serializers.CharField(read_only=True)
    landing_page = serializers.CharField(read_only=True)

    class Meta:
        model = Touch
        fields = [
            "occurred_at",
            "channel",
            "source",
            "medium",
            "campaign",
            "content",
            "term",
            "click_id",
            "referrer",
            "landing_page",
        ]
        read_only_fields = fields


class SLAStateSerializer(serializers.Serializer):
    """The lead's open assignment and its SLA clock; null when nobody in sales has the lead."""

    assignment_id = serializers.IntegerField(source="pk")
    state = serializers.CharField(help_text="`assigned`, `accepted` or `contacted`.")
    rep_id = serializers.IntegerField()
    team = serializers.CharField(source="team.slug")
    assigned_at = serializers.DateTimeField()
    accepted_at = serializers.DateTimeField(allow_null=True)
    contacted_at = serializers.DateTimeField(allow_null=True)
    sla_due_at = serializers.DateTimeField(source="sla.due_at")
    sla_met_at = serializers.DateTimeField(source="sla.met_at", allow_null=True)
    sla_breached_at = serializers.DateTimeField(source="sla.breached_at", allow_null=True)
    reasons = serializers.JSONField(
        help_text="Why this rep: `how` (`rotation` or `chosen`), `summary`, and for a rotation the `candidates` "
        "considered, each with `rep`, `weight` (capacity), `open` and `breached` load, `out_of_office`, "
        "`considered`/`not_considered_because`, `rank` and `chosen`."
    )
    sla_status = serializers.SerializerMethodField(
        help_text="`met` (first contact logged in time or late), `breached` (due and no contact), `running`, or "
        "`stopped`."
    )

    def get_sla_status(self, assignment: Assignment) -> str:
        sla = assignment.sla
        if sla.met_at is not None:
            return "met"
        if sla.breached_at is not None or sla.due_at <= self.context.get("now", timezone.now()):
            return "breached"
        if sla.stopped_at is not None:
            return "stopped"
        return "running"


class RoutingDecisionSerializer(serializers.ModelSerializer[RoutingDecision]):
    """Where routing sent the lead and why."""

    team = serializers.CharField(source="team.slug", default="", help_text="The team's slug, or empty.")
    pool = serializers.CharField(source="pool.name", default="", help_text="The rep pool's name, or empty.")
    rule = serializers.CharField(source="rule_name", help_text="The rule that decided.")
    reasons = serializers.JSONField(
        help_text="`summary`, the conditions that `held`, the rules `passed_over` (each with the condition that "
        "`failed`), and the `destination` in words."
    )

    class Meta:
        model = RoutingDecision
        fields = ["destination", "team", "pool", "nurture_track", "rule", "reasons", "decided_at"]
        read_only_fields = fields


class LeadDetailSerializer(LeadListSerializer):
    """A lead with its first touch, score breakdown, consents, routing, SLA state and enrichment."""

    first_touch = TouchSerializer(read_only=True, allow_null=True, help_text="The touch the lead is credited to.")
    score_breakdown = serializers.JSONField(read_only=True, help_text="The scoring rules that matched, with points.")
    consents = ConsentSerializer(many=True, read_only=True)
    website = serializers.CharField(read_only=True)
    sla = serializers.SerializerMethodField(help_text="The open assignment and its SLA; null when not with sales.")
    routing = serializers.SerializerMethodField(help_text="Where routing sent the lead and why; null if never routed.")
    enrichment_status = shown_enrichment_status_field(
        help_text="Where enrichment stands; `erased` for an erased lead never enriched, which nothing will enrich."
    )

    class Meta(LeadListSerializer.Meta):
        fields = [
            *LeadListSerializer.Meta.fields,
            "first_touch",
            "fit_score",
            "engagement_score",
            "score_breakdown",
            "scored_at",
            "consents",
            "sla",
            "routing",
            "company_domain",
            "website",
            "industry",
            "employee_count",
            "size_band",
            "seniority",
            "job_function",
            "email_domain_kind",
            "enrichment_status",
            "enriched_at",
        ]
        read_only_fields = fields

    @extend_schema_field(RoutingDecisionSerializer(allow_null=True))
    def get_routing(self, lead: Lead) -> dict[str, Any] | None:
        decision = getattr(lead, "routing_decision", None)
        return RoutingDecisionSerializer(decision).data if decision is not None else None

    @extend_schema_field(SLAStateSerializer(allow_null=True))
    def get_sla(self, lead: Lead) -> dict[str, Any] | None:
        current = next((a for a in lead.assignments.all() if a.is_open), None)
        return SLAStateSerializer(current, context=self.context).data if current else None


class AssignmentResultSerializer(serializers.ModelSerializer[Assignment]):
    """The assignment after the action, and the stage its lead is in now."""

    lead_id = serializers.IntegerField(read_only=True)
    lead_stage = serializers.CharField(source="lead.stage", read_only=True)
    sla_met_at = serializers.DateTimeField(source="sla.met_at", read_only=True, allow_null=True)

    class Meta:
        model = Assignment
        fields = [
            "id",
            "lead_id",
            "lead_stage",
            "state",
            "outcome",
            "accepted_at",
            "contacted_at",
            "ended_at",
            "recycle_on",
            "sla_met_at",
        ]
        read_only_fields = fields


class ContactInSerializer(serializers.Serializer):
    kind = _ContactKindField(choices=ContactKind.choices, help_text="How the rep reached the lead.")
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class QualifyInSerializer(serializers.Serializer):
    """BANT: the four answers that make the lead sales-qualified."""

    budget = serializers.CharField(max_length=2000, help_text="Is there budget?")
    authority = serializers.CharField(max_length=2000, help_text="Who decides, and are we talking to them?")
    need = serializers.CharField(max_length=2000, help_text="What problem?")
    timing = serializers.CharField(max_length=2000, help_text="By when?")


class RejectInSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Why; marketing sees this reason.")


class RecycleInSerializer(serializers.Serializer):
    recycle_on = serializers.DateField(help_text="When the lead comes back to sales: a day after today (team's time).")
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    def validate_recycle_on(self, value: date) -> date:
        if value <= self.context["today"]:
            raise serializers.ValidationError("Pick a day after today.")
        return value
