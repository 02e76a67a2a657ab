"""A new lead's first touch is written by a plain UPDATE (``core.bulk``) and set on the lead in memory too."""

import pytest

from leads import services
from leads.models import ActivityKind, Lead
from leads.tests.factories import FIXED_NOW

pytestmark = pytest.mark.django_db

FIRST_TOUCH_FIELDS = (
    "first_touch_id",
    "first_touch_at",
    "first_touch_source",
    "first_touch_medium",
    "first_touch_campaign",
    "first_touch_channel",
    "last_touch_at",
)


def test_a_new_leads_capture_returns_the_lead_with_the_touch_values_its_row_holds() -> None:
    result = services.capture_lead(
        details=services.LeadDetails(email="ada@acme.example"),
        consent=None,
        touch=services.TouchDetails(source="newsletter", medium="email", campaign="spring"),
        activity_kind=ActivityKind.FORM_SUBMITTED,
        now=FIXED_NOW,
    )

    stored = Lead.objects.values(*FIRST_TOUCH_FIELDS).get(pk=result.lead.pk)
    assert {name: getattr(result.lead, name) for name in FIRST_TOUCH_FIELDS} == stored
    assert (stored["first_touch_source"], stored["last_touch_at"]) == ("newsletter", FIXED_NOW)
