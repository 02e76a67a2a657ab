import pytest
from django.urls import reverse

from leads.models import Lead, Stage, StageChange
from leads.tests.factories import ActivityFactory, ConsentFactory, LeadFactory, UserFactory
from tests.personas import client_for

pytestmark = pytest.mark.django_db


def test_marketer_opens_the_lead_list(marketer: object) -> None:
    LeadFactory(email="ada@acme.example")

    response = client_for(marketer).get(reverse("admin:leads_lead_changelist"))

    assert response.status_code == 200
    assert b"ada@acme.example" in response.content


def test_lead_search_finds_by_company(marketer: object) -> None:
    LeadFactory(email="ada@acme.example", company_name="Acme")
    LeadFactory(email="bob@globex.example", company_name="Globex")

    response = client_for(marketer).get(reverse("admin:leads_lead_changelist"), {"q": "globex"})

    assert list(response.context["cl"].result_list) == [Lead.objects.get(email="bob@globex.example")]


def test_lead_page_shows_consents_and_activities_inline(marketer: object) -> None:
    lead = LeadFactory()
    ConsentFactory(lead=lead, text="Exact words shown on the form.")
    ActivityFactory(lead=lead)

    response = client_for(marketer).get(reverse("admin:leads_lead_change", args=[lead.pk]))

    html = response.content.decode()
    assert "Exact words shown on the form." in html
    assert "Webinar attended" in html


def test_lead_list_query_count_does_not_grow_with_rows(marketer: object, django_assert_max_num_queries: object) -> None:
    for _ in range(30):
        LeadFactory(owner=marketer)
    client = client_for(marketer)

    with django_assert_max_num_queries(15):  # type: ignore[operator]
        client.get(reverse("admin:leads_lead_changelist"))


def test_admin_action_moves_leads_through_the_stage_service(marketer: object) -> None:
    lead = LeadFactory(stage=Stage.NEW)

    client_for(marketer).post(
        reverse("admin:leads_lead_changelist"),
        {"action": "move_to_nurture", "_selected_action": [lead.pk]},
    )

    change = StageChange.objects.get(lead=lead)
    assert (change.to_stage, change.changed_by) == (Stage.NURTURE, marketer)


@pytest.mark.parametrize("action", ["move_to_nurture", "move_to_disqualified"])
def test_admin_action_leaves_a_lead_a_rep_owns(marketer: object, action: str) -> None:
    lead = LeadFactory(stage=Stage.MQL, owner=UserFactory(username="rep9"))

    response = client_for(marketer).post(
        reverse("admin:leads_lead_changelist"), {"action": action, "_selected_action": [lead.pk]}, follow=True
    )

    assert Lead.objects.get(pk=lead.pk).stage == Stage.MQL
    assert not StageChange.objects.filter(lead=lead).exists()
    assert "a sales rep owns them" in response.content.decode()


def test_admin_form_cannot_write_the_stage(marketer: object) -> None:
    lead = LeadFactory(stage=Stage.NEW)

    client_for(marketer).post(
        reverse("admin:leads_lead_change", args=[lead.pk]),
        {"email": lead.email, "stage": Stage.SQL, "custom_answers": "{}",
         **{f"{p}-TOTAL_FORMS": "0" for p in ("consents", "touches", "activities", "stage_changes")},
         **{f"{p}-INITIAL_FORMS": "0" for p in ("consents", "touches", "activities", "stage_changes")}},
    )  # fmt: skip

    lead.refresh_from_db()
    assert lead.stage == Stage.NEW


def test_admin_form_cannot_assign_the_lead(marketer: object) -> None:
    lead = LeadFactory(stage=Stage.MQL)

    response = client_for(marketer).post(
        reverse("admin:leads_lead_change", args=[lead.pk]),
        {"email": lead.email, "first_name": "Ada", "owner": marketer.pk, "custom_answers": "{}",  # type: ignore[attr-defined]
         **{f"{p}-TOTAL_FORMS": "0" for p in ("consents", "touches", "activities", "stage_changes")},
         **{f"{p}-INITIAL_FORMS": "0" for p in ("consents", "touches", "activities", "stage_changes")}},
    )  # fmt: skip

    lead.refresh_from_db()
    assert response.status_code == 302  # saved: the form took the other fields
    assert lead.owner_id is None


def test_lead_page_explains_the_score_rule_by_rule(marketer: object) -> None:
    lead = LeadFactory(
        score=72,
        score_breakdown=[
            {"name": "ICP industry", "points": 20, "reason": "Industry is Software (+20)"},
            {"name": "Webinar", "points": 12, "reason": "2 x webinar_attended in 30 days, decayed (+12)"},
        ],
    )

    response = client_for(marketer).get(reverse("admin:leads_lead_change", args=[lead.pk]))

    html = response.content.decode()
    assert "Industry is Software (+20)" in html
    assert "webinar_attended in 30 days" in html
