"""Demo data for enrichment: a company directory for the demo companies, and the demo leads enriched.

Routing (the demo rules and where each lead goes) is handoff's, which owns teams (``handoff.demo``).
Idempotent.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from leads.enrichment import services as enrichment
from leads.models import CompanyDirectoryEntry, EnrichmentStatus, Lead

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# domain: (employees, industry as a directory vendor might spell it)
DIRECTORY = {
    "acme-analytics.example": (2500, "SaaS"),
    "borealis-logistics.example": (8000, "Logistics"),
    "cobalthealth.example": (12000, "Hospitals"),
    "deltafintech.example": (450, "Payments"),
    "evergreen-retail.example": (30000, "Retail"),
    "fjordsoftware.example": (120, "Software"),
    "granite-mfg.example": (3200, "Manufacturing"),
    "helixbio.example": (900, "Biotech"),
    "indigomedia.example": (60, "Media"),
    "junipercloud.example": (35, "SaaS"),
    "kestrelsec.example": (700, "Cybersecurity"),
    "lumen-energy.example": (5400, "Energy"),
    "meridian-ins.example": (15000, "Insurance"),
    "nimbus.example": (12, "Software"),
    "orbit-telecom.example": (22000, "Telecom"),
    "pioneer-edu.example": (300, "Education"),
}


def load_demo_enrichment(*, users: dict[str, User], now: datetime) -> str:
    """Fill the directory and enrich the demo leads still pending."""
    from leads.demo import COMPANIES

    names = {company.domain: company for company in COMPANIES}
    for domain, (employees, industry) in DIRECTORY.items():
        company = names.get(domain)
        CompanyDirectoryEntry.objects.update_or_create(
            domain=domain,
            defaults={"name": company.name if company else domain, "employee_count": employees,
                      "industry": industry, "country": company.country if company else ""},
        )  # fmt: skip
    pending = list(Lead.objects.filter(enrichment_status=EnrichmentStatus.PENDING).values_list("pk", flat=True))
    for lead_id in pending:
        enrichment.enrich_lead(lead_id=lead_id, now=now)
    return f"{len(DIRECTORY)} directory companies, {len(pending)} leads enriched"
