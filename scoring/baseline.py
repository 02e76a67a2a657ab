"""Baseline qualification: the lead attributes a scoring model requires before a lead may become an MQL.

A lead whose score crosses the MQL threshold but lacks one of them stays where it is and shows up in
admin under "MQL — missing fields" (``selectors.leads_missing_mql_fields``) for marketing to complete.
The same definition gives a Python check (one lead, ``score_lead``) and a ``Q`` (bulk rescoring and
the what-if preview), so both agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce
from operator import and_, or_

from django.db.models import Q

from leads.models import Lead


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


def baseline_choices() -> list[tuple[str, str]]:
    return [(field.name, field.label) for field in BASELINE_FIELDS.values()]


def missing_fields(lead: Lead, names: Iterable[str]) -> list[str]:
    """The labels of the required attributes this lead lacks, in the order given."""
    return [
        BASELINE_FIELDS[name].label
        for name in names
        if not any(getattr(lead, attr) not in (None, "") for attr in BASELINE_FIELDS[name].lead_fields)
    ]


def present_q(names: Iterable[str]) -> Q:
    """Leads that have every one of these attributes (all leads when none is required)."""
    return reduce(and_, (_present(BASELINE_FIELDS[name]) for name in names), Q())


def missing_q(names: Iterable[str]) -> Q:
    """Leads that lack at least one of these attributes (no lead when none is required)."""
    conditions = [~_present(BASELINE_FIELDS[name]) for name in names]
    return reduce(or_, conditions) if conditions else Q(pk__in=[])


def _present(field: BaselineField) -> Q:
    # NULL (a phone-only lead's email) and "" both count as missing, as in missing_fields().
    return reduce(or_, (Q(**{f"{attr}__isnull": False}) & ~Q(**{attr: ""}) for attr in field.lead_fields))
