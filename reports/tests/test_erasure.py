"""A data subject request reaches the reasons managers typed when correcting a lead's first touch.

The whole request (every app, in one transaction): integrations/tests/test_privacy.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User

from leads.models import Lead
from reports import services
from reports.models import FirstTouchCorrection
from reports.tests.factories import FIXED_NOW, Step, journey

pytestmark = pytest.mark.django_db

LATER = FIXED_NOW + timedelta(days=3)


@pytest.fixture
def corrected(manager: User) -> Lead:
    """A lead a manager credited to the podcast, with a reason that names the person."""
    lead = journey(Step("cpc", source="google"), Step("podcast", 24, source="b2b-growth-podcast"))
    podcast = lead.touches.get(medium="podcast")
    services.correct_first_touch(lead=lead, touch=podcast, by=manager, reason="Ada said so on the call", now=LATER)
    return lead


def test_export_holds_the_first_touch_corrections_and_their_reasons(corrected: Lead) -> None:
    data = services.lead_personal_data(lead=corrected)

    # lead_personal_data is typed dict[str, object] (JSON for the export); here we read its known shape.
    [correction] = data["reports"]["first_touch_corrections"]  # type: ignore[index]
    assert (correction["reason"], correction["source"]) == ("Ada said so on the call", "b2b-growth-podcast")


def test_erase_blanks_the_correction_reason_and_keeps_the_correction(corrected: Lead) -> None:
    services.erase_lead_personal_data(lead_id=corrected.pk, now=corrected.created_at)

    correction = FirstTouchCorrection.objects.get(lead=corrected)
    assert (correction.reason, correction.source) == (services.ERASED_REASON, "b2b-growth-podcast")
