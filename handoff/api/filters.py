"""The filters of GET /api/leads/ (django-filter)."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from core.validators import InstantFilter
from leads.models import Lead, Stage

MAX_SCORE = 2**31 - 1


class _IntegerFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class LeadFilter(django_filters.FilterSet):
    stage = django_filters.ChoiceFilter(choices=Stage.choices, help_text="The lead's stage.")
    owner = _IntegerFilter(
        field_name="owner_id", min_value=1, max_value=MAX_SCORE, help_text="The id of the user who owns the lead."
    )
    team = django_filters.CharFilter(
        field_name="routing_decision__team__slug",
        max_length=50,
        help_text="The slug of the sales team routing gave the lead (`routing_team`), not the team of a later "
        "reassignment.",
    )
    first_touch_source = django_filters.CharFilter(
        max_length=200, help_text="The source of the lead's first touch, exactly (e.g. `linkedin`)."
    )
    first_touch_channel = django_filters.CharFilter(
        max_length=30, help_text="The channel of the lead's first touch, exactly (e.g. `paid_social`)."
    )
    score_min = _IntegerFilter(
        field_name="score", lookup_expr="gte", min_value=-MAX_SCORE, max_value=MAX_SCORE, help_text="Score at least."
    )
    score_max = _IntegerFilter(
        field_name="score", lookup_expr="lte", min_value=-MAX_SCORE, max_value=MAX_SCORE, help_text="Score at most."
    )
    created_after = InstantFilter(
        field_name="created_at", lookup_expr="gte", help_text="Created at or after (ISO 8601, with a UTC offset or Z)."
    )
    created_before = InstantFilter(
        field_name="created_at", lookup_expr="lt", help_text="Created before (ISO 8601, with a UTC offset or Z)."
    )
    q = django_filters.CharFilter(
        method="filter_search",
        max_length=100,
        help_text="Search: leads whose email, first name, last name or company name starts with this text "
        "(case-insensitive). A prefix, not a substring, so it stays fast on many leads.",
    )

    class Meta:
        model = Lead
        fields: list[str] = []

    def filter_search(self, queryset: QuerySet[Lead], name: str, value: str) -> QuerySet[Lead]:
        term = value.strip()
        if not term:
            return queryset
        return queryset.filter(
            Q(email__istartswith=term)
            | Q(first_name__istartswith=term)
            | Q(last_name__istartswith=term)
            | Q(company_name__istartswith=term)
        )
