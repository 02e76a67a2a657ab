"""The leads app's part of a data subject request (GDPR art. 15, 17 and 20): its records exported and erased.

The whole request, every app in one transaction, and its admin actions: integrations/tests/test_privacy*.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse

from leads import services
from leads.enrichment import services as enrichment
from leads.events import lead_event
from leads.models import (
    Activity,
    ActivityKind,
    CompanyDirectoryEntry,
    Consent,
    EnrichmentStatus,
    ImportedLead,
    ImportEvent,
    Lead,
    LeadImport,
    ProviderRun,
    Stage,
    StageChange,
    Submission,
    Touch,
)
from leads.tests.factories import (
    FIXED_NOW,
    ActivityFactory,
    CaptureFormFactory,
    ConsentFactory,
    LeadFactory,
    SubmissionFactory,
)
from tests.personas import client_for

pytestmark = pytest.mark.django_db

LATER = FIXED_NOW + timedelta(days=30)
CONSENT_TEXT = "Yes, Acme may email me about its products. I can withdraw this at any time."
# What the person told us or what identifies them; none of it may survive an erasure anywhere.
PERSONAL = (
    "ada@acme.example",
    "+447700900123",
    "Lovelace",
    "Head of Marketing",
    "203.0.113.9",
    "Firefox/123",
    "gclid-4711",
    "zoom-attendee-99",
    "Spoke to her assistant",
    "11-50 people",
)


@pytest.fixture
def lead(marketer: object) -> Lead:
    """An MQL with something of each kind of personal data the leads app holds."""
    lead = LeadFactory(
        email="ada@acme.example", phone="+447700900123", first_name="Ada", last_name="Lovelace",
        job_title="Head of Marketing", custom_answers={"team_size": "11-50 people"}, stage=Stage.MQL,
        score=70, fit_score=40, engagement_score=30, first_touch_source="linkedin", first_touch_channel="paid_social",
        score_breakdown=[{"rule_id": 1, "name": "Senior", "points": 40, "reason": "Job title: Head of Marketing"}],
    )  # fmt: skip
    consent = ConsentFactory(lead=lead, text=CONSENT_TEXT, ip_address="203.0.113.9")
    SubmissionFactory(
        lead=lead, consent=consent, ip_address="203.0.113.9", user_agent="Mozilla/5.0 Firefox/123",
        payload={"email": "ada@acme.example", "first_name": "Ada", "team_size": "11-50 people"},
        attribution={"utm_source": "linkedin", "utm_campaign": "q1-ebook", "gclid": "gclid-4711",
                     "landing_page": "https://www.acme.example/ebook?email=ada@acme.example#top"},
    )  # fmt: skip
    Touch.objects.create(
        lead=lead, occurred_at=FIXED_NOW, source="linkedin", medium="cpc", campaign="q1-ebook", channel="paid_social",
        click_id="gclid-4711", referrer="https://news.example/article?reader=ada@acme.example",
        landing_page="https://user:pw@www.acme.example:8443/ebook?email=ada@acme.example",
    )  # fmt: skip
    CaptureFormFactory(slug="state-of-b2b")
    ActivityFactory(lead=lead, kind=ActivityKind.FORM_SUBMITTED, metadata={"form": "state-of-b2b", "submission": 7})
    ActivityFactory(lead=lead, metadata={"external_id": "zoom-attendee-99", "email": "ada@acme.example"})
    StageChange.objects.create(
        lead=lead, from_stage=Stage.NEW, to_stage=Stage.MQL, changed_at=FIXED_NOW, reason="Score 70 reached the MQL"
    )
    StageChange.objects.create(
        lead=lead, from_stage=Stage.MQL, to_stage=Stage.NURTURE, changed_at=FIXED_NOW, changed_by=marketer,
        reason="Spoke to her assistant",
    )  # fmt: skip
    return lead


@pytest.fixture
def heard() -> Iterator[list[dict[str, Any]]]:
    """The lead events sent, as the webhooks receive them."""
    received: list[dict[str, Any]] = []

    def listen(sender: object, *, signal: object, **kwargs: Any) -> None:
        received.append(kwargs)

    lead_event.connect(listen, dispatch_uid="test_erasure")
    yield received
    lead_event.disconnect(dispatch_uid="test_erasure")


def erase(lead: Lead, by: object, *, now: object = LATER) -> None:
    services.erase_lead_personal_data(lead=lead, now=now, by=by, reason="Erasure request by email, ticket 1234")  # type: ignore[arg-type]


# --- Export ---------------------------------------------------------------------------------------------


def test_export_holds_each_consent_with_its_exact_text(lead: Lead) -> None:
    data = services.lead_personal_data(lead=lead)

    assert [(c["text"], c["ip_address"]) for c in data["consents"]] == [(CONSENT_TEXT, "203.0.113.9")]


def test_export_holds_the_submissions_with_their_answers_and_form(lead: Lead) -> None:
    data = services.lead_personal_data(lead=lead)

    [submission] = data["submissions"]
    assert submission["payload"]["team_size"] == "11-50 people"
    assert (submission["form"], submission["user_agent"]) == (
        lead.submissions.get().form.name,
        "Mozilla/5.0 Firefox/123",
    )


def test_export_holds_the_lead_touches_activities_and_stage_changes(lead: Lead) -> None:
    data = services.lead_personal_data(lead=lead)

    assert (data["lead"]["email"], data["lead"]["custom_answers"]) == (
        "ada@acme.example",
        {"team_size": "11-50 people"},
    )
    assert [touch["click_id"] for touch in data["touches"]] == ["gclid-4711"]
    assert len(data["activities"]) == 2
    assert [change["reason"] for change in data["stage_changes"]] == [
        "Score 70 reached the MQL",
        "Spoke to her assistant",
    ]


# --- Erasure: what goes ---------------------------------------------------------------------------------


def test_erase_blanks_who_the_person_is(lead: Lead, marketer: object) -> None:
    erase(lead, marketer)

    lead = Lead.objects.get(pk=lead.pk)
    values = (lead.email, lead.phone, lead.first_name, lead.last_name, lead.job_title, lead.custom_answers)
    assert values == (None, "", "", "", "", {})
    assert lead.erased_at == LATER


def test_erase_blanks_the_score_reasons_and_keeps_the_points(lead: Lead, marketer: object) -> None:
    erase(lead, marketer)

    lead = Lead.objects.get(pk=lead.pk)
    assert lead.score_breakdown == [{"rule_id": 1, "name": "Senior", "points": 40, "reason": ""}]
    assert (lead.score, lead.fit_score, lead.engagement_score) == (70, 40, 30)


def test_erase_blanks_submission_answers_ip_and_browser_and_keeps_the_campaign(lead: Lead, marketer: object) -> None:
    erase(lead, marketer)

    submission = Submission.objects.get(lead=lead)
    assert (submission.payload, submission.ip_address, submission.user_agent) == ({}, None, "")
    assert submission.attribution == {
        "utm_source": "linkedin",
        "utm_campaign": "q1-ebook",
        "landing_page": "https://www.acme.example/ebook",
    }


def test_erase_keeps_each_consent_as_proof_without_its_ip_address(lead: Lead, marketer: object) -> None:
    erase(lead, marketer)

    consent = Consent.objects.get(lead=lead)
    assert (consent.text, consent.legal_basis, consent.given_at, consent.ip_address) == (
        CONSENT_TEXT,
        "opt_in",
        FIXED_NOW,
        None,
    )


def test_erase_strips_addresses_to_their_path_and_keeps_the_touch_attribution(lead: Lead, marketer: object) -> None:
    erase(lead, marketer)

    touch = Touch.objects.get(lead=lead)
    assert (touch.referrer, touch.landing_page, touch.click_id) == (
        "https://news.example/article",
        "https://www.acme.example:8443/ebook",
        "",
    )
    assert (touch.source, touch.medium, touch.campaign, touch.channel) == ("linkedin", "cpc", "q1-ebook", "paid_social")


def test_erase_clears_activity_metadata_but_the_form_reports_filter_on(lead: Lead, marketer: object) -> None:
    erase(lead, marketer)

    metadata = dict(Activity.objects.filter(lead=lead).values_list("kind", "metadata"))
    assert metadata[ActivityKind.FORM_SUBMITTED] == {"form": "state-of-b2b", "submission": 7}
    assert metadata[ActivityKind.WEBINAR_ATTENDED] == {}


def test_erase_clears_what_another_system_sent_under_the_apps_own_metadata_keys(lead: Lead, marketer: object) -> None:
    sent = {"source": "Referred by her husband Byron", "form": "ada@acme.example", "consents": "Ada"}
    activity = ActivityFactory(lead=lead, kind=ActivityKind.FORM_SUBMITTED, metadata=sent)

    erase(lead, marketer)

    activity.refresh_from_db()
    assert activity.metadata == {}


def test_erase_clears_the_values_enrichment_kept_against_a_provider(lead: Lead, marketer: object) -> None:
    conflict = {"provider": "People API", "value": "VP Sales", "kept": "Head of Marketing", "kept_source": "person"}
    Lead.objects.filter(pk=lead.pk).update(enrichment_conflicts={"job_title": conflict})

    erase(lead, marketer)

    assert Lead.objects.get(pk=lead.pk).enrichment_conflicts == {}


def test_erase_clears_the_role_enrichment_read_from_the_job_title_and_its_provenance(
    lead: Lead, marketer: object
) -> None:
    found = {"provider": "Job title", "confidence": 0.8, "at": FIXED_NOW.isoformat()}
    company = {"provider": "Directory", "confidence": 0.9, "at": FIXED_NOW.isoformat()}
    Lead.objects.filter(pk=lead.pk).update(
        seniority="director", job_function="marketing", email_domain_kind="company", industry="Software",
        enrichment_sources={"seniority": found, "job_function": found, "email_domain_kind": found,
                            "job_title": found, "industry": company},
    )  # fmt: skip

    erase(lead, marketer)

    lead = Lead.objects.get(pk=lead.pk)
    assert (lead.seniority, lead.job_function, lead.email_domain_kind) == ("", "", "")
    assert (lead.industry, lead.enrichment_sources) == ("Software", {"industry": company})


def test_erase_drops_who_set_the_erased_values_and_keeps_who_set_the_company(lead: Lead, marketer: object) -> None:
    at = FIXED_NOW.isoformat()
    Lead.objects.filter(pk=lead.pk).update(
        field_sources={"first_name": {"source": "person", "at": at}, "job_title": {"source": "staff", "at": at},
                       "custom_answers.team_size": {"source": "person", "at": at},
                       "company_name": {"source": "import", "at": at}},
    )  # fmt: skip

    erase(lead, marketer)

    assert Lead.objects.get(pk=lead.pk).field_sources == {"company_name": {"source": "import", "at": at}}


def test_erase_clears_the_values_an_import_kept_for_its_undo(lead: Lead, marketer: object) -> None:
    event = ImportEvent.objects.create(name="Expo", source="expo-2026", notice="n")
    batch = LeadImport.objects.create(event=event, file_name="scans.csv", created_at=FIXED_NOW)
    ImportedLead.objects.create(
        batch=batch, lead=lead, is_new=False, row=2, previous={"job_title": "Head of Marketing"},
        imported={"job_title": "CMO", "phone": "+447700900123"},
    )  # fmt: skip

    erase(lead, marketer)

    assert ImportedLead.objects.values_list("previous", "imported").get() == ({}, {})


def test_erase_keeps_the_stage_history_and_blanks_what_people_wrote(lead: Lead, marketer: object) -> None:
    erase(lead, marketer)

    history = list(StageChange.objects.filter(lead=lead).order_by("id").values_list("from_stage", "to_stage", "reason"))
    assert history == [
        (Stage.NEW, Stage.MQL, "Score 70 reached the MQL"),
        (Stage.MQL, Stage.NURTURE, ""),
        (Stage.MQL, Stage.DISQUALIFIED, services.ERASURE_REASON),
    ]


def test_erase_renames_the_lead_in_the_admin_history(lead: Lead, marketer: object) -> None:
    content_type = ContentType.objects.get_for_model(Lead)
    LogEntry.objects.create(
        user=marketer, content_type=content_type, object_id=str(lead.pk), object_repr=str(lead), action_flag=CHANGE
    )

    erase(lead, marketer)

    assert LogEntry.objects.get().object_repr == f"Lead #{lead.pk}"


def test_export_holds_the_audit_history_with_earlier_values(lead: Lead) -> None:
    lead.phone = "+447700900999"
    lead.save(update_fields=["phone"])

    history = services.lead_personal_data(lead=lead)["history"]

    assert history[-1]["changes"]["phone"] == ["+447700900123", "+447700900999"]


def test_an_erased_lead_exports_none_of_the_person_s_data(lead: Lead, marketer: object) -> None:
    erase(lead, marketer)

    exported = json.dumps(services.lead_personal_data(lead=lead), cls=DjangoJSONEncoder)

    assert [value for value in PERSONAL if value in exported] == []


# --- Erasure: processing ends, and it is recorded ------------------------------------------------------------


def test_erase_withdraws_every_consent_and_disqualifies_a_lead_marketing_works(lead: Lead, marketer: object) -> None:
    erase(lead, marketer)

    lead = Lead.objects.get(pk=lead.pk)
    assert (lead.stage, lead.has_usable_consent) == (Stage.DISQUALIFIED, False)


def test_erase_leaves_the_stage_sales_gave_the_lead(marketer: object) -> None:
    lead = LeadFactory(stage=Stage.SQL)

    erase(lead, marketer)

    assert Lead.objects.get(pk=lead.pk).stage == Stage.SQL


def test_erase_tells_webhook_subscribers_the_consents_were_withdrawn(
    lead: Lead, marketer: object, heard: list[dict[str, Any]], django_capture_on_commit_callbacks: Callable
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        erase(lead, marketer)

    assert [(event["event"], event["data"]) for event in heard] == [
        ("lead.consent_withdrawn", {"source": "erasure", "consents": 1})
    ]


def test_erase_records_who_erased_and_why_and_nothing_about_the_person(lead: Lead, marketer: object) -> None:
    erase(lead, marketer)

    activity = Activity.objects.get(lead=lead, kind=ActivityKind.DATA_ERASED)
    assert (activity.occurred_at, activity.metadata) == (
        LATER,
        {"by": marketer.pk, "reason": "Erasure request by email, ticket 1234"},  # type: ignore[attr-defined]
    )


def test_erase_needs_a_reason(lead: Lead, marketer: object) -> None:
    with pytest.raises(ValidationError):
        services.erase_lead_personal_data(lead=lead, now=LATER, by=marketer, reason="  ")  # type: ignore[arg-type]

    assert Lead.objects.get(pk=lead.pk).erased_at is None


def test_erasing_twice_changes_nothing_more(lead: Lead, marketer: object) -> None:
    erase(lead, marketer)
    first = services.lead_personal_data(lead=lead)

    erase(lead, marketer, now=LATER + timedelta(days=1))

    assert services.lead_personal_data(lead=lead) == first


def test_the_person_coming_back_after_erasure_is_a_new_lead(lead: Lead, marketer: object) -> None:
    erase(lead, marketer)

    result = services.capture_lead(
        details=services.LeadDetails(email="Ada@Acme.example"), consent=None, activity_kind="imported", now=LATER
    )

    assert result.is_new
    assert result.lead.pk != lead.pk


# --- Admin ----------------------------------------------------------------------------------------------


def test_an_erased_lead_cannot_be_filled_in_again_in_admin(lead: Lead, marketer: object) -> None:
    erase(lead, marketer)

    response = client_for(marketer).get(reverse("admin:leads_lead_change", args=[lead.pk]))

    assert response.status_code == 200
    assert b'name="email"' not in response.content
    assert b'name="first_name"' not in response.content


# --- Erasure: enrichment stops ------------------------------------------------------------------------------


def test_erase_cancels_the_enrichment_retry_and_the_pipeline_work_it_had_due(lead: Lead, marketer: object) -> None:
    retry_at = LATER + timedelta(minutes=30)
    Lead.objects.filter(pk=lead.pk).update(
        enrichment_status=EnrichmentStatus.PARTIAL, enrichment_retry_at=retry_at, pipeline_due_at=retry_at
    )

    erase(lead, marketer)

    assert Lead.objects.filter(pk=lead.pk).values_list("enrichment_retry_at", "pipeline_due_at").get() == (None, None)


@pytest.mark.parametrize("batched", [False, True], ids=["one lead", "a batch"])
def test_an_erased_lead_waiting_for_enrichment_calls_no_provider(batched: bool, marketer: object) -> None:
    lead = LeadFactory(phone="+447700900123", email=None, company_domain="acme.example")
    assert lead.enrichment_status == EnrichmentStatus.PENDING
    erase(lead, marketer)

    if batched:
        enrichment.enrich_leads(lead_ids=[lead.pk], now=LATER)
    else:
        enrichment.enrich_lead(lead_id=lead.pk, now=LATER)

    assert not ProviderRun.objects.filter(lead=lead).exists()


@pytest.mark.parametrize("batched", [False, True], ids=["one lead", "a batch"])
def test_what_providers_found_for_a_lead_erased_while_they_ran_is_not_saved(
    batched: bool, marketer: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    CompanyDirectoryEntry.objects.create(domain="acme.example", name="Acme Analytics", employee_count=2500)
    # A phone-only lead with no job title: erasure changes none of the values the providers read.
    lead = LeadFactory(
        phone="+447700900123", email=None, job_title="", company_name="", company_domain="acme.example", country=""
    )
    real_run_providers = enrichment._run_providers

    def erased_meanwhile(lead: Lead, **kwargs: Any) -> Any:
        runs = real_run_providers(lead, **kwargs)
        erase(Lead.objects.get(pk=lead.pk), marketer)
        return runs

    monkeypatch.setattr(enrichment, "_run_providers", erased_meanwhile)

    if batched:
        enrichment.enrich_leads(lead_ids=[lead.pk], now=LATER)
    else:
        enrichment.enrich_lead(lead_id=lead.pk, now=LATER)

    assert Lead.objects.filter(pk=lead.pk).values_list("company_name", "employee_count").get() == ("", None)
    assert not ProviderRun.objects.filter(lead=lead).exists()
