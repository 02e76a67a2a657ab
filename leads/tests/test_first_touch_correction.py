"""The leads side of a first-touch correction: crediting another touch, and keeping it against later touches.

Who may correct, and the record of the correction, live in the reports app
(``reports.services.correct_first_touch``, tested in reports/tests/test_services.py).
"""

from datetime import timedelta

import pytest

from leads import attribution
from leads.models import Lead, Touch
from leads.tests.factories import FIXED_NOW, LeadFactory

pytestmark = pytest.mark.django_db


def touch(lead: Lead, when: object = FIXED_NOW, **fields: str) -> Touch:
    return attribution.record_touch(lead=lead, fields=fields, now=when)  # type: ignore[arg-type]


def test_crediting_a_touch_replaces_the_first_touch() -> None:
    lead = LeadFactory()
    touch(lead, source="google", medium="cpc")
    podcast = touch(
        lead, FIXED_NOW + timedelta(days=1), source="b2b-growth-podcast", medium="podcast", campaign="ep-42"
    )

    attribution.credit_first_touch(lead=lead, touch=podcast)

    lead.refresh_from_db()
    assert (lead.first_touch, lead.first_touch_channel, lead.first_touch_source, lead.first_touch_campaign) == (
        podcast,
        "podcast",
        "b2b-growth-podcast",
        "ep-42",
    )
    assert lead.first_touch_at == FIXED_NOW + timedelta(days=1)


def test_a_later_touch_never_replaces_a_corrected_first_touch() -> None:
    lead = LeadFactory()
    podcast = touch(lead, source="b2b-growth-podcast", medium="podcast")
    attribution.credit_first_touch(lead=lead, touch=podcast)

    touch(lead, FIXED_NOW + timedelta(days=2), source="google", medium="cpc")

    lead.refresh_from_db()
    assert lead.first_touch == podcast


def test_a_touch_entered_as_meaningful_counts_even_when_its_rule_says_not() -> None:
    lead = LeadFactory()

    bare = attribution.record_touch(lead=lead, fields={"channel": "podcast"}, now=FIXED_NOW, is_meaningful=True)

    lead.refresh_from_db()
    assert bare.is_meaningful is True
    assert (lead.first_touch, lead.first_touch_channel) == (bare, "podcast")


def test_an_older_touch_does_not_move_the_last_touch_back() -> None:
    lead = LeadFactory()
    touch(lead, FIXED_NOW, source="google", medium="cpc")

    touch(lead, FIXED_NOW - timedelta(days=5), source="b2b-growth-podcast", medium="podcast")

    lead.refresh_from_db()
    assert lead.last_touch_at == FIXED_NOW
