"""Validators for input every app may receive."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError

# PostgreSQL refuses a time with a larger UTC offset ("time zone displacement out of range"); no real
# time zone has one.
MAX_UTC_OFFSET = timedelta(hours=15, minutes=59)


def validate_storable_offset(value: datetime | None) -> None:
    """Refuse an aware datetime whose UTC offset the database cannot store."""
    offset = value.utcoffset() if value is not None else None
    if offset is not None and abs(offset) > MAX_UTC_OFFSET:
        raise ValidationError("Give a UTC offset between -15:59 and +15:59.", code="utc_offset_out_of_range")
