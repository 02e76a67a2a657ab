"""The merge policy where strangers reach it: the public form (POST /f/<slug>/) and POST /api/submissions/.

Anyone may send any email address, so a submission never replaces what is known about an existing lead: it
fills what is empty, adds new answers, and leaves each differing value as a proposed change for the rep or a
marketer. Only the person, by confirming through the email we sent, may replace what they typed before.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations.models import ApiKeyScope
from integrations.tests.factories import ApiKeyFactory, api_headers
from leads import merge, services, tokens
from leads.models import (
    ActivityKind,
    CaptureForm,
    FieldKind,
    Lead,
    ProposedChange,
    ProposedChangeStatus,
    Stage,
    Submission,
)
from leads.tests.factories import (
    CaptureFormFactory,
    ConsentFactory,
    ConsentTextFactory,
    FormFieldFactory,
    LeadFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

HUMAN_PAUSE = timedelta(seconds=20)
KNOWN = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "company_name": "Acme",
    "job_title": "Head of Marketing",
    "phone": "+442071838750",
    "country": "GB",
}
# What the review's attacker sent: the lead's email in other capitals, and everything else their own.
ATTACK = {
    "email": "ADA@Acme.Example",
    "first_name": "Eve",
    "last_name": "Mallory",
    "company_name": "Evil Corp",
    "job_title": "Student",
    "phone": "+1 202 555 0143",
    "country": "US",
}
ATTACK_STORED = {**ATTACK, "phone": "+12025550143"}
del ATTACK_STORED["email"]


def _contact_form(slug: str, *, is_double_opt_in: bool = False) -> CaptureForm:
    form = CaptureFormFactory(slug=slug, is_double_opt_in=is_double_opt_in)
    fields = [
        ("first_name", FieldKind.TEXT),
        ("last_name", FieldKind.TEXT),
        ("email", FieldKind.EMAIL),
        ("company_name", FieldKind.TEXT),
        ("job_title", FieldKind.TEXT),
        ("phone", FieldKind.PHONE),
        ("country", FieldKind.COUNTRY),
    ]
    for order, (attribute, kind) in enumerate(fields):
        FormFieldFactory(form=form, order=order, label=attribute, kind=kind, lead_attribute=attribute)
    FormFieldFactory(form=form, order=9, label="Team size", lead_attribute="", answer_key="team_size")
    form.fields.filter(lead_attribute="email").update(is_required=True)
    ConsentTextFactory(form=form, version=1, text="Yes, Acme may email me about its products.")
    return form


@pytest.fixture
def contact_form() -> CaptureForm:
    return _contact_form("contact-us")


@pytest.fixture
def double_opt_in_form() -> CaptureForm:
    return _contact_form("webinar", is_double_opt_in=True)


@pytest.fixture
def sql_lead(rep: object) -> Lead:
    """rep1's lead at stage SQL with score 90, everything typed by the person on an earlier form."""
    return LeadFactory(email="ada@acme.example", owner=rep, stage=Stage.SQL, score=90, **KNOWN)


def post_form(form: CaptureForm, clock: time_machine.Traveller, **answers: str) -> Any:
    """A visitor opens the public form, waits like a person, and sends it with the consent box ticked."""
    client = Client()
    page = client.get(reverse("leads:form", args=[form.slug]))
    clock.shift(HUMAN_PAUSE)
    data = {"token": page.context["token"], **page.context["attribution"], "consent": "on", **answers}
    response = client.post(reverse("leads:form", args=[form.slug]), data)
    assert response.status_code == 200, response.content
    return response


def post_api(form: CaptureForm, **answers: str) -> Any:
    api_key = ApiKeyFactory(scope=ApiKeyScope.CAPTURE)
    body = {"form": form.slug, "answers": answers, "consent": {"given": True}}
    response = Client().post("/api/submissions/", body, content_type="application/json", headers=api_headers(api_key))
    assert response.status_code == 201, response.content
    return response


def known_values(lead: Lead) -> dict[str, str]:
    lead.refresh_from_db()
    return {name: getattr(lead, name) for name in KNOWN}


def open_proposals(lead: Lead) -> dict[str, Any]:
    changes = ProposedChange.objects.filter(lead=lead, status=ProposedChangeStatus.OPEN)
    return {change.field: change.value for change in changes}


# --- A stranger's submission -----------------------------------------------------------------------


def test_a_public_form_with_a_known_email_in_other_capitals_changes_none_of_the_leads_values(
    contact_form: CaptureForm, sql_lead: Lead, clock: time_machine.Traveller
) -> None:
    post_form(contact_form, clock, **ATTACK)

    assert known_values(sql_lead) == KNOWN


def test_a_public_form_moves_neither_owner_stage_nor_score(
    contact_form: CaptureForm, sql_lead: Lead, rep: object, clock: time_machine.Traveller
) -> None:
    post_form(contact_form, clock, **ATTACK)

    sql_lead.refresh_from_db()
    assert (sql_lead.owner, sql_lead.stage, sql_lead.score) == (rep, Stage.SQL, 90)


def test_a_public_form_keeps_each_differing_value_as_a_proposed_change_on_its_submission(
    contact_form: CaptureForm, sql_lead: Lead, clock: time_machine.Traveller
) -> None:
    post_form(contact_form, clock, **ATTACK)

    assert open_proposals(sql_lead) == ATTACK_STORED
    submission = Submission.objects.get()
    assert set(ProposedChange.objects.values_list("submission", flat=True)) == {submission.pk}


def test_the_api_with_a_known_email_changes_no_value_and_proposes_the_differing_ones(
    contact_form: CaptureForm, sql_lead: Lead
) -> None:
    post_api(contact_form, **ATTACK)

    assert known_values(sql_lead) == KNOWN
    assert open_proposals(sql_lead) == ATTACK_STORED


def test_a_public_form_fills_empty_values_and_adds_new_answers(
    contact_form: CaptureForm, clock: time_machine.Traveller
) -> None:
    lead = LeadFactory(email="ada@acme.example", job_title="", phone="", custom_answers={"budget": "10k"})

    post_form(contact_form, clock, email="ada@acme.example", job_title="CTO", phone="+44 20 7183 8750",
              team_size="11-50")  # fmt: skip

    lead.refresh_from_db()
    assert (lead.job_title, lead.phone) == ("CTO", "+442071838750")
    assert lead.custom_answers == {"budget": "10k", "team_size": "11-50"}
    assert lead.field_sources["job_title"]["source"] == "person"


def test_a_public_form_does_not_replace_an_answer_given_before(
    contact_form: CaptureForm, clock: time_machine.Traveller
) -> None:
    lead = LeadFactory(email="ada@acme.example", custom_answers={"team_size": "1-10"})

    post_form(contact_form, clock, email="ada@acme.example", team_size="51+")

    lead.refresh_from_db()
    assert lead.custom_answers == {"team_size": "1-10"}
    assert open_proposals(lead) == {"custom_answers.team_size": "51+"}


def test_the_same_differing_value_sent_twice_is_proposed_once(
    contact_form: CaptureForm, sql_lead: Lead, clock: time_machine.Traveller
) -> None:
    post_form(contact_form, clock, email="ada@acme.example", company_name="Evil Corp")

    post_form(contact_form, clock, email="ada@acme.example", company_name="Evil Corp")

    assert ProposedChange.objects.filter(lead=sql_lead).count() == 1


def test_a_new_lead_records_the_person_as_the_source_of_its_values(
    contact_form: CaptureForm, clock: time_machine.Traveller
) -> None:
    post_form(contact_form, clock, email="grace@hopper.example", first_name="Grace", company_name="Navy")

    lead = Lead.objects.get()
    assert {name: entry["source"] for name, entry in lead.field_sources.items()} == {
        "email": "person",
        "first_name": "person",
        "company_name": "person",
    }


# --- The person proves the address -----------------------------------------------------------------


def confirm(submission: Submission) -> None:
    response = Client().post(reverse("leads:confirm", args=[tokens.confirm_token(submission_id=submission.pk)]))
    assert response.status_code == 200


PHONE_ONLY = {"phone": "+442071838750", "first_name": "Ada", "company_name": "Acme"}


def test_a_public_form_found_by_phone_alone_proposes_its_email_instead_of_filling_it(
    contact_form: CaptureForm, clock: time_machine.Traveller
) -> None:
    lead = LeadFactory(email=None, **PHONE_ONLY)

    post_form(contact_form, clock, email="eve@evil.example", phone="+44 20 7183 8750", company_name="Evil Corp")

    lead.refresh_from_db()
    assert (lead.email, lead.company_name) == (None, "Acme")
    assert open_proposals(lead) == {"email": "eve@evil.example", "company_name": "Evil Corp"}
    assert Submission.objects.get().lead == lead


def test_a_double_opt_in_found_by_phone_alone_mails_nobody_and_verifies_nothing(
    double_opt_in_form: CaptureForm,
    clock: time_machine.Traveller,
    mailoutbox: list,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    lead = LeadFactory(email=None, job_title="CFO", **PHONE_ONLY)

    with django_capture_on_commit_callbacks(execute=True):
        post_form(double_opt_in_form, clock, email="eve@evil.example", phone="+442071838750", job_title="Student")

    assert mailoutbox == []
    lead.refresh_from_db()
    assert (lead.email, lead.job_title) == (None, "CFO")


def test_a_stranger_with_the_phone_of_a_lead_that_withdrew_cannot_restore_its_consent(
    contact_form: CaptureForm,
    clock: time_machine.Traveller,
    mailoutbox: list,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    lead = LeadFactory(email=None, **PHONE_ONLY)
    ConsentFactory(lead=lead)
    services.withdraw_consents(lead=lead, now=timezone.now() - timedelta(days=1), source="link")

    with django_capture_on_commit_callbacks(execute=True):
        post_form(contact_form, clock, email="eve@evil.example", phone="+442071838750")

    assert mailoutbox == []
    assert not Lead.objects.prefetch_related("consents").get(pk=lead.pk).has_usable_consent


def test_an_import_found_by_phone_still_fills_the_email(contact_form: CaptureForm) -> None:
    lead = LeadFactory(email=None, **PHONE_ONLY)

    services.capture_lead(
        details=services.LeadDetails(email="ada@acme.example", phone="+442071838750"),
        consent=None,
        activity_kind=ActivityKind.FORM_SUBMITTED,
        now=timezone.now(),
        value_source=merge.Source.IMPORT,
    )

    lead.refresh_from_db()
    assert lead.email == "ada@acme.example"


def test_a_confirmed_double_opt_in_submission_replaces_what_the_person_typed_before(
    double_opt_in_form: CaptureForm, sql_lead: Lead, clock: time_machine.Traveller
) -> None:
    post_form(double_opt_in_form, clock, email="ada@acme.example", job_title="CTO", company_name="Acme Ltd")
    assert known_values(sql_lead)["job_title"] == "Head of Marketing"  # not before the person confirms

    confirm(Submission.objects.get())

    sql_lead.refresh_from_db()
    assert (sql_lead.job_title, sql_lead.company_name) == ("CTO", "Acme Ltd")
    assert sql_lead.field_sources["job_title"]["source"] == "person_verified"
    assert open_proposals(sql_lead) == {}


def test_a_confirmed_submission_does_not_replace_a_value_staff_set(
    double_opt_in_form: CaptureForm, sql_lead: Lead, clock: time_machine.Traveller
) -> None:
    Lead.objects.filter(pk=sql_lead.pk).update(field_sources={"job_title": {"source": "staff", "at": "2026-01-01"}})
    post_form(double_opt_in_form, clock, email="ada@acme.example", job_title="CTO")

    confirm(Submission.objects.get())

    assert known_values(sql_lead)["job_title"] == "Head of Marketing"
    assert open_proposals(sql_lead) == {"job_title": "CTO"}


def test_an_unconfirmed_double_opt_in_submission_replaces_nothing(
    double_opt_in_form: CaptureForm, sql_lead: Lead, clock: time_machine.Traveller
) -> None:
    post_form(double_opt_in_form, clock, **ATTACK)

    assert known_values(sql_lead) == KNOWN


# --- Staff in admin --------------------------------------------------------------------------------


def admin_change(lead: Lead, user: object, **changes: str) -> Any:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    url = reverse("admin:leads_lead_change", args=[lead.pk])
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name in form.fields}
    data = {**data, "custom_answers": json.dumps(lead.custom_answers), **changes}
    for prefix in ("consents", "touches", "activities", "stage_changes"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    return client.post(url, data)


def test_a_marketers_edit_in_admin_records_staff_as_the_source(marketer: object) -> None:
    lead = LeadFactory(job_title="Head of Marketing")

    response = admin_change(lead, marketer, job_title="CMO")

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    lead.refresh_from_db()
    assert lead.job_title == "CMO"
    assert lead.field_sources["job_title"]["source"] == "staff"


def test_a_value_staff_set_is_kept_against_a_later_public_form(
    contact_form: CaptureForm, marketer: object, clock: time_machine.Traveller
) -> None:
    lead = LeadFactory(email="ada@acme.example", job_title="")
    admin_change(lead, marketer, job_title="CMO")

    post_form(contact_form, clock, email="ada@acme.example", job_title="Student")

    lead.refresh_from_db()
    assert lead.job_title == "CMO"
    assert open_proposals(lead) == {"job_title": "Student"}


def test_the_lead_admin_shows_the_proposed_changes_with_accept_and_dismiss(
    contact_form: CaptureForm, sql_lead: Lead, marketer: object, clock: time_machine.Traveller
) -> None:
    post_form(contact_form, clock, email="ada@acme.example", company_name="Evil Corp")
    client = Client()
    client.force_login(marketer)  # type: ignore[arg-type]

    html = client.get(reverse("admin:leads_lead_change", args=[sql_lead.pk])).content.decode()

    change = ProposedChange.objects.get()
    assert "Evil Corp" in html
    assert reverse("admin:leads_lead_decide_change", args=[sql_lead.pk, change.pk, "accept"]) in html
    assert reverse("admin:leads_lead_decide_change", args=[sql_lead.pk, change.pk, "dismiss"]) in html


def test_the_lead_admin_shows_them_without_buttons_to_who_may_only_view_leads(
    contact_form: CaptureForm, sql_lead: Lead, clock: time_machine.Traveller
) -> None:
    post_form(contact_form, clock, email="ada@acme.example", company_name="Evil Corp")
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_lead", content_type__app_label="leads"))
    client = Client()
    client.force_login(viewer)

    html = client.get(reverse("admin:leads_lead_change", args=[sql_lead.pk])).content.decode()

    change = ProposedChange.objects.get()
    assert "Evil Corp" in html
    assert reverse("admin:leads_lead_decide_change", args=[sql_lead.pk, change.pk, "accept"]) not in html


def test_accepting_in_admin_applies_the_value_as_staffs(
    contact_form: CaptureForm, sql_lead: Lead, marketer: object, clock: time_machine.Traveller
) -> None:
    post_form(contact_form, clock, email="ada@acme.example", company_name="Acme Ltd")
    change = ProposedChange.objects.get()
    client = Client()
    client.force_login(marketer)  # type: ignore[arg-type]

    response = client.post(reverse("admin:leads_lead_decide_change", args=[sql_lead.pk, change.pk, "accept"]))

    assert response.status_code == 302
    sql_lead.refresh_from_db()
    assert sql_lead.company_name == "Acme Ltd"
    assert sql_lead.field_sources["company_name"]["source"] == "staff"
    change.refresh_from_db()
    assert (change.status, change.decided_by) == (ProposedChangeStatus.ACCEPTED, marketer)


def test_dismissing_in_admin_leaves_the_value(
    contact_form: CaptureForm, sql_lead: Lead, marketer: object, clock: time_machine.Traveller
) -> None:
    post_form(contact_form, clock, email="ada@acme.example", company_name="Evil Corp")
    change = ProposedChange.objects.get()
    client = Client()
    client.force_login(marketer)  # type: ignore[arg-type]

    client.post(reverse("admin:leads_lead_decide_change", args=[sql_lead.pk, change.pk, "dismiss"]))

    assert known_values(sql_lead)["company_name"] == "Acme"
    change.refresh_from_db()
    assert change.status == ProposedChangeStatus.DISMISSED


def test_a_manager_who_may_only_view_leads_cannot_decide_in_admin(
    contact_form: CaptureForm, sql_lead: Lead, manager: object, clock: time_machine.Traveller
) -> None:
    post_form(contact_form, clock, email="ada@acme.example", company_name="Evil Corp")
    change = ProposedChange.objects.get()
    client = Client()
    client.force_login(manager)  # type: ignore[arg-type]

    response = client.post(reverse("admin:leads_lead_decide_change", args=[sql_lead.pk, change.pk, "accept"]))

    assert response.status_code in (403, 404)  # 404 where admin scopes the leads by the manager's teams
    assert known_values(sql_lead)["company_name"] == "Acme"


def test_deciding_in_admin_refuses_get(sql_lead: Lead, marketer: object) -> None:
    change = ProposedChange.objects.create(
        lead=sql_lead, field="company_name", value="X", created_at=sql_lead.created_at
    )
    client = Client()
    client.force_login(marketer)  # type: ignore[arg-type]

    response = client.get(reverse("admin:leads_lead_decide_change", args=[sql_lead.pk, change.pk, "accept"]))

    assert response.status_code == 405


def test_a_user_without_admin_access_cannot_decide(sql_lead: Lead) -> None:
    change = ProposedChange.objects.create(
        lead=sql_lead, field="company_name", value="X", created_at=sql_lead.created_at
    )
    client = Client()
    client.force_login(UserFactory())

    response = client.post(reverse("admin:leads_lead_decide_change", args=[sql_lead.pk, change.pk, "accept"]))

    assert response.status_code == 302  # to the admin login
    assert known_values(sql_lead)["company_name"] == "Acme"


# --- Data subject requests -------------------------------------------------------------------------


def test_an_export_includes_the_proposed_changes(
    contact_form: CaptureForm, sql_lead: Lead, clock: time_machine.Traveller
) -> None:
    post_form(contact_form, clock, email="ada@acme.example", company_name="Evil Corp")

    data = services.lead_personal_data(lead=sql_lead)

    assert [(row["field"], row["value"]) for row in data["proposed_changes"]] == [("company_name", "Evil Corp")]


def test_erasing_the_lead_deletes_its_proposed_changes(
    contact_form: CaptureForm, sql_lead: Lead, marketer: object, clock: time_machine.Traveller
) -> None:
    post_form(contact_form, clock, email="ada@acme.example", company_name="Evil Corp")

    services.erase_lead_personal_data(lead=sql_lead, now=timezone.now(), by=marketer, reason="Asked by email")  # type: ignore[arg-type]

    assert not ProposedChange.objects.exists()
