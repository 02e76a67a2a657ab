"""When a lead must be enriched again: what providers derived from a value is stale once the value changes.

A new job title makes the seniority and function read from the old one wrong; a new email address or
company domain makes the domain kind, website and the company's firmographics describe another firm.
``mark_for_enrichment`` is called wherever a lead's values are applied (``leads.services``), whatever
their source (a repeat submission, a confirmed double opt-in, an accepted proposed change, admin): it
clears what providers derived from the changed inputs and marks the lead pending, so the pipeline's
next run enriches and rescores it. Values a person, staff or an import set are never cleared here.
"""

from __future__ import annotations

from collections.abc import Iterable

from leads.models import EnrichmentStatus, Lead

_COMPANY_FACTS = ("industry", "employee_count", "size_band", "country")
# Each enrichment input, and the lead attributes providers derive from it.
DERIVED_FROM: dict[str, tuple[str, ...]] = {
    "job_title": ("seniority", "job_function"),
    "email": ("email_domain_kind", "company_domain", "website", *_COMPANY_FACTS),
    "company_domain": ("website", *_COMPANY_FACTS),
    # The directory and outside services look a company up by its name too (when the domain is free mail).
    "company_name": (),
}
ENRICHMENT_INPUTS = frozenset(DERIVED_FROM)


def mark_for_enrichment(lead: Lead, *, changed: Iterable[str]) -> list[str]:
    """Mark a saved ``lead`` for enrichment when ``changed`` (field names) holds an input; returns the columns set.

    Sets the attributes in memory only: the caller saves them with its own change, and then gives the
    lead to the pipeline (``leads.services.enqueue_pipeline``). A lead not saved yet is pending anyway.
    """
    inputs = ENRICHMENT_INPUTS.intersection(changed)
    if lead.pk is None or not inputs:
        return []
    columns = ["enrichment_status", "enrichment_attempts", "enrichment_retry_at"]
    sources, conflicts = dict(lead.enrichment_sources), dict(lead.enrichment_conflicts)
    stale = {name for field in inputs for name in DERIVED_FROM[field]} - set(changed)
    for name in sorted(stale):
        if name in sources:  # only what a provider set: a typed value stays
            setattr(lead, name, None if name == "employee_count" else "")
            del sources[name]
            columns.append(name)
        conflicts.pop(name, None)
    for name in inputs:
        conflicts.pop(name, None)  # the provider's disagreement was about the old value
    lead.enrichment_sources, lead.enrichment_conflicts = sources, conflicts
    # A fresh round: the retry schedule starts again for it.
    lead.enrichment_status, lead.enrichment_attempts, lead.enrichment_retry_at = EnrichmentStatus.PENDING, 0, None
    return [*columns, "enrichment_sources", "enrichment_conflicts"]
