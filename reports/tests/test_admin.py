"""Admin for channel rules, spend (with its CSV import) and first-touch corrections."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from handoff.tests.factories import TeamFactory
from leads import attribution
from leads.models import ChannelRule
from leads.tests.factories import FIXED_NOW, LeadFactory
from reports.models import FirstTouchCorrection, Spend
from reports.tests.factories import Step, journey
from tests.personas import client_for

pytestmark = pytest.mark.django_db


def rule_form(**values: object) -> dict[str, object]:
    return {"order": "1", "channel": "podcast", "is_active": "on", "is_meaningful": "on", "mediums": "",
            "sources": "", "referrer_domains": "", **values}  # fmt: skip


def csv_upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("spend.csv", text.encode(), content_type="text/csv")


# --- Channel rules --------------------------------------------------------------------------------


def test_marketer_sees_the_channel_rules_with_their_conditions(marketer: User) -> None:
    response = client_for(marketer).get(reverse("admin:leads_channelrule_changelist"))

    assert response.status_code == 200
    assert b"medium in cpc, ppc" in response.content


def test_marketer_adds_a_rule_with_one_value_per_line(marketer: User) -> None:
    client_for(marketer).post(
        reverse("admin:leads_channelrule_add"), rule_form(mediums="Radio\n spotify-ads , audio-ad")
    )

    rule = ChannelRule.objects.get(order=1, channel="podcast")
    assert (rule.channel, rule.mediums) == ("podcast", ["radio", "spotify-ads", "audio-ad"])


def test_a_new_rule_classifies_the_next_touches(marketer: User) -> None:
    client_for(marketer).post(reverse("admin:leads_channelrule_add"), rule_form(order="0", mediums="radio"))

    touch = attribution.record_touch(lead=LeadFactory(), fields={"source": "bbc", "medium": "radio"}, now=FIXED_NOW)

    assert touch.channel == "podcast"


def test_a_rule_must_name_a_known_channel(marketer: User) -> None:
    response = client_for(marketer).post(reverse("admin:leads_channelrule_add"), rule_form(channel="carrier-pigeon"))

    assert response.status_code == 200
    assert not ChannelRule.objects.filter(channel="carrier-pigeon").exists()


def test_managers_may_read_but_not_change_channel_rules(manager: User) -> None:
    rule = ChannelRule.objects.first()
    client = client_for(manager)

    assert client.get(reverse("admin:leads_channelrule_changelist")).status_code == 200
    # The migrations seed the channel rules: first() is not None.
    response = client.post(reverse("admin:leads_channelrule_change", args=[rule.pk]), rule_form(channel="other"))  # type: ignore[union-attr]

    assert response.status_code == 403


def test_trying_the_rules_shows_the_channel_of_a_touch(marketer: User) -> None:
    response = client_for(marketer).get(reverse("admin:leads_channelrule_try"), {"referrer": "https://www.bing.com/"})

    assert b"Channel: <strong>Organic search</strong>" in response.content


# --- Spend ----------------------------------------------------------------------------------------


def test_marketer_imports_spend_from_csv(marketer: User) -> None:
    text = "month,source,campaign,amount,currency\n2026-03,google,brand-search,4200.00,EUR\n2026-03,podcast,,1500,EUR\n"

    response = client_for(marketer).post(reverse("admin:reports_spend_import"), {"file": csv_upload(text)})

    assert response.status_code == 302
    assert Spend.objects.count() == 2


def test_a_spend_file_with_a_bad_line_lists_it_and_imports_nothing(marketer: User) -> None:
    text = "month,source,campaign,amount\n2026-03,google,,4200\n2026-03,google,,lots\n"

    response = client_for(marketer).post(reverse("admin:reports_spend_import"), {"file": csv_upload(text)})

    assert response.status_code == 200
    assert "Line 3: amount &#x27;lots&#x27; is not a number" in response.content.decode()
    assert not Spend.objects.exists()


def test_a_spend_file_that_is_not_utf8_is_refused(marketer: User) -> None:
    upload = SimpleUploadedFile("spend.csv", "month,source,amount\n2026-03,café,1\n".encode("utf-16"))

    response = client_for(marketer).post(reverse("admin:reports_spend_import"), {"file": upload})

    assert b"not UTF-8" in response.content
    assert not Spend.objects.exists()


def test_managers_cannot_import_spend(manager: User) -> None:
    response = client_for(manager).get(reverse("admin:reports_spend_import"))

    assert response.status_code == 403


def test_spend_entered_in_admin_must_be_for_the_first_of_a_month(marketer: User) -> None:
    response = client_for(marketer).post(
        reverse("admin:reports_spend_add"),
        {"source": "google", "campaign": "", "month": "2026-03-15", "amount": "10", "currency": "EUR"},
    )

    assert response.status_code == 200
    assert b"Give the first day of the month." in response.content
    assert not Spend.objects.filter(month=date(2026, 3, 15)).exists()


def test_spend_entered_in_admin_is_saved(marketer: User) -> None:
    client_for(marketer).post(
        reverse("admin:reports_spend_add"),
        {"source": "google", "campaign": "", "month": "2026-03-01", "amount": "10.50", "currency": "EUR"},
    )

    assert Spend.objects.values_list("amount", flat=True).get() == Decimal("10.50")


# --- First-touch corrections ----------------------------------------------------------------------

MANAGED = "mid-market"


@pytest.fixture(autouse=True)
def _manager_runs_a_team(manager: User) -> None:
    """Managers correct their own teams' leads: the ``manager`` runs the team these leads are routed to."""
    TeamFactory(slug=MANAGED).managers.add(manager)


def test_manager_corrects_a_first_touch_in_admin(manager: User) -> None:
    lead = journey(Step("cpc", source="google"), Step("podcast", 24, source="b2b-growth-podcast"), routing_team=MANAGED)
    podcast = lead.touches.get(medium="podcast")

    response = client_for(manager).post(
        f"{reverse('admin:reports_firsttouchcorrection_add')}?lead={lead.pk}",
        {"touch": podcast.pk, "reason": "Heard the episode, says the rep's notes"},
    )

    assert response.status_code == 302
    record = FirstTouchCorrection.objects.get()
    assert (record.lead, record.corrected_by, record.channel) == (lead, manager, "podcast")


def test_manager_enters_a_touch_no_tracking_saw(manager: User) -> None:
    lead = journey(Step("cpc", source="google"), routing_team=MANAGED)

    client_for(manager).post(
        f"{reverse('admin:reports_firsttouchcorrection_add')}?lead={lead.email}",
        {"channel": "podcast", "source": "b2b-growth-podcast", "reason": "Told us on the call"},
    )

    lead.refresh_from_db()
    assert (lead.first_touch_channel, lead.first_touch_source) == ("podcast", "b2b-growth-podcast")


def test_the_correction_form_needs_a_touch_or_a_channel(manager: User) -> None:
    lead = journey(Step("cpc", source="google"), routing_team=MANAGED)

    response = client_for(manager).post(
        f"{reverse('admin:reports_firsttouchcorrection_add')}?lead={lead.pk}", {"reason": "Because"}
    )

    assert response.status_code == 200
    assert b"Choose one of the lead" in response.content
    assert not FirstTouchCorrection.objects.exists()


def test_the_correction_page_asks_for_the_lead_first(manager: User) -> None:
    response = client_for(manager).get(reverse("admin:reports_firsttouchcorrection_add"), {"lead": "nobody@x.example"})

    assert response.status_code == 200
    assert b"No lead has the id or email" in response.content


@pytest.mark.parametrize("query", ["²", "99999999999999999999999"])
def test_a_lead_query_of_odd_digits_asks_for_the_lead_again(manager: User, query: str) -> None:
    response = client_for(manager).get(reverse("admin:reports_firsttouchcorrection_add"), {"lead": query})

    assert response.status_code == 200
    assert "No lead" in response.content.decode()


def test_a_manager_cannot_correct_another_teams_lead(manager: User) -> None:
    lead = journey(Step("cpc", source="google"), routing_team="enterprise")

    response = client_for(manager).post(
        f"{reverse('admin:reports_firsttouchcorrection_add')}?lead={lead.pk}",
        {"channel": "podcast", "reason": "Told us on the call"},
    )

    assert response.status_code == 200  # the "which lead?" page: this one is not theirs to find
    assert not FirstTouchCorrection.objects.exists()


def test_a_manager_lists_only_the_corrections_of_their_teams_leads(manager: User) -> None:
    ours = journey(Step("cpc", source="google"), routing_team=MANAGED, email="ours@acme.example")
    theirs = journey(Step("cpc", source="google"), routing_team="enterprise", email="theirs@acme.example")
    for lead in (ours, theirs):
        FirstTouchCorrection.objects.create(
            lead=lead, channel="podcast", reason="x", corrected_at=FIXED_NOW, touched_at=FIXED_NOW, corrected_by=manager
        )

    response = client_for(manager).get(reverse("admin:reports_firsttouchcorrection_changelist"))

    assert list(response.context["cl"].result_list.values_list("lead", flat=True)) == [ours.pk]


def test_marketers_cannot_correct_a_first_touch(marketer: User) -> None:
    lead = journey(Step("cpc", source="google"))

    response = client_for(marketer).get(f"{reverse('admin:reports_firsttouchcorrection_add')}?lead={lead.pk}")

    assert response.status_code == 403


def test_corrections_can_be_read_but_never_deleted(manager: User) -> None:
    lead = journey(Step("cpc", source="google"), Step("podcast", 24), routing_team=MANAGED)
    client = client_for(manager)
    client.post(
        f"{reverse('admin:reports_firsttouchcorrection_add')}?lead={lead.pk}",
        {"touch": lead.touches.get(medium="podcast").pk, "reason": "Because"},
    )
    record = FirstTouchCorrection.objects.get()

    assert client.get(reverse("admin:reports_firsttouchcorrection_changelist")).status_code == 200
    assert client.post(reverse("admin:reports_firsttouchcorrection_delete", args=[record.pk])).status_code == 403


def test_a_correction_with_a_utc_offset_the_database_cannot_store_is_a_form_error(manager: User) -> None:
    lead = journey(Step("cpc", source="google"), routing_team=MANAGED)

    response = client_for(manager).post(
        f"{reverse('admin:reports_firsttouchcorrection_add')}?lead={lead.pk}",
        {"channel": "podcast", "occurred_at": "2026-03-01T10:00:00+16:00", "reason": "Told us on the call"},
    )

    assert response.status_code == 200
    assert b"Give a UTC offset between -15:59 and +15:59." in response.content
    assert not FirstTouchCorrection.objects.exists()
