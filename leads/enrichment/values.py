"""What a provider may put on a lead: the checks a typed value gets, applied to every provider's answer.

A provider's answer is outside input like a visitor's: a website is an http(s) address (never
``javascript:``), text fits its column, a seniority, job function, domain kind or country is one the app
knows, and a head count is a whole number the column can hold. A value that fails is left out, never cut
or guessed at. Industry and size band are free text here: enrichment maps them onto the admin-edited
lists afterwards (``leads.enrichment.services``).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django_countries import countries

from leads.enrichment.domains import DomainKind, normalise_domain
from leads.enrichment.providers import ENRICHABLE_FIELDS
from leads.enrichment.titles import JobFunction, Seniority
from leads.models import Lead

MAX_EMPLOYEE_COUNT = 2**31 - 1  # PositiveIntegerField on every database
CHOICES: dict[str, frozenset[str]] = {
    "seniority": frozenset(member.value for member in Seniority),
    "job_function": frozenset(member.value for member in JobFunction),
    "email_domain_kind": frozenset(member.value for member in DomainKind),
    "country": frozenset(countries.countries),  # ISO 3166-1 alpha-2 codes
}
_WEBSITE = URLValidator(schemes=["http", "https"])


class RefusedValue(ValueError):
    """A provider's value the lead cannot take; the message says why, for the log."""


def clean_value(name: str, value: object) -> object:
    """``value`` as the lead attribute ``name`` may hold it; raises ``RefusedValue`` otherwise (also for a name that is
    no attribute a provider may set: a provider plugin's answer is outside input, like its values)."""
    if name not in ENRICHABLE_FIELDS:
        raise RefusedValue("not a lead attribute a provider may set")
    if name == "employee_count":
        return _clean_count(value)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise RefusedValue(f"{type(value).__name__} is not text")
    text = str(value).strip()
    if not text or "\x00" in text:
        raise RefusedValue("empty, or holds a null character")
    column = Lead._meta.get_field(name)
    assert isinstance(column, models.Field), f"Lead.{name} is a column"
    limit = column.max_length
    if limit is not None and len(text) > limit:
        raise RefusedValue(f"longer than the {limit} characters the field holds")
    return _clean_text(name, text)


def _clean_count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise RefusedValue(f"{type(value).__name__} is not a head count")
    try:
        count = int(value)
    except (TypeError, ValueError, OverflowError) as error:  # "1k-5k" is no head count: better none than a guess
        raise RefusedValue("not a whole number") from error
    if not 0 <= count <= MAX_EMPLOYEE_COUNT:
        raise RefusedValue("out of range")
    return count


def _clean_text(name: str, text: str) -> str:
    if name == "website":
        try:
            _WEBSITE(text)
        except ValidationError as error:
            raise RefusedValue("not an http(s) address") from error
        return text
    if name == "company_domain":
        domain = normalise_domain(text)
        if domain is None:
            raise RefusedValue("not a domain name")
        return domain
    if name == "country":
        text = text.upper()
    if name in CHOICES and text not in CHOICES[name]:
        raise RefusedValue("not one of the known values")
    return text
