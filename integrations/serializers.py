"""The lead as webhook payloads carry it: compact, read-only, the same shape for every event."""

from __future__ import annotations

from rest_framework import serializers

from handoff.api.serializers import RoutingValueField
from leads.api.serializers import shown_enrichment_status_field
from leads.models import Lead


class LeadEventSerializer(serializers.ModelSerializer[Lead]):
    name = serializers.CharField(source="full_name", read_only=True)
    owner_id = serializers.IntegerField(read_only=True, allow_null=True)
    # Where routing sent the lead (handoff's RoutingDecision): a team's slug or a nurture track's key, or empty.
    routing_team = RoutingValueField(part="team")
    nurture_track = RoutingValueField(part="nurture_track")
    # As the lead API shows it: `erased` for an erased lead never enriched, which nothing will enrich.
    enrichment_status = shown_enrichment_status_field()

    class Meta:
        model = Lead
        fields = [
            "id",
            "email",
            "phone",
            "name",
            "first_name",
            "last_name",
            "company_name",
            "company_domain",
            "job_title",
            "country",
            "stage",
            "score",
            "fit_score",
            "engagement_score",
            "owner_id",
            "routing_team",
            "nurture_track",
            "first_touch_source",
            "first_touch_medium",
            "first_touch_campaign",
            "first_touch_channel",
            "first_touch_at",
            "enrichment_status",
            "enriched_at",
            "stage_changed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
