"""A report table as JSON: its columns, and its rows as objects keyed by column, with raw numbers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from reports.selectors import Table


class ReportColumnSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The key of this column's value in each row.")
    # The serializer metaclass takes declared fields out of the class, so this does not hide Field.label.
    label = serializers.CharField()  # type: ignore[assignment]
    kind = serializers.CharField(
        help_text="`text`, `int`, `credit` (a share of leads), `pct` (a fraction: 0.25 is 25%), `hours`, "
        "`money` or `date`."
    )
    group = serializers.CharField(help_text="The heading over a group of columns (attribution's measures), or empty.")


class ReportTableSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    note = serializers.CharField(help_text="How the numbers are counted.")
    columns = ReportColumnSerializer(many=True)
    rows = serializers.SerializerMethodField(
        help_text="One object per row, by column key; a number is null where there is nothing to divide or measure."
    )

    @extend_schema_field(serializers.ListField(child=serializers.DictField(child=serializers.JSONField())))
    def get_rows(self, table: Table) -> list[dict[str, Any]]:
        return [
            {column.key: _plain(value) for column, value in zip(table.columns, row, strict=True)} for row in table.rows
        ]


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value
