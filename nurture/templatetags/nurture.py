"""``{% load nurture %}{% nurture_history lead %}``: a lead's nurture enrollments and emails, for the rep's lead page.

The handoff app may not import nurture; its lead page loads this tag library instead (a template library is
found by name when the template is compiled, so no Python module of handoff imports nurture).
"""

from __future__ import annotations

from typing import Any

from django import template

from leads.models import Lead
from nurture import selectors

register = template.Library()


@register.inclusion_tag("nurture/_history.html")
def nurture_history(lead: Lead) -> dict[str, Any]:
    return {"enrollments": selectors.lead_history(lead)}
