"""Baseline qualification: the lead attributes a scoring model requires before a lead may become an MQL.

A lead whose score crosses the MQL threshold but lacks one of them stays where it is and shows up in
admin under "MQL — missing fields" (``selectors.leads_missing_mql_fields``) for marketing to complete.
The same definition gives the check scoring makes (``missing_fields``) and the ``Q`` that lists the
held leads in admin (``missing_q``).

Besides the fields a marketer picks, one requirement always applies (``ALWAYS_REQUIRED``): a usable
consent. A lead whose every consent is pending double opt-in or withdrawn must not be handed to sales,
whatever its score; it waits in the same list, and confirming the consent sends it on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db.models import Q

from leads.models import Lead, usable_consent_q


@dataclass(frozen=True)
class BaselineField:
    """One attribute a marketer can require; present when any of `lead_fields` is not blank."""

    name: str
    label: str
    lead_fields: tuple[str, ...]


BASELINE_FIELDS: dict[str, BaselineField] = {
    field.name: field
    for field in (
        BaselineField("first_name", "First name", ("first_name",)),
        BaselineField("last_name", "Last name", ("last_name",)),
        BaselineField("company_name", "Company name", ("company_name",)),
        BaselineField("company_domain", "Company domain", ("company_domain",)),
        BaselineField("email_or_phone", "A direct channel (email or phone)", ("email", "phone")),
        BaselineField("job_title", "Job title", ("job_title",)),
        BaselineField("country", "Country", ("country",)),
        BaselineField("industry", "Industry", ("industry",)),
    )
}
DEFAULT_BASELINE_FIELDS = ("first_name", "last_name", "company_name", "email_or_phone", "job_title", "country")

# Not a lead attribute and not a marketer's choice: no lead is passed to sales without a lawful basis.
CONSENT = BaselineField("usable_consent", "A usable consent (double opt-in confirmed, not withdrawn)", ())
ALWAYS_REQUIRED = (CONSENT.name,)
ALL_FIELDS: dict[str, BaselineField] = {**BASELINE_FIELDS, CONSENT.name: CONSENT}


def required(chosen: Iterable[str]) -> tuple[str, ...]:
    """What a lead needs to become an MQL: the model's chosen fields, then what is always required."""
    return tuple(dict.fromkeys([*chosen, *ALWAYS_REQUIRED]))


def baseline_choices() -> list[tuple[str, str]]:
    return [(field.name, field.label) for field in BASELINE_FIELDS.values()]


def missing_fields(lead: Lead, names: Iterable[str]) -> list[str]:
    """The labels of the requirements this lead lacks, in the order given.

    `lead` may also be a row of the lead's columns read the same way, with ``has_usable_consent``
    among them (scoring reads rows, see ``lead_scoring.score_rows``).
    """
    return [ALL_FIELDS[name].label for name in names if not _has(lead, ALL_FIELDS[name])]


def missing_q(names: Iterable[str]) -> Q:
    """Leads that lack at least one of these requirements (no lead when none is required)."""
    conditions = [~_present(ALL_FIELDS[name]) for name in names]
    return reduce(or_, conditions) if conditions else Q(pk__in=[])


def _has(lead: Lead, field: BaselineField) -> bool:
    if field is CONSENT:
        return lead.has_usable_consent
    return any(getattr(lead, attr) not in (None, "") for attr in field.lead_fields)


def _present(field: BaselineField) -> Q:
    if field is CONSENT:
        return usable_consent_q()
    # NULL (a phone-only lead's email) and "" both count as missing, as in missing_fields().
    return reduce(or_, (Q(**{f"{attr}__isnull": False}) & ~Q(**{attr: ""}) for attr in field.lead_fields))
