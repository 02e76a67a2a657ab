"""Validators for input every app may receive."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError

# PostgreSQL refuses a time with a larger UTC offset ("time zone displacement out of range"); no real
# time zone has one.
MAX_UTC_OFFSET = timedelta(hours=15, minutes=59)


# The years a date or time given as input may fall in. Beyond them a moment converted to UTC, to the site's
# timezone or to a day's bounds can fall outside what Python's datetimes hold, and every page or API answer
# showing it fails, whoever asks.
EARLIEST_YEAR, LATEST_YEAR = 1900, 9998


def validate_storable_datetime(value: datetime | None) -> None:
    """Refuse an aware datetime whose UTC offset the database cannot store, or one outside the years a page can show."""
    if value is None:
        return
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_UTC_OFFSET:
        raise ValidationError("Give a UTC offset between -15:59 and +15:59.", code="utc_offset_out_of_range")
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValidationError(
            f"Give a time between the years {EARLIEST_YEAR} and {LATEST_YEAR}.", code="year_out_of_range"
        )
