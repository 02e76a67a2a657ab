"""``{% enrichment_provenance lead %}``: which provider set each value of the lead, and what was not kept."""

from typing import Any

from django import template

from leads.enrichment.provenance import enriched_values
from leads.models import Lead

register = template.Library()


@register.inclusion_tag("leads/_enrichment_provenance.html")
def enrichment_provenance(lead: Lead) -> dict[str, Any]:
    return {"values": enriched_values(lead)}
