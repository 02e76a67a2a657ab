"""The lead page reads a lead's whole history in a fixed number of queries and shows every kind of it."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from handoff import services
from handoff.models import Assignment, ContactKind
from leads.models import ProposedChange, ProviderRun, ProviderRunStatus, Stage, StageChange, Touch
from leads.tests.factories import ActivityFactory, ConsentFactory
from tests.personas import client_for

pytestmark = pytest.mark.django_db


def lead_url(assignment: Assignment) -> str:
    return reverse("handoff:lead", args=[assignment.lead_id])


def add_history(assignment: Assignment, rep: object, now: datetime, count: int) -> None:
    """``count`` of every kind of history the lead page reads, the activities and runs past their page limits."""
    lead = assignment.lead
    for step in range(count):
        at = now + timedelta(minutes=step)
        Touch.objects.create(lead=lead, occurred_at=at, source="google", medium="cpc", landing_page="/pricing")
        ConsentFactory(lead=lead)
        StageChange.objects.create(lead=lead, from_stage=Stage.NEW, to_stage=Stage.MQL, changed_at=at, changed_by=rep)
        services.log_contact(assignment=assignment, rep=rep, kind=ContactKind.CALL, note=f"Call {step}", now=at)
        follow_up = services.add_follow_up(lead=lead, rep=rep, due_at=at + timedelta(days=1), note="Call", now=at)
        services.complete_follow_up(follow_up=follow_up, now=at)
        ProposedChange.objects.create(lead=lead, field="company_name", value=f"Acme {step}", created_at=at)
    for _ in range(count * 10):
        ActivityFactory(lead=lead)
        ProviderRun.objects.create(
            lead=lead, provider_name="Clearbit", status=ProviderRunStatus.OK, fields_set=["industry"], started_at=now
        )


def queries_of(client: object, url: str) -> int:
    client.get(url)  # type: ignore[attr-defined]  # per-process caches (calendars, zone options) are warm
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)  # type: ignore[attr-defined]
    assert response.status_code == 200
    return len(queries)


def test_the_lead_page_reads_a_long_history_in_as_many_queries_as_a_short_one(
    assignment: Assignment, rep: object, now: datetime
) -> None:
    client = client_for(rep)
    add_history(assignment, rep, now, count=1)
    short = queries_of(client, lead_url(assignment))

    add_history(assignment, rep, now + timedelta(hours=1), count=8)
    long = queries_of(client, lead_url(assignment))

    assert long == short


def test_the_timeline_shows_every_kind_newest_first_in_the_viewers_zone(
    assignment: Assignment, rep: object, now: datetime
) -> None:
    lead = assignment.lead
    services.set_viewer_timezone(user=rep, timezone_name="America/New_York")
    minutes = iter(range(1, 100))

    def later() -> datetime:
        return now + timedelta(minutes=next(minutes))

    StageChange.objects.create(lead=lead, from_stage=Stage.NEW, to_stage=Stage.MQL, changed_at=later(), changed_by=rep)
    services.log_contact(assignment=assignment, rep=rep, kind=ContactKind.MEETING, note="Demo booked", now=later())
    services.add_follow_up(lead=lead, rep=rep, due_at=now + timedelta(days=2), note="Send deck", now=later())
    ActivityFactory(lead=lead, occurred_at=later())
    Touch.objects.create(lead=lead, occurred_at=later(), source="newsletter", medium="email")
    ProviderRun.objects.create(
        lead=lead, provider_name="Clearbit", status=ProviderRunStatus.FAILED, error="Timed out", started_at=later()
    )

    html = client_for(rep).get(lead_url(assignment)).content.decode()

    kinds = re.findall(r'data-testid="timeline-entry" data-kind="([a-z_]+)"', html)
    newest_first = ["enrichment", "touch", "activity", "follow_up", "contact", "stage"]
    assert sorted(newest_first, key=kinds.index) == newest_first
    assert "Enrichment: Clearbit — Failed" in html and "Timed out" in html
    assert "Meeting logged" in html and "Demo booked" in html
    assert "Stage New → Marketing-qualified (MQL)" in html
    assert "Visit from newsletter / email" in html
    # 10:06 in London in March is 05:06 in New York.
    assert '<time class="text-body-secondary text-nowrap" datetime="2026-03-02T05:06:00-05:00">' in html


def test_the_lead_page_lists_only_the_newest_activities_and_enrichment_runs(
    assignment: Assignment, rep: object, now: datetime
) -> None:
    for minute in range(60):
        ActivityFactory(lead=assignment.lead, occurred_at=now - timedelta(minutes=minute))
        ProviderRun.objects.create(
            lead=assignment.lead, provider_name="Clearbit", status=ProviderRunStatus.EMPTY, started_at=now
        )

    html = client_for(rep).get(lead_url(assignment)).content.decode()

    assert html.count('data-kind="activity"') == 50
    assert html.count('data-kind="enrichment"') == 20


def test_the_lead_page_shows_open_follow_ups_by_due_time_and_not_done_ones(
    assignment: Assignment, rep: object, now: datetime
) -> None:
    lead = assignment.lead
    later = services.add_follow_up(lead=lead, rep=rep, due_at=now + timedelta(days=3), note="Second call", now=now)
    services.add_follow_up(lead=lead, rep=rep, due_at=now + timedelta(days=1), note="First call", now=now)
    done = services.add_follow_up(lead=lead, rep=rep, due_at=now + timedelta(days=2), note="Finished one", now=now)
    services.complete_follow_up(follow_up=done, now=now)

    html = client_for(rep).get(lead_url(assignment)).content.decode()

    listed = re.findall(r'data-testid="follow-up">\s*<span>([^<]+)<br>', html)
    assert listed == ["First call", "Second call"]
    assert reverse("handoff:complete_follow_up", args=[later.pk]) in html


def test_an_invalid_action_shows_its_error_tied_to_the_field(assignment: Assignment, rep: object) -> None:
    response = client_for(rep).post(reverse("handoff:reject", args=[assignment.lead_id]), {"reject-reason": ""})

    html = response.content.decode()
    assert response.status_code == 400
    assert '<label for="id_reject-reason" class="form-label requiredField">' in html
    assert 'aria-invalid="true" aria-describedby="id_reject-reason_helptext id_reject-reason_error"' in html
    assert '<div id="id_reject-reason_error" class="invalid-feedback">' in html
    assert "This field is required." in html
    assert re.search(r"<details class=\"mb-2\" open>\s*<summary[^>]*>Reject", html)
