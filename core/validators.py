"""Validators for input every app may receive, and the API's fields for a moment in time that use them."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import django_filters
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_filters.fields import IsoDateTimeField
from rest_framework import serializers

# PostgreSQL refuses a time with a larger UTC offset ("time zone displacement out of range"); no real
# time zone has one.
MAX_UTC_OFFSET = timedelta(hours=15, minutes=59)


# The years a date or time given as input may fall in. Beyond them a moment converted to UTC, to the site's
# timezone or to a day's bounds can fall outside what Python's datetimes hold, and every page or API answer
# showing it fails, whoever asks.
EARLIEST_YEAR, LATEST_YEAR = 1900, 9998

DAY_OUT_OF_RANGE_MESSAGE = f"Pick dates between the years {EARLIEST_YEAR} and {LATEST_YEAR}."


def validate_countable_day(day: date | None) -> None:
    """Refuse a day a report cannot count: its bounds (or the day after it, where a period stops) in the site's
    time zone would fall outside what Python's datetimes hold, and the page would fail."""
    if day is not None and not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
        raise ValidationError(DAY_OUT_OF_RANGE_MESSAGE, code="year_out_of_range")


NAIVE_DATETIME_MESSAGE = (
    "Include a UTC offset or Z, as in 2026-03-02T10:00:00Z: a time without one could be in any time zone."
)


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


def validate_aware_datetime(value: datetime | None) -> None:
    """Refuse a datetime without a UTC offset: the instant it names would be a guess (the server's time zone)."""
    if value is not None and timezone.is_naive(value):
        raise ValidationError(NAIVE_DATETIME_MESSAGE, code="naive_datetime")


class InstantField(serializers.DateTimeField):
    """A moment in time as the API takes it: ISO 8601 with a UTC offset or Z, within the years a page can show.

    DRF's own field reads a time without an offset in the server's time zone, silently; for input only (an
    output time is aware already).
    """

    default_error_messages = {"naive": NAIVE_DATETIME_MESSAGE}
    default_validators = [validate_storable_datetime]

    def enforce_timezone(self, value: datetime) -> datetime:
        # Every time DRF parses passes through here before it is made aware.
        if timezone.is_naive(value):
            self.fail("naive")
        return super().enforce_timezone(value)


class InstantFilterField(IsoDateTimeField):
    """A django-filter query parameter for a moment in time, checked as ``InstantField`` checks a body's."""

    def to_python(self, value: object) -> datetime | None:
        # Django's field makes a time without an offset aware in the server's zone: look at the text first.
        if isinstance(value, str):
            try:
                named = parse_datetime(value.strip())
            except ValueError:
                named = None  # not a time at all: the field's own check says so
            validate_aware_datetime(named)
        parsed = super().to_python(value)
        validate_storable_datetime(parsed)
        return parsed


class InstantFilter(django_filters.IsoDateTimeFilter):
    field_class = InstantFilterField
