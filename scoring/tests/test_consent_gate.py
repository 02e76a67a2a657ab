"""No lead goes to sales without a usable consent: a pending double opt-in or a withdrawn consent holds it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from leads import submissions
from leads.models import Consent, ConsentStatus, Lead, Stage
from leads.tests.factories import ConsentFactory, LeadFactory, SubmissionFactory
from scoring import services
from scoring.admin import LeadMissingMqlFieldsAdmin
from scoring.models import LeadMissingMqlFields, ScoringModel
from scoring.selectors import leads_missing_mql_fields
from scoring.tests.factories import ScoringRuleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def icp_rule(scoring_model: ScoringModel) -> None:
    """70 points for a software company: over the MQL threshold (60) on fit alone."""
    ScoringRuleFactory(
        scoring_model=scoring_model, name="ICP industry", kind="attribute_in", points=70,
        params={"field": "industry", "values": ["Software"]},
    )  # fmt: skip


def lead_with_consents(*statuses: str, withdrawn: bool = False) -> Lead:
    lead = LeadFactory(industry="Software")
    for status in statuses:
        ConsentFactory(lead=lead, status=status, withdrawn_at=lead.created_at if withdrawn else None)
    return lead


def stage_after_scoring(lead: Lead, now: datetime) -> str:
    services.score_lead(lead_id=lead.pk, now=now)
    lead.refresh_from_db()
    return lead.stage


@pytest.mark.usefixtures("icp_rule")
def test_a_lead_awaiting_double_opt_in_is_held_from_mql(now: datetime) -> None:
    lead = lead_with_consents(ConsentStatus.PENDING)

    assert stage_after_scoring(lead, now) == Stage.NEW
    assert list(leads_missing_mql_fields().values_list("pk", flat=True)) == [lead.pk]


@pytest.mark.usefixtures("icp_rule")
def test_a_lead_whose_consent_was_withdrawn_is_held_from_mql(now: datetime) -> None:
    lead = lead_with_consents(ConsentStatus.CONFIRMED, withdrawn=True)

    assert stage_after_scoring(lead, now) == Stage.NEW


@pytest.mark.usefixtures("icp_rule")
def test_one_usable_consent_among_pending_ones_is_enough(now: datetime) -> None:
    lead = lead_with_consents(ConsentStatus.PENDING)
    ConsentFactory(lead=lead, status=ConsentStatus.CONFIRMED)

    assert stage_after_scoring(lead, now) == Stage.MQL


@pytest.mark.usefixtures("icp_rule")
def test_rescoring_in_bulk_holds_a_lead_awaiting_double_opt_in_too(now: datetime) -> None:
    held = lead_with_consents(ConsentStatus.PENDING)
    passed = lead_with_consents(ConsentStatus.CONFIRMED)

    result = services.rescore_all(now=now)

    assert result.to_mql == 1
    assert dict(Lead.objects.filter(pk__in=[held.pk, passed.pk]).values_list("pk", "stage")) == {
        held.pk: Stage.NEW,
        passed.pk: Stage.MQL,
    }


@pytest.mark.usefixtures("icp_rule")
def test_the_held_list_says_the_consent_is_missing(now: datetime, rf: pytest.FixtureRequest) -> None:
    lead = lead_with_consents(ConsentStatus.PENDING)
    services.score_lead(lead_id=lead.pk, now=now)
    model_admin = LeadMissingMqlFieldsAdmin(LeadMissingMqlFields, admin_site=None)  # type: ignore[arg-type]

    row = model_admin.get_queryset(rf.get("/")).get(pk=lead.pk)  # type: ignore[attr-defined]

    assert model_admin.missing(row) == "A usable consent (double opt-in confirmed, not withdrawn)"


@pytest.mark.usefixtures("icp_rule")
def test_confirming_the_double_opt_in_passes_the_held_lead_on(
    now: datetime, django_capture_on_commit_callbacks: Callable
) -> None:
    lead = lead_with_consents()
    consent = ConsentFactory(lead=lead, status=ConsentStatus.PENDING)
    submission = SubmissionFactory(lead=lead, consent=consent)
    assert stage_after_scoring(lead, now) == Stage.NEW

    with django_capture_on_commit_callbacks(execute=True):  # the task queue runs tasks in-process in tests
        submissions.confirm_consent(submission=submission, now=now + timedelta(minutes=5))

    lead.refresh_from_db()
    assert Consent.objects.get(pk=consent.pk).status == ConsentStatus.CONFIRMED
    assert lead.stage == Stage.MQL
