"""The rep's lead page shows what a submission proposed to change, and its owner (or a marketer) accepts or
dismisses each in one click: POST /inbox/lead/<id>/changes/<change id>/accept/ and .../dismiss/."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from handoff.models import Assignment
from leads import services
from leads.models import ActivityKind, Lead, ProposedChange, ProposedChangeStatus
from leads.tests.factories import LeadFactory
from tests.personas import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def change(assignment: Assignment, now: datetime) -> ProposedChange:
    """Someone sent a form with the assigned lead's email, saying its company is "Evil Corp" (it is "Acme")."""
    services.capture_lead(
        details=services.LeadDetails(email=assignment.lead.email.upper(), company_name="Evil Corp"),
        consent=None,
        activity_kind=ActivityKind.FORM_SUBMITTED,
        now=now + timedelta(hours=1),
    )
    return ProposedChange.objects.get()


def url(change: ProposedChange, decision: str) -> str:
    return reverse(f"handoff:{decision}_change", args=[change.lead_id, change.pk])


def company_of(change: ProposedChange) -> str:
    return Lead.objects.get(pk=change.lead_id).company_name


def messages_of(response: object) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]  # type: ignore[attr-defined]


# --- The page ------------------------------------------------------------------------------------


def test_the_lead_page_shows_the_proposed_change_beside_the_current_value(change: ProposedChange, rep: object) -> None:
    html = client_for(rep).get(reverse("handoff:lead", args=[change.lead_id])).content.decode()

    assert 'data-testid="proposed-change"' in html
    assert "Company name</strong>: Acme → <strong>Evil Corp</strong>" in html
    assert url(change, "accept") in html
    assert url(change, "dismiss") in html


def test_the_lead_page_offers_the_buttons_only_to_who_may_decide(change: ProposedChange, manager: object) -> None:
    html = client_for(manager).get(reverse("handoff:lead", args=[change.lead_id])).content.decode()

    assert "Evil Corp" in html
    assert url(change, "accept") not in html


def test_the_lead_page_shows_no_decided_change(change: ProposedChange, rep: object) -> None:
    services.dismiss_proposed_change(change=change, by=rep, now=change.created_at)  # type: ignore[arg-type]

    html = client_for(rep).get(reverse("handoff:lead", args=[change.lead_id])).content.decode()

    assert "Evil Corp" not in html


# --- Accept and dismiss ----------------------------------------------------------------------------


def test_accepting_applies_the_value_and_records_staff_as_its_source(change: ProposedChange, rep: object) -> None:
    response = client_for(rep).post(url(change, "accept"))

    assert response.status_code == 302
    assert response["Location"] == reverse("handoff:lead", args=[change.lead_id])
    lead = Lead.objects.get(pk=change.lead_id)
    assert lead.company_name == "Evil Corp"
    assert (lead.field_sources["company_name"]["source"], lead.field_sources["company_name"]["by"]) == (
        "staff",
        rep.pk,  # type: ignore[attr-defined]
    )
    change.refresh_from_db()
    assert (change.status, change.decided_by) == (ProposedChangeStatus.ACCEPTED, rep)


def test_dismissing_leaves_the_value(change: ProposedChange, rep: object) -> None:
    response = client_for(rep).post(url(change, "dismiss"))

    assert response.status_code == 302
    assert company_of(change) == "Acme"
    change.refresh_from_db()
    assert (change.status, change.decided_by) == (ProposedChangeStatus.DISMISSED, rep)


def test_a_second_click_is_told_the_change_was_decided(change: ProposedChange, rep: object) -> None:
    client = client_for(rep)
    client.post(url(change, "dismiss"))

    response = client.post(url(change, "accept"))

    assert "This change was already accepted or dismissed." in messages_of(response)
    assert company_of(change) == "Acme"


def test_a_marketer_may_accept_and_goes_back_to_the_lead_in_admin(change: ProposedChange, marketer: object) -> None:
    response = client_for(marketer).post(url(change, "accept"))

    assert response["Location"] == reverse("admin:leads_lead_change", args=[change.lead_id])
    assert company_of(change) == "Evil Corp"


def test_accept_refuses_get(change: ProposedChange, rep: object) -> None:
    response = client_for(rep).get(url(change, "accept"))

    assert response.status_code == 405
    assert company_of(change) == "Acme"


def test_anonymous_users_are_sent_to_sign_in(change: ProposedChange) -> None:
    response = Client().post(url(change, "accept"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert company_of(change) == "Acme"


def test_another_reps_lead_is_not_found(change: ProposedChange, other_rep: object) -> None:
    response = client_for(other_rep).post(url(change, "accept"))

    assert response.status_code == 404
    assert company_of(change) == "Acme"


def test_a_manager_who_does_not_own_the_lead_cannot_decide(change: ProposedChange, manager: object) -> None:
    response = client_for(manager).post(url(change, "dismiss"))

    assert response.status_code == 404
    assert ProposedChange.objects.get().status == ProposedChangeStatus.OPEN


def test_a_change_posted_under_another_lead_is_not_found(change: ProposedChange, rep: object) -> None:
    mine = LeadFactory(owner=rep)

    response = client_for(rep).post(reverse("handoff:accept_change", args=[mine.pk, change.pk]))

    assert response.status_code == 404
    assert company_of(change) == "Acme"


def test_the_lead_page_asks_no_query_per_proposed_change(change: ProposedChange, rep: object, now: datetime) -> None:
    client = client_for(rep)
    with CaptureQueriesContext(connection) as one_change:
        client.get(reverse("handoff:lead", args=[change.lead_id]))
    for title in ("Student", "Intern", "Evil Overlord"):
        services.capture_lead(
            details=services.LeadDetails(email=change.lead.email, job_title=title, custom_answers={"seats": title}),
            consent=None,
            activity_kind=ActivityKind.FORM_SUBMITTED,
            now=now + timedelta(hours=2),
        )

    with CaptureQueriesContext(connection) as six_changes:
        client.get(reverse("handoff:lead", args=[change.lead_id]))

    assert ProposedChange.objects.count() == 6  # the first "seats" was new: added, not proposed
    assert len(six_changes) == len(one_change)
