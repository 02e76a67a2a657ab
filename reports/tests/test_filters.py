"""The report filters: created date range, form, campaign and team."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.http import QueryDict

from leads.models import ActivityKind, Lead
from leads.tests.factories import ActivityFactory, CaptureFormFactory, LeadFactory, SubmissionFactory
from reports.filters import ReportFilter
from reports.tests.factories import routed_to

pytestmark = pytest.mark.django_db


def filtered(query: str) -> ReportFilter:
    return ReportFilter(QueryDict(query), queryset=Lead.objects.all())


def emails(filters: ReportFilter) -> set[str]:
    return set(filters.qs.values_list("email", flat=True))


def test_the_date_range_includes_both_days() -> None:
    LeadFactory(email="before@acme.example", created_at=datetime(2026, 2, 28, 23, 59, tzinfo=UTC))
    LeadFactory(email="first@acme.example", created_at=datetime(2026, 3, 1, 0, 0, tzinfo=UTC))
    LeadFactory(email="last@acme.example", created_at=datetime(2026, 3, 31, 23, 59, tzinfo=UTC))
    LeadFactory(email="after@acme.example", created_at=datetime(2026, 4, 1, 0, 0, tzinfo=UTC))

    filters = filtered("created_after=2026-03-01&created_before=2026-03-31")

    assert emails(filters) == {"first@acme.example", "last@acme.example"}


def test_the_date_range_reaches_the_other_reports() -> None:
    scope = filtered("created_after=2026-03-01&created_before=2026-03-31").scope(period="week", volume_by="channel")

    # created_to is None only for an open-ended range; this one has an end.
    assert (scope.created_from, scope.created_to.date(), scope.is_filtered) == (  # type: ignore[union-attr]
        datetime(2026, 3, 1, tzinfo=UTC),
        datetime(2026, 3, 31).date(),
        True,
    )


def test_the_form_filter_finds_leads_by_their_submissions() -> None:
    form = CaptureFormFactory(slug="state-of-b2b")
    SubmissionFactory(form=form, lead=LeadFactory(email="submitted@acme.example"))
    SubmissionFactory(lead=LeadFactory(email="other-form@acme.example"))

    assert emails(filtered("form=state-of-b2b")) == {"submitted@acme.example"}


def test_the_form_filter_finds_leads_by_their_form_submitted_activity() -> None:
    CaptureFormFactory(slug="state-of-b2b")
    lead = LeadFactory(email="recorded@acme.example")
    ActivityFactory(lead=lead, kind=ActivityKind.FORM_SUBMITTED, metadata={"form": "state-of-b2b"})
    ActivityFactory(kind=ActivityKind.FORM_SUBMITTED, metadata={"form": "another"})

    assert emails(filtered("form=state-of-b2b")) == {"recorded@acme.example"}


def test_the_campaign_filter_matches_the_first_touch_campaign() -> None:
    LeadFactory(email="brand@acme.example", first_touch_campaign="brand-search")
    LeadFactory(email="other@acme.example", first_touch_campaign="q3-whitepaper")

    filters = filtered("campaign=brand-search")

    assert emails(filters) == {"brand@acme.example"}
    assert filters.scope(period="week", volume_by="channel").campaign == "brand-search"


def test_the_team_filter_matches_the_routing_team() -> None:
    routed_to(LeadFactory(email="mid@acme.example"), "mid-market")
    routed_to(LeadFactory(email="ent@acme.example"), "enterprise")

    assert emails(filtered("team=enterprise")) == {"ent@acme.example"}


def test_no_filters_mean_every_lead_and_an_unfiltered_scope() -> None:
    LeadFactory.create_batch(2)

    filters = filtered("")

    assert filters.qs.count() == 2
    assert filters.scope(period="week", volume_by="channel").is_filtered is False


def test_an_invalid_date_is_an_error_not_a_filter() -> None:
    LeadFactory()

    filters = filtered("created_after=yesterday")

    assert filters.qs.count() == 1
    assert "created" in filters.form.errors
