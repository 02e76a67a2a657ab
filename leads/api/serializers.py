"""Input and output shapes of the leads API. Input serializers validate shape only; services do the work."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from rest_framework import serializers

from leads.models import ActivityKind

# How far ahead of our clock an activity's time may be (the sender's clock may run a little fast).
CLOCK_SKEW = timedelta(minutes=5)
MAX_EXTERNAL_ID_LENGTH = 200
MAX_DB_INTEGER = 2**63 - 1


class ErrorDetailSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, for a person to read.")


class ActivityInSerializer(serializers.Serializer):
    """One activity: who (email or lead_id), what (kind), when, and free-form metadata."""

    email = serializers.EmailField(
        required=False, max_length=254, help_text="The lead's email address. Give this or `lead_id`."
    )
    lead_id = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_DB_INTEGER, help_text="The lead's id. Give this or `email`."
    )
    kind = serializers.ChoiceField(choices=ActivityKind.choices, help_text="What the lead did.")
    occurred_at = serializers.DateTimeField(help_text="When it happened: ISO 8601, with a time zone.")
    metadata = serializers.DictField(
        required=False,
        help_text="A JSON object stored with the activity (webinar name, URL …). A string `external_id` "
        "makes a resend of the same activity idempotent: it is stored once.",
    )

    def validate_metadata(self, value: dict[str, Any]) -> dict[str, Any]:
        external_id = value.get("external_id")
        if external_id is not None and (
            not isinstance(external_id, str) or not external_id or len(external_id) > MAX_EXTERNAL_ID_LENGTH
        ):
            raise serializers.ValidationError(
                f"external_id must be a non-empty string of at most {MAX_EXTERNAL_ID_LENGTH} characters."
            )
        if _has_nul(value):
            # PostgreSQL cannot store a NUL character in JSON.
            raise serializers.ValidationError("Null characters are not allowed.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "email" in attrs and "lead_id" in attrs:
            raise serializers.ValidationError({"lead_id": "Give either email or lead_id, not both."})
        if "email" not in attrs and "lead_id" not in attrs:
            raise serializers.ValidationError({"email": "Give the lead's email or lead_id."})
        if attrs["occurred_at"] > self.context["now"] + CLOCK_SKEW:
            raise serializers.ValidationError({"occurred_at": "The time is in the future."})
        return attrs


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


class ActivitiesQuerySerializer(serializers.Serializer):
    unknown = serializers.ChoiceField(
        choices=[("reject", "reject"), ("skip", "skip")],
        default="reject",
        help_text="What to do with items whose lead is unknown: `reject` the whole request (400, nothing "
        "stored), or `skip` them (the others are stored; the skipped ones are listed in the response).",
    )


class RecordedActivitySerializer(serializers.Serializer):
    """One stored activity, from ``{"index": …, "activity": Activity}``."""

    index = serializers.IntegerField(help_text="The item's position in the request (0 for a single object).")
    id = serializers.IntegerField(
        source="activity.id", help_text="The activity's id; a resend with the same external_id gets the same id."
    )
    lead_id = serializers.IntegerField(source="activity.lead_id")
    kind = serializers.ChoiceField(source="activity.kind", choices=ActivityKind.choices)
    occurred_at = serializers.DateTimeField(source="activity.occurred_at")


class ItemErrorsSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The item's position in the request (0 for a single object).")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), help_text="Messages by field name."
    )


class ActivitiesRecordedSerializer(serializers.Serializer):
    activities = RecordedActivitySerializer(many=True, help_text="The activities stored, in request order.")
    skipped = ItemErrorsSerializer(many=True, help_text="Items left out with `?unknown=skip`, and why.")


class ActivityErrorsSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong; nothing was stored.")
    items = ItemErrorsSerializer(many=True, required=False, help_text="The invalid items, by position.")
