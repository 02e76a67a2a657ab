from datetime import timedelta

import pytest

from leads import services
from leads.models import ActivityKind, ChannelRule, Lead, Touch
from leads.tests.factories import FIXED_NOW

pytestmark = pytest.mark.django_db


def capture_with_touch(when: object = FIXED_NOW, **touch: str) -> Lead:
    result = services.capture_lead(
        details=services.LeadDetails(email="ada@acme.example"),
        consent=None,
        activity_kind=ActivityKind.FORM_SUBMITTED,
        touch=services.TouchDetails(**touch),
        now=when,  # type: ignore[arg-type]
    )
    return Lead.objects.get(pk=result.lead.pk)


def test_touch_gets_its_channel_from_the_channel_rules() -> None:
    capture_with_touch(source="google", medium="cpc", campaign="brand")

    assert Touch.objects.get().channel == "paid_search"


def test_first_meaningful_touch_is_denormalised_on_the_lead() -> None:
    lead = capture_with_touch(source="b2b-growth-podcast", medium="podcast", campaign="ep-42")

    assert (lead.first_touch_source, lead.first_touch_medium, lead.first_touch_campaign, lead.first_touch_channel) == (
        "b2b-growth-podcast",
        "podcast",
        "ep-42",
        "podcast",
    )
    assert lead.first_touch_at == FIXED_NOW


def test_later_touches_never_change_the_first_touch() -> None:
    capture_with_touch(source="b2b-growth-podcast", medium="podcast")

    lead = capture_with_touch(FIXED_NOW + timedelta(days=3), source="google", medium="cpc")

    assert lead.first_touch_channel == "podcast"
    assert lead.last_touch_at == FIXED_NOW + timedelta(days=3)
    assert Touch.objects.filter(lead=lead).count() == 2


def test_a_bare_direct_visit_does_not_count_as_the_first_touch() -> None:
    capture_with_touch()

    lead = capture_with_touch(FIXED_NOW + timedelta(days=1), source="linkedin", medium="paid_social")

    assert lead.first_touch_channel == "paid_social"
    assert lead.first_touch_at == FIXED_NOW + timedelta(days=1)


def test_a_direct_visit_counts_when_the_rule_says_it_is_meaningful() -> None:
    ChannelRule.objects.filter(channel="direct").update(is_meaningful=True)

    lead = capture_with_touch()

    assert lead.first_touch_channel == "direct"


def test_organic_search_first_touch_takes_the_search_engine_as_source() -> None:
    lead = capture_with_touch(referrer="https://www.google.com/search?q=lead+software")

    assert (lead.first_touch_channel, lead.first_touch_source) == ("organic_search", "google.com")


def test_an_inactive_channel_rule_is_skipped() -> None:
    for rule in ChannelRule.objects.filter(channel="paid_search"):
        rule.is_active = False
        rule.save(update_fields=["is_active"])

    capture_with_touch(source="google", medium="cpc")

    assert Touch.objects.get().channel == "other"
